#include "tokens/token_config.h"

#include <optional>

namespace regiongate {
namespace {

constexpr KeySpec kTokenKeys[] = {
    {"keys", YamlKind::kSequence, true},     {"issuers", YamlKind::kScalarOrSequence, false},
    {"audience", YamlKind::kScalar, false},  {"clock_skew", YamlKind::kScalar, false},
    {"max_bytes", YamlKind::kScalar, false}, {"require_exp", YamlKind::kScalar, false},
    {"claims", YamlKind::kMap, false},       {"cache", YamlKind::kMap, false},
    {"anonymous", YamlKind::kScalar, false}, {"forward", YamlKind::kScalar, false},
};
constexpr KeySpec kKeyFileKeys[] = {{"file", YamlKind::kScalar, true},
                                    {"kid", YamlKind::kScalar, false}};
constexpr KeySpec kClaimKeys[] = {{"country", YamlKind::kScalar, false},
                                  {"account", YamlKind::kScalar, false},
                                  {"consents", YamlKind::kScalar, false}};
constexpr KeySpec kCacheKeys[] = {{"entries", YamlKind::kScalar, false}};

void read_claim(const YAML::Node& claims, const char* key, const std::string& path,
                YamlContext& ctx, std::string& out) {
  if (!claims[key]) return;
  std::string name = read_string(claims[key], key_path(path, key), ctx).value_or("");
  if (name.empty() || name.size() > 64) {
    ctx.error(claims[key], key_path(path, key), "a claim name of 1-64 characters");
    return;
  }
  out = name;
}

// One entry of tokens.keys: a file (relative to the configuration file), and
// for a PEM key its kid. nullopt when it names no file (already reported).
std::optional<TokenKeyFile> read_key_file_entry(const YAML::Node& entry, const std::string& path,
                                                YamlContext& ctx) {
  if (!check_map(entry, kKeyFileKeys, path, ctx) || !entry["file"]) return std::nullopt;
  std::optional<std::string> file = read_string(entry["file"], key_path(path, "file"), ctx);
  if (!file) return std::nullopt;
  if (file->empty()) {
    ctx.error(entry["file"], key_path(path, "file"), "a key file, not an empty name");
    return std::nullopt;
  }
  TokenKeyFile f;
  f.mark = ctx.mark(entry);
  f.path = resolve_relative(ctx.file(), *file);
  if (entry["kid"]) f.kid = read_string(entry["kid"], key_path(path, "kid"), ctx).value_or("");
  return f;
}

}  // namespace

TokenConfig read_token_config(const YAML::Node& node, std::string_view path_view, YamlContext& ctx) {
  const std::string path(path_view);
  TokenConfig config;
  config.enabled = true;
  if (!check_map(node, kTokenKeys, path, ctx)) return config;
  const YAML::Node& keys = node["keys"];
  if (keys && keys.IsSequence()) {
    if (keys.size() == 0) ctx.error(keys, key_path(path, "keys"), "name at least one key file");
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::string item = index_path(key_path(path, "keys"), i);
      if (std::optional<TokenKeyFile> f = read_key_file_entry(keys[i], item, ctx)) {
        config.keys.push_back(std::move(*f));
      }
    }
  }
  if (node["issuers"]) {
    for (const YamlString& s : read_string_list(node["issuers"], key_path(path, "issuers"), ctx)) {
      config.issuers.push_back(s.value);
    }
  }
  if (node["audience"]) config.audience = read_string(node["audience"], key_path(path, "audience"), ctx).value_or("");
  if (node["clock_skew"]) {
    std::chrono::milliseconds skew = config.clock_skew;
    read_duration(node, "clock_skew", path, ctx, skew, /*zero_allowed=*/true);  // 0s: exact clocks
    config.clock_skew = std::chrono::duration_cast<std::chrono::seconds>(skew);
    if (config.clock_skew > std::chrono::hours(1)) {
      ctx.error(node["clock_skew"], key_path(path, "clock_skew"), "at most 1h");
    }
  }
  if (node["max_bytes"]) {
    config.max_bytes = static_cast<std::size_t>(
        read_int(node["max_bytes"], key_path(path, "max_bytes"), ctx, 64, 65536).value_or(8192));
  }
  if (node["require_exp"]) config.require_exp = read_bool(node["require_exp"], key_path(path, "require_exp"), ctx).value_or(true);
  if (node["claims"] && check_map(node["claims"], kClaimKeys, key_path(path, "claims"), ctx)) {
    const std::string claims = key_path(path, "claims");
    read_claim(node["claims"], "country", claims, ctx, config.country_claim);
    read_claim(node["claims"], "account", claims, ctx, config.account_claim);
    read_claim(node["claims"], "consents", claims, ctx, config.consents_claim);
  }
  if (node["cache"] && check_map(node["cache"], kCacheKeys, key_path(path, "cache"), ctx) &&
      node["cache"]["entries"]) {
    config.cache_entries = static_cast<std::size_t>(
        read_int(node["cache"]["entries"], key_path(key_path(path, "cache"), "entries"), ctx, 0,
                 1 << 24)
            .value_or(65536));
  }
  if (node["forward"]) config.forward = read_bool(node["forward"], key_path(path, "forward"), ctx).value_or(true);
  if (node["anonymous"]) {
    if (auto c = read_choice(node["anonymous"], key_path(path, "anonymous"), ctx, {"refuse", "allow"})) {
      config.anonymous = static_cast<TokenConfig::Anonymous>(*c);
    }
  }
  return config;
}

}  // namespace regiongate
