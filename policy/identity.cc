#include "policy/identity.h"

#include <optional>

#include "policy/by_service.h"

namespace regiongate {
namespace {

constexpr KeySpec kIdentityKeys[] = {
    {"order", YamlKind::kSequence, false},
    {"account_header", YamlKind::kScalar, false},
    {"trusted_proxies", YamlKind::kScalarOrSequence, false},
    {"directory_unavailable", YamlKind::kAny, false},
};
constexpr KeySpec kFallbackKeys[] = {
    {"default", YamlKind::kScalar, false},
    {"services", YamlKind::kMap, false},
};

std::optional<DirectoryFallback> read_fallback(const YAML::Node& node, const std::string& path,
                                               YamlContext& ctx) {
  auto text = read_string(node, path, ctx);
  if (!text) return std::nullopt;
  if (*text == "refuse") return DirectoryFallback::kRefuse;
  if (*text == "geoip") return DirectoryFallback::kGeoip;
  ctx.error(node, path, "'" + *text + "': refuse or geoip");
  return std::nullopt;
}

// directory_unavailable: refuse | geoip | {default: ..., services: {NAME: ...}}
void read_directory_unavailable(const YAML::Node& node, const std::string& path, YamlContext& ctx,
                                const std::vector<std::string_view>& services,
                                IdentityConfig& config) {
  if (node.IsScalar()) {
    if (auto f = read_fallback(node, path, ctx)) config.directory_unavailable = *f;
    return;
  }
  if (!check_map(node, kFallbackKeys, path, ctx)) return;
  if (node["default"]) {
    if (auto f = read_fallback(node["default"], key_path(path, "default"), ctx)) {
      config.directory_unavailable = *f;
    }
  }
  if (!node["services"]) return;
  std::vector<std::optional<DirectoryFallback>> by_service(services.size());
  const std::string sub = key_path(path, "services");
  read_by_service(node["services"], sub, ctx, services,
                  [&](std::size_t service, const YAML::Node& value, const std::string& at) {
                    if (auto f = read_fallback(value, at, ctx)) by_service[service] = *f;
                  });
  config.directory_unavailable_by_service.clear();
  for (const auto& f : by_service) {
    config.directory_unavailable_by_service.push_back(f.value_or(config.directory_unavailable));
  }
}

}  // namespace

std::string_view source_name(CountrySource source) {
  switch (source) {
    case CountrySource::kNone: return "none";
    case CountrySource::kToken: return "token";
    case CountrySource::kTokenAccount: return "token-account";
    case CountrySource::kDirectory: return "directory";
    case CountrySource::kGeoip: return "geoip";
    case CountrySource::kGiven: return "given";
    case CountrySource::kGeoipFallback: return "geoip-fallback";
  }
  return "none";
}

IdentityConfig read_identity(const YAML::Node& node, std::string_view path, YamlContext& ctx,
                             const std::vector<std::string_view>& services) {
  IdentityConfig config;
  if (!check_map(node, kIdentityKeys, path, ctx)) return config;
  if (node["order"]) {
    config.order.clear();
    for (const YamlString& item : read_string_list(node["order"], key_path(path, "order"), ctx)) {
      CountrySource s = item.value == "token"           ? CountrySource::kToken
                        : item.value == "token-account" ? CountrySource::kTokenAccount
                        : item.value == "directory"     ? CountrySource::kDirectory
                        : item.value == "geoip"         ? CountrySource::kGeoip
                                                        : CountrySource::kNone;
      if (s == CountrySource::kNone) {
        ctx.error(item.node, key_path(path, "order"),
                  "unknown country source '" + item.value +
                      "' (token, token-account, directory, geoip)");
        continue;
      }
      for (CountrySource seen : config.order) {
        if (seen == s) ctx.error(item.node, key_path(path, "order"), "'" + item.value + "' twice");
      }
      config.order.push_back(s);
    }
    if (config.order.empty()) ctx.error(node["order"], key_path(path, "order"), "name a source");
  }
  if (node["account_header"]) {
    std::string header =
        read_string(node["account_header"], key_path(path, "account_header"), ctx).value_or("");
    bool ok = !header.empty() && header.size() <= 64;
    for (char c : header) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
    if (!ok) {
      ctx.error(node["account_header"], key_path(path, "account_header"),
                "a lower-case HTTP header name (a-z, 0-9, '-')");
    }
    config.account_header = header;
  }
  if (node["trusted_proxies"]) {
    std::string sub = key_path(path, "trusted_proxies");
    for (const YamlString& item : read_string_list(node["trusted_proxies"], sub, ctx)) {
      if (auto net = IpNetwork::parse(item.value)) {
        config.trusted_proxies.push_back(*net);
      } else {
        ctx.error(item.node, sub, "not an address or CIDR network: '" + item.value + "'");
      }
    }
  }
  if (node["directory_unavailable"]) {
    read_directory_unavailable(node["directory_unavailable"], key_path(path, "directory_unavailable"),
                               ctx, services, config);
  }
  return config;
}

ResolvedCountry resolve_country(const IdentityConfig& config, const AccountDirectory* directory,
                                const GeoipDatabase* geoip, const RequestFacts& facts) {
  ResolvedCountry out;
  if (geoip && facts.client) {
    GeoipResult g;
    if (facts.client_geoip) {
      g = *facts.client_geoip;
    } else {
      sockaddr_storage ss;
      facts.client->to_sockaddr(&ss);
      g = geoip->lookup(reinterpret_cast<const sockaddr*>(&ss));
    }
    out.geoip_asked = true;
    out.geoip = g.status;
    if (g.status == GeoipStatus::kFound) out.location = g.country;
  }
  for (CountrySource source : config.order) {
    if (source == CountrySource::kToken && facts.token_country != kNoCountry) {
      out.account = facts.token_country;
      out.source = CountrySource::kToken;
      return out;
    }
    const std::string_view id = source == CountrySource::kTokenAccount ? facts.token_account_id
                                : source == CountrySource::kDirectory  ? facts.account_id
                                                                       : std::string_view();
    if (!id.empty() && directory) {
      const DirectoryAnswer* known = nullptr;
      for (const DirectoryAnswer& a : facts.directory_answers) {
        if (a.account_id == id) known = &a;
      }
      DirectoryResult r = known ? known->result : directory->find(id);
      out.directory_asked = true;
      out.directory = r.status;
      out.directory_id = id;
      if (r.status == DirectoryStatus::kFound) {
        out.account = r.country;
        out.source = source;
        return out;
      }
      // Not known yet, or the backend cannot say: never guessed from the
      // next source here; the caller waits, or does as configured.
      if (r.status == DirectoryStatus::kPending || r.status == DirectoryStatus::kUnavailable) return out;
    } else if (source == CountrySource::kGeoip && out.location != kNoCountry) {
      out.account = out.location;
      out.source = CountrySource::kGeoip;
      return out;
    }
  }
  return out;
}

}  // namespace regiongate
