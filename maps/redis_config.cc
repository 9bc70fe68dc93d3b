#include "maps/redis_config.h"

#include <charconv>

#include "maps/datacenter.h"
#include "maps/ip_network.h"
#include "util/regular_file.h"

namespace regiongate {
namespace {

constexpr KeySpec kRedisKeys[] = {
    {"nodes", YamlKind::kScalarOrSequence, true},
    {"cluster", YamlKind::kScalar, false},
    {"key_prefix", YamlKind::kScalar, false},
    {"connections", YamlKind::kScalar, false},
    {"timeout", YamlKind::kScalar, false},
    {"connect_timeout", YamlKind::kScalar, false},
    {"reconnect", YamlKind::kMap, false},
    {"max_pending", YamlKind::kScalar, false},
    {"max_redirects", YamlKind::kScalar, false},
    {"slot_refresh_interval", YamlKind::kScalar, false},
    {"cache", YamlKind::kMap, false},
    {"auth", YamlKind::kMap, false},
    {"db", YamlKind::kScalar, false},
};
constexpr KeySpec kAuthKeys[] = {{"username", YamlKind::kScalar, false},
                                 {"password_file", YamlKind::kScalar, true}};

void read_password(const YAML::Node& node, const std::string& path, YamlContext& ctx,
                   RedisDirectoryConfig& c) {
  auto file = read_string(node, path, ctx);
  if (!file) return;
  std::string error;
  if (auto password = read_password_file(resolve_relative(ctx.file(), *file), &error)) {
    c.password = std::move(*password);
  } else {
    ctx.error(node, path, error);
  }
}
constexpr KeySpec kReconnectKeys[] = {{"min", YamlKind::kScalar, false},
                                      {"max", YamlKind::kScalar, false}};
constexpr KeySpec kCacheKeys[] = {{"entries", YamlKind::kScalar, false},
                                  {"ttl", YamlKind::kScalar, false},
                                  {"negative_ttl", YamlKind::kScalar, false}};

template <typename T>
void read_count(const YAML::Node& map, const char* key, const std::string& path,
                YamlContext& ctx, std::int64_t min, std::int64_t max, T& out) {
  if (!map[key]) return;
  if (auto v = read_int(map[key], key_path(path, key), ctx, min, max)) out = static_cast<T>(*v);
}

void read_nodes(const YAML::Node& node, const std::string& path, YamlContext& ctx,
                RedisDirectoryConfig& c) {
  const std::vector<YamlString> list = read_string_list(node, path, ctx);
  for (const YamlString& s : list) {
    if (auto address = parse_redis_node_or_socket(s.value)) {
      c.nodes.push_back(*address);
    } else {
      ctx.error(s.node, path,
                "an IP address and port like 127.0.0.1:6379 or redis://[::1]:6379, or "
                "unix:/absolute/path.sock, not '" +
                    s.value + "' (names are not resolved: resolve them in the config pipeline)");
    }
  }
  if (list.empty() && node.IsSequence()) ctx.error(node, path, "at least one node");
}

}  // namespace

std::string RedisNodeAddress::authority() const {
  if (!socket_path.empty()) return "unix:" + socket_path;
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string describe_redis_directory(const RedisDirectoryConfig& config) {
  std::string out = config.cluster ? "redis-cluster:" : "redis:";
  for (std::size_t i = 0; i < config.nodes.size(); ++i) {
    if (i) out += ',';
    out += config.nodes[i].authority();
  }
  return out;
}

std::optional<RedisNodeAddress> parse_redis_node(std::string_view text) {
  constexpr std::string_view kScheme = "redis://";
  if (text.starts_with(kScheme)) text.remove_prefix(kScheme.size());
  if (!text.empty() && text.back() == '/') text.remove_suffix(1);
  RedisNodeAddress out;
  if (!parse_host_port(text, &out.host, &out.port) || out.port == 0 ||
      !IpAddress::parse(out.host)) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> read_password_file(const std::string& path, std::string* error) {
  constexpr std::size_t kMaxPassword = 4096;
  // A regular file only (a FIFO or /dev/zero would block or never end), of
  // at most 64 KiB: the password is its first line.
  static constexpr FileKind kPasswordFile{"password file", 64 << 10};
  std::string text;
  if (!read_regular_file(path, kPasswordFile, &text, error)) {
    *error = "'" + path + "': " + *error;
    return std::nullopt;
  }
  std::string line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty() || line.size() > kMaxPassword) {
    *error = "'" + path + "': cannot read a password (1 to 4096 bytes) from its first line";
    return std::nullopt;
  }
  return line;
}

std::optional<RedisNodeAddress> parse_redis_socket(std::string_view text) {
  constexpr std::string_view kScheme = "unix:";
  // sockaddr_un's sun_path is 108 bytes on Linux, with the terminating NUL.
  constexpr std::size_t kMaxPath = 107;
  if (!text.starts_with(kScheme)) return std::nullopt;
  text.remove_prefix(kScheme.size());
  if (text.starts_with("///")) text.remove_prefix(2);  // unix:///run/x.sock, URI style
  if (text.size() < 2 || text.front() != '/' || text.size() > kMaxPath ||
      text.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  RedisNodeAddress out;
  out.socket_path = std::string(text);
  return out;
}

std::optional<RedisNodeAddress> parse_redis_node_or_socket(std::string_view text) {
  if (auto node = parse_redis_node(text)) return node;
  return parse_redis_socket(text);
}

RedisDirectoryConfig read_redis_directory_config(const YAML::Node& node, std::string_view path_view,
                                                 YamlContext& ctx) {
  RedisDirectoryConfig c;
  const std::string path(path_view);
  if (!check_map(node, kRedisKeys, path, ctx)) return c;
  if (node["nodes"]) read_nodes(node["nodes"], key_path(path, "nodes"), ctx, c);
  if (node["cluster"]) c.cluster = read_bool(node["cluster"], key_path(path, "cluster"), ctx).value_or(false);
  if (node["key_prefix"]) {
    c.key_prefix = read_string(node["key_prefix"], key_path(path, "key_prefix"), ctx).value_or(c.key_prefix);
  }
  read_count(node, "connections", path, ctx, 1, 64, c.connections);
  read_duration(node, "timeout", path, ctx, c.timeout);
  read_duration(node, "connect_timeout", path, ctx, c.connect_timeout);
  read_count(node, "max_pending", path, ctx, 1, 1'000'000, c.max_pending);
  read_count(node, "max_redirects", path, ctx, 0, 16, c.max_redirects);
  read_duration(node, "slot_refresh_interval", path, ctx, c.slot_refresh_interval, /*zero_allowed=*/true);
  for (const RedisNodeAddress& n : c.nodes) {
    if (c.cluster && !n.socket_path.empty()) {
      ctx.error(node["nodes"], key_path(path, "nodes"),
                "a cluster's nodes are IP addresses and ports (its slot map names them so), not "
                "unix:" + n.socket_path);
    }
  }
  if (const YAML::Node& a = node["auth"]; a && check_map(a, kAuthKeys, key_path(path, "auth"), ctx)) {
    const std::string at = key_path(path, "auth");
    if (a["username"]) c.username = read_string(a["username"], key_path(at, "username"), ctx).value_or("");
    read_password(a["password_file"], key_path(at, "password_file"), ctx, c);
  }
  read_count(node, "db", path, ctx, 0, 1023, c.db);
  if (c.cluster && c.db != 0) ctx.error(node["db"], key_path(path, "db"), "a Redis Cluster has only db 0");
  if (!c.cluster && c.nodes.size() > 1) {
    ctx.error(node["nodes"], key_path(path, "nodes"),
              "one node without cluster: true (a standalone Redis has no seeds to choose from)");
  }
  if (const YAML::Node& r = node["reconnect"];
      r && check_map(r, kReconnectKeys, key_path(path, "reconnect"), ctx)) {
    const std::string at = key_path(path, "reconnect");
    read_duration(r, "min", at, ctx, c.reconnect_min);
    read_duration(r, "max", at, ctx, c.reconnect_max);
    if (c.reconnect_min > c.reconnect_max) ctx.error(r, at, "min is above max");
  }
  if (const YAML::Node& k = node["cache"]; k && check_map(k, kCacheKeys, key_path(path, "cache"), ctx)) {
    const std::string at = key_path(path, "cache");
    read_count(k, "entries", at, ctx, 0, 100'000'000, c.cache.entries);
    read_duration(k, "ttl", at, ctx, c.cache.ttl, /*zero_allowed=*/true);
    read_duration(k, "negative_ttl", at, ctx, c.cache.negative_ttl, /*zero_allowed=*/true);
  }
  return c;
}

}  // namespace regiongate
