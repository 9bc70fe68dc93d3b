#pragma once
// Resolving a request's account country: the configured sources are tried in
// order and the first that answers wins: the verified token's country claim
// (`token`), the account directory by the verified token's account id
// (`token-account`), the directory by the account header (`directory`), and
// GeoIP of the client (`geoip`). GeoIP of the client address also gives where the
// client is now, which orders the allowed data centres by distance.
//
// An asynchronous directory (Redis) may answer kPending: resolution stops
// there, the caller waits for the answer and resolves again with it
// (RequestFacts::directory_answer). When the directory cannot answer
// (kUnavailable), resolution stops too: what happens then is the service's
// `identity.directory_unavailable` (refuse, or GeoIP), never a guess from
// whatever source comes next.
//
// Pure: the caller supplies what it knows of the request.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "maps/account_directory.h"
#include "maps/geoip.h"
#include "maps/ip_network.h"
#include "util/yaml_reader.h"

namespace regiongate {

enum class CountrySource : std::uint8_t {
  kNone,
  kToken,
  kTokenAccount,
  kDirectory,
  kGeoip,
  kGiven,
  // GeoIP, because the directory could not answer and the service's
  // directory_unavailable says geoip (not nameable in identity.order).
  kGeoipFallback,
};
// "token", "token-account", "directory", "geoip", "given", "geoip-fallback", "none".
std::string_view source_name(CountrySource source);

// What a request does when the account directory cannot answer for it.
enum class DirectoryFallback : std::uint8_t {
  kRefuse,  // 503 account-directory-unavailable
  kGeoip,   // the country of the client's address (counted), or 503 without one
};

struct IdentityConfig {
  std::vector<CountrySource> order = {CountrySource::kDirectory, CountrySource::kGeoip};
  // The request header carrying the account id (set by the vendor's own
  // front end or app); an id is only looked up, never trusted as a country.
  std::string account_header = "x-account-id";
  // Peers whose x-forwarded-for is believed for the client address.
  std::vector<IpNetwork> trusted_proxies;
  // When the directory cannot answer: for every service, and per service
  // (indexed by ServiceId; a service past its end takes the default).
  DirectoryFallback directory_unavailable = DirectoryFallback::kRefuse;
  std::vector<DirectoryFallback> directory_unavailable_by_service;

  DirectoryFallback fallback_for(std::uint8_t service) const {
    return service < directory_unavailable_by_service.size() ? directory_unavailable_by_service[service]
                                                             : directory_unavailable;
  }
};

// Reads the `identity:` section; `services` are the policy's service names
// (directory_unavailable may name them), in ServiceId order.
IdentityConfig read_identity(const YAML::Node& node, std::string_view path, YamlContext& ctx,
                             const std::vector<std::string_view>& services);

// The answer an asynchronous directory gave for one account id.
struct DirectoryAnswer {
  std::string_view account_id;
  DirectoryResult result;
};

struct RequestFacts {
  std::string_view account_id;           // empty when the request carries none
  const IpAddress* client = nullptr;     // the client address, when known
  // GeoIP of `client` when the caller already has it (the gateway looks a
  // connection's peer up once, not once per request); null: look it up.
  const GeoipResult* client_geoip = nullptr;
  CountryId token_country = kNoCountry;  // the verified token's country claim
  std::string_view token_account_id;     // the verified token's account id; empty: none
  // What the directory already answered (ids it said kPending for before):
  // used instead of asking it again.
  std::span<const DirectoryAnswer> directory_answers;
};

struct ResolvedCountry {
  CountryId account = kNoCountry;
  CountrySource source = CountrySource::kNone;
  CountryId location = kNoCountry;  // GeoIP of the client, when known
  DirectoryStatus directory = DirectoryStatus::kNotFound;
  GeoipStatus geoip = GeoipStatus::kNotFound;
  bool directory_asked = false;
  bool geoip_asked = false;
  // The id the directory was last asked for (a view of the facts' id): the
  // one to wait for when `directory` is kPending.
  std::string_view directory_id;

  bool directory_pending() const { return directory == DirectoryStatus::kPending; }
};

// No allocation; safe from any thread.
ResolvedCountry resolve_country(const IdentityConfig& config, const AccountDirectory* directory,
                                const GeoipDatabase* geoip, const RequestFacts& facts);

}  // namespace regiongate
