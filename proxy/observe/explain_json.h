#pragma once
// One decision, explained as a JSON object: what `regiongate explain` prints
// and what the admin listener's explain query answers. The keys are a
// contract (docs/operators.md): country, country_source, service, rule,
// candidates, datacenter, datacenter_country, status, reason (and more).

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "policy/snapshot.h"

namespace regiongate {

struct ExplainQuery {
  std::optional<std::string> account;  // looked up in the directory
  // The directory to ask instead of the snapshot's (the Redis directory,
  // asked synchronously: proxy/directory/redis_lookup_once.h), or null.
  const AccountDirectory* directory = nullptr;
  std::optional<std::string> ip;       // GeoIP: client location, and fallback country
  std::optional<std::string> country;  // given outright
  std::optional<std::string> service;  // by name...
  std::optional<std::string> host;     // ...or classified from host and path,
  std::string path = "/";              // both as a client would send them (made canonical first)
  // Consents the request carries (a verified token's), by name; an opt-in
  // service without its own is refused, as the gateway refuses it.
  std::vector<std::string> consents;
  UnixSeconds at = 0;
  DataCenterMask healthy = ~DataCenterMask{0};
  // Measured round trips: the candidates are ordered by them
  // (server.health.nearest: latency); none: by distance.
  std::optional<DataCenterLatencies> latency;
};

// On a malformed query (unknown service name, bad address, bad country code)
// returns nullopt and sets *error.
std::optional<nlohmann::ordered_json> explain_request(const Snapshot& snapshot,
                                                      const ExplainQuery& query,
                                                      std::string* error);

}  // namespace regiongate
