#pragma once
// Data centres: named sites with a country, a location and origin endpoints,
// read from the `datacenters` YAML file. Immutable once read; part of a
// snapshot. A DataCenterIndex is a position in DataCenterMap::all and fits a
// 64-bit mask, which is how the policy and the health view name sets of them.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "maps/country.h"
#include "util/diagnostics.h"
#include "util/yaml_reader.h"

namespace regiongate {

using DataCenterIndex = std::uint8_t;
using DataCenterMask = std::uint64_t;
inline constexpr std::size_t kMaxDataCenters = 64;

inline constexpr DataCenterMask dc_bit(DataCenterIndex i) { return DataCenterMask{1} << i; }

struct OriginEndpoint {
  std::string host;  // a name (resolved by DNS) or a literal IPv4/IPv6 address, no brackets
  std::uint16_t port = 0;
  bool tls = false;
  std::string sni;  // TLS server name; defaults to host when host is a name
  std::uint32_t weight = 1;  // 1-1000: its share of the data centre's new requests
  // "h2://host:port" or "h2s://host:port/sni": names the endpoint in logs
  // and keys its pooled connections (set by read_datacenters).
  std::string pool_key;

  // "host:port", "[::1]:443".
  std::string authority() const;
};

inline constexpr std::size_t kMaxEndpointsPerDataCenter = 64;

struct DataCenter {
  std::string id;  // lower case, [a-z0-9_-], unique
  CountryId country = kNoCountry;
  std::string city;
  double latitude = 0;
  double longitude = 0;
  std::vector<OriginEndpoint> endpoints;
  // Endpoint indexes in smooth weighted round-robin order (each index appears
  // weight/gcd times, spread out): a worker starts request n at
  // endpoint_rotation[n % size] and fails over to the following endpoints.
  std::vector<std::uint8_t> endpoint_rotation;
  SourceMark mark;  // where it is defined, for diagnostics
};

// The smooth weighted round-robin sequence of `weights` (as nginx spreads
// upstream weights): {5,1,1} -> 0,0,1,0,2,0,0. Weights are divided by
// their greatest common divisor first.
std::vector<std::uint8_t> weighted_rotation(const std::vector<std::uint32_t>& weights);

struct DataCenterMap {
  std::vector<DataCenter> all;  // in file order; index = DataCenterIndex

  std::optional<DataCenterIndex> find(std::string_view id) const;
  const DataCenter& at(DataCenterIndex i) const { return all[i]; }
  std::size_t size() const { return all.size(); }
  // Every data centre located in `country`.
  DataCenterMask in_country(CountryId country) const;
  // "beijing,singapore" for a mask, in index order.
  std::string names(DataCenterMask mask) const;
};

// True for names policy authors may give data centres, groups and rules.
bool is_valid_name(std::string_view name);

// Reads the `datacenters:` map (id → {country, city, latitude, longitude, endpoints}).
// Records every problem in ctx; the result is only meaningful when none was an error.
DataCenterMap read_datacenters(const YAML::Node& node, std::string_view path, YamlContext& ctx);

// Parses "host:port" or "[v6]:port". Returns false on anything else.
bool parse_host_port(std::string_view text, std::string* host, std::uint16_t* port);

}  // namespace regiongate
