#include "policy/identity.h"

namespace regiongate {
namespace {

constexpr KeySpec kIdentityKeys[] = {
    {"order", YamlKind::kSequence, false},
    {"account_header", YamlKind::kScalar, false},
    {"trusted_proxies", YamlKind::kScalarOrSequence, false},
};

}  // namespace

std::string_view source_name(CountrySource source) {
  switch (source) {
    case CountrySource::kNone: return "none";
    case CountrySource::kToken: return "token";
    case CountrySource::kTokenAccount: return "token-account";
    case CountrySource::kDirectory: return "directory";
    case CountrySource::kGeoip: return "geoip";
    case CountrySource::kGiven: return "given";
  }
  return "none";
}

IdentityConfig read_identity(const YAML::Node& node, std::string_view path, YamlContext& ctx) {
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
      DirectoryResult r = directory->find(id);
      out.directory_asked = true;
      out.directory = r.status;
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
