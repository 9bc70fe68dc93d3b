#pragma once
// Country of an IP address from a MaxMind DB file (libmaxminddb).
//
// The database is mmap'd once and shared read-only by every thread: hold it as
// std::shared_ptr<const GeoipDatabase>; a lookup in flight keeps its own copy
// of the pointer, so a reload that swaps in a new database never pulls the
// file out from under it. Lookups copy the country code out of the mapped
// data before returning; nothing returned points into the file.

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "maps/country.h"
#include "util/regular_file.h"

namespace regiongate {

// Where in a record the country code lives, as map keys from the top, e.g.
// {"country", "iso_code"} (MaxMind GeoIP2/GeoLite2) or {"country_code"}
// (some other vendors' free databases).
using GeoipRecordPath = std::vector<std::string>;

struct GeoipOptions {
  std::string path;  // the .mmdb file
  // Tried in order; the first that yields a known ISO code wins.
  std::vector<GeoipRecordPath> country_paths = {{"country", "iso_code"},
                                                {"registered_country", "iso_code"}};
};

enum class GeoipStatus : std::uint8_t {
  kFound,       // country holds a known code
  kNotFound,    // no record for the address
  kNoCountry,   // a record, but none of the paths holds a known ISO code
  kBadAddress,  // not an IPv4/IPv6 address (or an IPv6 address in an IPv4-only database)
  kError,       // libmaxminddb reported corrupt data for this lookup
};

struct GeoipResult {
  GeoipStatus status = GeoipStatus::kNotFound;
  CountryId country = kNoCountry;
};

const char* geoip_status_name(GeoipStatus status);

class GeoipDatabase {
 public:
  // What the database file may be: a regular file (util/regular_file.h) of
  // at most 2 GiB. MaxMind's largest databases are a few hundred MB, and the
  // file is mapped, not read, so the bound only refuses what cannot be one.
  static constexpr FileKind kFile{"GeoIP database", std::uint64_t{2} << 30};

  // Opens and probes the database. On failure returns nullptr and sets *error
  // to a message that names the path ("cannot open GeoIP database 'x': ...").
  // Never crashes on a missing, truncated or corrupt file, nor blocks on a
  // FIFO, nor maps a device or a directory. The probe reads every
  // search-tree node and decodes a sample of records, so call it off the hot
  // path (about 50 ms for a 50 MB database of 4.5 million nodes).
  static std::shared_ptr<const GeoipDatabase> open(const GeoipOptions& options, std::string* error);
  ~GeoipDatabase();
  GeoipDatabase(const GeoipDatabase&) = delete;
  GeoipDatabase& operator=(const GeoipDatabase&) = delete;

  // Thread-safe, allocation-free. `address` is a sockaddr_in or sockaddr_in6 as
  // its sa_family says; any other family is kBadAddress. IPv4-mapped IPv6
  // addresses (::ffff:a.b.c.d) are looked up as the IPv4 address they carry.
  GeoipResult lookup(const sockaddr* address) const;
  // The same for a textual address ("81.2.69.142", "2001:db8::1").
  GeoipResult lookup(std::string_view address_text) const;

  const std::string& path() const;
  // From the database metadata, e.g. "GeoIP2-Country".
  const std::string& database_type() const;
  std::uint64_t build_epoch() const;
  int ip_version() const;  // 4 or 6

 private:
  struct Impl;
  explicit GeoipDatabase(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Parses "country.iso_code" into {"country", "iso_code"}; empty segments are an error.
bool parse_geoip_record_path(std::string_view dotted, GeoipRecordPath* out);

}  // namespace regiongate
