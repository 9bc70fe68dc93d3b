#include "maps/datacenter.h"

#include <arpa/inet.h>

#include <charconv>
#include <numeric>

namespace regiongate {
namespace {

constexpr KeySpec kDataCenterKeys[] = {
    {"country", YamlKind::kScalar, true},    {"city", YamlKind::kScalar, false},
    {"latitude", YamlKind::kScalar, true},   {"longitude", YamlKind::kScalar, true},
    {"endpoints", YamlKind::kSequence, true},
};

constexpr KeySpec kEndpointKeys[] = {
    {"address", YamlKind::kScalar, true},
    {"tls", YamlKind::kScalar, false},
    {"sni", YamlKind::kScalar, false},
    {"weight", YamlKind::kScalar, false},
};

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

std::optional<OriginEndpoint> read_endpoint(const YAML::Node& node, const std::string& path,
                                            YamlContext& ctx) {
  OriginEndpoint ep;
  if (node.IsMap()) check_map(node, kEndpointKeys, path, ctx);
  // Never assign to a YAML::Node: assignment writes through to the document.
  const YAML::Node address = node.IsMap() ? node["address"] : node;
  auto text = read_string(address, node.IsMap() ? key_path(path, "address") : path, ctx);
  if (!text) return std::nullopt;
  if (!parse_host_port(*text, &ep.host, &ep.port)) {
    ctx.error(address, path, "endpoint must be host:port or [ipv6]:port, not '" + *text + "'");
    return std::nullopt;
  }
  if (node.IsMap()) {
    if (node["tls"]) ep.tls = read_bool(node["tls"], key_path(path, "tls"), ctx).value_or(false);
    if (node["sni"]) {
      ep.sni = read_string(node["sni"], key_path(path, "sni"), ctx).value_or("");
      if (!ep.tls) ctx.error(node["sni"], key_path(path, "sni"), "sni needs tls: true");
    }
    if (node["weight"]) {
      ep.weight = static_cast<std::uint32_t>(
          read_int(node["weight"], key_path(path, "weight"), ctx, 1, 1000).value_or(1));
    }
  }
  if (ep.tls && ep.sni.empty() && !is_ip_literal(ep.host)) ep.sni = ep.host;
  ep.pool_key = (ep.tls ? "h2s://" : "h2://") + ep.authority();
  if (ep.tls) ep.pool_key += "/" + ep.sni;
  return ep;
}

void read_one(const std::string& id, const YAML::Node& key, const YAML::Node& node,
              const std::string& path, YamlContext& ctx, DataCenterMap& out) {
  if (!is_valid_name(id)) {
    ctx.error(key, path, "data centre id must be 1-64 characters of a-z, 0-9, '-' or '_'");
  }
  if (!check_map(node, kDataCenterKeys, path, ctx)) return;
  DataCenter dc;
  dc.id = id;
  dc.mark = ctx.mark(key);
  if (auto code = read_string(node["country"], key_path(path, "country"), ctx)) {
    if (auto c = country_from_code(*code)) {
      dc.country = *c;
    } else {
      ctx.error(node["country"], key_path(path, "country"),
                "unknown country code '" + *code + "' (ISO 3166-1 alpha-2, upper case)");
    }
  }
  if (node["city"]) dc.city = read_string(node["city"], key_path(path, "city"), ctx).value_or("");
  dc.latitude =
      read_double(node["latitude"], key_path(path, "latitude"), ctx, -90, 90).value_or(0);
  dc.longitude =
      read_double(node["longitude"], key_path(path, "longitude"), ctx, -180, 180).value_or(0);
  const YAML::Node& eps = node["endpoints"];
  if (eps && eps.IsSequence()) {
    if (eps.size() == 0) ctx.error(eps, key_path(path, "endpoints"), "needs at least one endpoint");
    if (eps.size() > kMaxEndpointsPerDataCenter) {
      ctx.error(eps, key_path(path, "endpoints"),
                "at most " + std::to_string(kMaxEndpointsPerDataCenter) + " endpoints");
    }
    for (std::size_t i = 0; i < eps.size() && i < kMaxEndpointsPerDataCenter; ++i) {
      if (auto ep = read_endpoint(eps[i], index_path(key_path(path, "endpoints"), i), ctx)) {
        dc.endpoints.push_back(std::move(*ep));
      }
    }
  }
  std::vector<std::uint32_t> weights;
  for (const OriginEndpoint& ep : dc.endpoints) weights.push_back(ep.weight);
  dc.endpoint_rotation = weighted_rotation(weights);
  out.all.push_back(std::move(dc));
}

}  // namespace

std::vector<std::uint8_t> weighted_rotation(const std::vector<std::uint32_t>& weights) {
  std::uint32_t divisor = 0;
  for (std::uint32_t w : weights) divisor = std::gcd(divisor, w);
  if (divisor == 0) return {};
  std::uint64_t total = 0;
  for (std::uint32_t w : weights) total += w / divisor;
  // Smooth weighted round-robin: each turn every endpoint gains its weight,
  // the richest is picked and pays the total.
  std::vector<std::int64_t> current(weights.size(), 0);
  std::vector<std::uint8_t> order;
  order.reserve(total);
  for (std::uint64_t turn = 0; turn < total; ++turn) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      current[i] += weights[i] / divisor;
      if (current[i] > current[best]) best = i;
    }
    current[best] -= static_cast<std::int64_t>(total);
    order.push_back(static_cast<std::uint8_t>(best));
  }
  return order;
}

std::string OriginEndpoint::authority() const {
  if (host.find(':') != std::string::npos) return '[' + host + "]:" + std::to_string(port);
  return host + ':' + std::to_string(port);
}

std::optional<DataCenterIndex> DataCenterMap::find(std::string_view id) const {
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].id == id) return static_cast<DataCenterIndex>(i);
  }
  return std::nullopt;
}

DataCenterMask DataCenterMap::in_country(CountryId country) const {
  DataCenterMask mask = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].country == country) mask |= dc_bit(static_cast<DataCenterIndex>(i));
  }
  return mask;
}

std::string DataCenterMap::names(DataCenterMask mask) const {
  std::string out;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (mask & dc_bit(static_cast<DataCenterIndex>(i))) {
      if (!out.empty()) out += ',';
      out += all[i].id;
    }
  }
  return out;
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool parse_host_port(std::string_view text, std::string* host, std::uint16_t* port) {
  std::string_view h, p;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
    unsigned char buf[16];
    if (inet_pton(AF_INET6, std::string(h).c_str(), buf) != 1) return false;
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
    if (h.find(':') != std::string_view::npos) return false;  // bare IPv6 needs brackets
  }
  if (h.empty() || h.size() > 253 || p.empty()) return false;
  for (char c : h) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == ':' || c == '_';
    if (!ok) return false;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc() || end != p.data() + p.size() || value == 0 || value > 65535) return false;
  *host = std::string(h);
  *port = static_cast<std::uint16_t>(value);
  return true;
}

DataCenterMap read_datacenters(const YAML::Node& node, std::string_view path, YamlContext& ctx) {
  DataCenterMap out;
  if (!check_named_map(node, path, ctx)) return out;
  for (const auto& item : node) {
    if (!item.first.IsScalar()) continue;
    read_one(item.first.Scalar(), item.first, item.second, key_path(path, item.first.Scalar()),
             ctx, out);
  }
  if (out.all.size() > kMaxDataCenters) {
    ctx.error(node, path, "at most " + std::to_string(kMaxDataCenters) + " data centres");
    out.all.resize(kMaxDataCenters);
  }
  return out;
}

}  // namespace regiongate
