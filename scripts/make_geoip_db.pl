#!/usr/bin/perl
# Writes the small GeoIP2-Country-like database that the demo and the tests use:
# loopback networks mapped to countries, so a gateway on 127.0.0.0/8 can be shown
# routing "Indian", "Chinese", ... clients without real GeoIP data.
#
#   network           record                                     why
#   127.0.0.0/16      (none)                                     127.0.0.1 = location unknown
#   127.1.0.0/16      country IN, registered_country IN
#   127.2.0.0/16      CN
#   127.3.0.0/16      SG
#   127.4.0.0/16      US
#   127.5.0.0/16      BR
#   127.6.0.0/16      DE
#   127.7.0.0/16      JP
#   127.8.0.0/16      GB
#   127.9.0.0/16      AU
#   127.10.0.0/16     {country_code => 'FR'} only                a configurable record path
#   127.11.0.0/16     registered_country NL only                 fallback to registered_country
#   127.12.0.0/16     country EU (not ISO 3166), registered DE   unknown codes fall through
#   127.13.0.0/16     country ZZ only                            a record with no known country
#   127.14.0.0/16     country 'in' (lower case)                  codes are case-insensitive
#   ::1/128           SG
#
# It is an IPv6 tree with IPv4 in ::/96 (as MaxMind's own databases), so both
# 127.x.y.z and ::1 resolve. Two consequences of that layout: ::1 is the same
# tree position as 0.0.0.1 (which therefore also says SG), and the writer's
# aliases make ::ffff:127.1.2.3 and 2002:7f01:203:: resolve like 127.1.2.3.
# Loopback and the other reserved networks are removed by default: keep them.
#
# Regenerate (libmaxmind-db-writer-perl), then commit both outputs:
#   perl scripts/make_geoip_db.pl examples/geoip/demo.mmdb tests/data/geoip/loopback.mmdb
# The build epoch is fixed (or SOURCE_DATE_EPOCH) so the output is reproducible.

use strict;
use warnings;

use MaxMind::DB::Writer::Tree;

die "usage: $0 OUTPUT.mmdb [OUTPUT.mmdb ...]\n" unless @ARGV;

my %names = (
    AU => 'Australia',      BR => 'Brazil',  CN => 'China',
    DE => 'Germany',        GB => 'United Kingdom', IN => 'India',
    JP => 'Japan',          NL => 'Netherlands',    SG => 'Singapore',
    US => 'United States',
);

sub country {
    my ($code) = @_;
    my %c = ( iso_code => $code );
    $c{names} = { en => $names{$code} } if exists $names{$code};
    return \%c;
}

sub both { my ($code) = @_; return { country => country($code), registered_country => country($code) } }

my @networks = (
    [ '127.1.0.0/16',  both('IN') ],
    [ '127.2.0.0/16',  both('CN') ],
    [ '127.3.0.0/16',  both('SG') ],
    [ '127.4.0.0/16',  both('US') ],
    [ '127.5.0.0/16',  both('BR') ],
    [ '127.6.0.0/16',  both('DE') ],
    [ '127.7.0.0/16',  both('JP') ],
    [ '127.8.0.0/16',  both('GB') ],
    [ '127.9.0.0/16',  both('AU') ],
    [ '127.10.0.0/16', { country_code => 'FR' } ],
    [ '127.11.0.0/16', { registered_country => country('NL') } ],
    [ '127.12.0.0/16', { country => country('EU'), registered_country => country('DE') } ],
    [ '127.13.0.0/16', { country => country('ZZ') } ],
    [ '127.14.0.0/16', { country => country('in') } ],
    [ '::1/128',       both('SG') ],
);

my %types = (
    country            => 'map',
    registered_country => 'map',
    names              => 'map',
    iso_code           => 'utf8_string',
    country_code       => 'utf8_string',
    en                 => 'utf8_string',
);

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 24,
    database_type            => 'GeoIP2-Country',
    languages                => ['en'],
    description              => { en => 'regiongate demo: loopback networks mapped to countries' },
    map_key_type_callback    => sub { $types{ $_[0] } // die "no type for key '$_[0]'\n" },
    remove_reserved_networks => 0,
    alias_ipv6_to_ipv4       => 1,
    _build_epoch             => $ENV{SOURCE_DATE_EPOCH} // 1795478400,    # 2026-11-24
);

$tree->insert_network( $_->[0], $_->[1] ) for @networks;

# Serialise once and write the same bytes to every output: write_tree() is not
# idempotent (a second call appends to the serializer's buffer).
my $bytes = '';
open my $mem, '>:raw', \$bytes or die "cannot open in-memory buffer: $!\n";
$tree->write_tree($mem);
close $mem;

for my $path (@ARGV) {
    open my $fh, '>:raw', $path or die "cannot write '$path': $!\n";
    print {$fh} $bytes or die "cannot write '$path': $!\n";
    close $fh or die "cannot write '$path': $!\n";
}
