#pragma once
// Resolving a request's account country: the configured sources are tried in
// order and the first that answers wins: the verified token's country claim
// (`token`), the account directory by the verified token's account id
// (`token-account`), the directory by the account header (`directory`), and
// GeoIP of the client (`geoip`). GeoIP of the client address also gives where the
// client is now, which orders the allowed data centres by distance.
//
// Pure: the caller supplies what it knows of the request.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "maps/account_directory.h"
#include "maps/geoip.h"
#include "maps/ip_network.h"
#include "util/yaml_reader.h"

namespace regiongate {

enum class CountrySource : std::uint8_t { kNone, kToken, kTokenAccount, kDirectory, kGeoip, kGiven };
// "token", "token-account", "directory", "geoip", "given", "none".
std::string_view source_name(CountrySource source);

struct IdentityConfig {
  std::vector<CountrySource> order = {CountrySource::kDirectory, CountrySource::kGeoip};
  // The request header carrying the account id (set by the vendor's own
  // front end or app); an id is only looked up, never trusted as a country.
  std::string account_header = "x-account-id";
  // Peers whose x-forwarded-for is believed for the client address.
  std::vector<IpNetwork> trusted_proxies;
};

// Reads the `identity:` section.
IdentityConfig read_identity(const YAML::Node& node, std::string_view path, YamlContext& ctx);

struct RequestFacts {
  std::string_view account_id;           // empty when the request carries none
  const IpAddress* client = nullptr;     // the client address, when known
  // GeoIP of `client` when the caller already has it (the gateway looks a
  // connection's peer up once, not once per request); null: look it up.
  const GeoipResult* client_geoip = nullptr;
  CountryId token_country = kNoCountry;  // the verified token's country claim
  std::string_view token_account_id;     // the verified token's account id; empty: none
};

struct ResolvedCountry {
  CountryId account = kNoCountry;
  CountrySource source = CountrySource::kNone;
  CountryId location = kNoCountry;  // GeoIP of the client, when known
  DirectoryStatus directory = DirectoryStatus::kNotFound;
  GeoipStatus geoip = GeoipStatus::kNotFound;
  bool directory_asked = false;
  bool geoip_asked = false;
};

// No allocation; safe from any thread.
ResolvedCountry resolve_country(const IdentityConfig& config, const AccountDirectory* directory,
                                const GeoipDatabase* geoip, const RequestFacts& facts);

}  // namespace regiongate
