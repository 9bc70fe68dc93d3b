#pragma once
// The settings of the Redis account directory, from the configuration's
// `directory: {redis: {...}}` section (docs/directory.md):
//
//   directory:
//     redis:
//       nodes: [127.0.0.1:6379]   # seeds: host:port or redis://host:port, IP literals;
//                                 # or one unix:/path/to/redis.sock (standalone)
//       cluster: false
//       key_prefix: "acct:"
//       connections: 1            # per worker per node
//       timeout: 50ms             # per lookup, redirects included
//       connect_timeout: 1s
//       reconnect: {min: 100ms, max: 5s}
//       max_pending: 4096         # lookups in flight per worker
//       max_redirects: 5
//       cache: {entries: 100000, ttl: 60s, negative_ttl: 5s}
//       auth: {username: regiongate, password_file: redis.pass}  # AUTH on connect
//       db: 0                     # SELECT on connect (standalone only)
//
// Node addresses must be IP literals: hiredis resolves names with a blocking
// getaddrinfo() on the worker's thread.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/yaml_reader.h"

namespace regiongate {

struct RedisNodeAddress {
  std::string host;  // an IP literal, without brackets
  std::uint16_t port = 0;
  // A Unix domain socket instead (standalone only): an absolute path.
  std::string socket_path{};

  // "127.0.0.1:6379", "[::1]:6379", "unix:/run/redis.sock": the name of a
  // node in logs and maps.
  std::string authority() const;
  bool operator==(const RedisNodeAddress&) const = default;
};

// "127.0.0.1:6379", "[::1]:6379" or "redis://127.0.0.1:6379"; nullopt for
// anything else (names included).
std::optional<RedisNodeAddress> parse_redis_node(std::string_view text);
// "unix:/run/redis/redis.sock" (an absolute path that fits a sockaddr_un):
// a standalone server on this machine. nullopt for anything else.
std::optional<RedisNodeAddress> parse_redis_socket(std::string_view text);
// Either form.
std::optional<RedisNodeAddress> parse_redis_node_or_socket(std::string_view text);

struct DirectoryCacheConfig {
  std::size_t entries = 100'000;                // 0: no cache
  std::chrono::milliseconds ttl{60'000};        // of a found account
  std::chrono::milliseconds negative_ttl{5'000};  // of "no such account"; 0: not kept
  bool operator==(const DirectoryCacheConfig&) const = default;
};

struct RedisDirectoryConfig {
  std::vector<RedisNodeAddress> nodes;  // at least one; with cluster, seeds for CLUSTER SLOTS
  bool cluster = false;
  std::string key_prefix = "acct:";
  int connections = 1;  // per worker per node
  std::chrono::milliseconds timeout{50};
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{5000};
  std::size_t max_pending = 4096;  // per worker
  int max_redirects = 5;           // per lookup (MOVED and ASK together)
  // The slot map is fetched again at most this often (on MOVED, on a lost node).
  std::chrono::milliseconds slot_refresh_interval{100};
  DirectoryCacheConfig cache;
  // AUTH [username] password on each connection before anything else (the
  // password read from auth.password_file when the snapshot loads); none
  // when empty. SELECT db when not 0.
  std::string username;
  std::string password;
  int db = 0;
  // A reload with an equal configuration keeps each worker's connections and cache.
  bool operator==(const RedisDirectoryConfig&) const = default;
};

// "redis:127.0.0.1:6379", "redis-cluster:127.0.0.1:7000,127.0.0.1:7001": for
// logs, /status and explain.
std::string describe_redis_directory(const RedisDirectoryConfig& config);

// The password on the first line of `path` (a trailing CR LF is not part
// of it; 1 to 4096 bytes), or nullopt with *error set.
std::optional<std::string> read_password_file(const std::string& path, std::string* error);

// Reads the `redis` map found at `path` ("directory.redis"). Every error goes
// to ctx with file:line:col; the result then holds defaults where a value
// was bad.
RedisDirectoryConfig read_redis_directory_config(const YAML::Node& node, std::string_view path,
                                                 YamlContext& ctx);

}  // namespace regiongate
