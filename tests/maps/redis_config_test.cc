#include "maps/redis_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace regiongate {
namespace {

using std::chrono::milliseconds;

struct Read {
  RedisDirectoryConfig config;
  Diagnostics diags;
};

Read read(const std::string& yaml) {
  Read r;
  auto root = load_yaml_text(yaml, "gw.yaml", r.diags);
  EXPECT_TRUE(root.has_value()) << r.diags.format_all();
  if (!root) return r;
  YamlContext ctx("gw.yaml", r.diags);
  r.config = read_redis_directory_config((*root)["directory"]["redis"], "directory.redis", ctx);
  return r;
}

TEST(RedisConfig, Defaults) {
  Read r = read("directory:\n  redis:\n    nodes: 127.0.0.1:6379\n");
  ASSERT_FALSE(r.diags.has_errors()) << r.diags.format_all();
  const RedisDirectoryConfig& c = r.config;
  ASSERT_EQ(c.nodes.size(), 1u);
  EXPECT_EQ(c.nodes[0].authority(), "127.0.0.1:6379");
  EXPECT_FALSE(c.cluster);
  EXPECT_EQ(c.key_prefix, "acct:");
  EXPECT_EQ(c.connections, 1);
  EXPECT_EQ(c.timeout, milliseconds(50));
  EXPECT_EQ(c.reconnect_min, milliseconds(100));
  EXPECT_EQ(c.reconnect_max, milliseconds(5000));
  EXPECT_EQ(c.max_redirects, 5);
  EXPECT_GT(c.cache.entries, 0u);
}

TEST(RedisConfig, EverySetting) {
  Read r = read(R"(directory:
  redis:
    nodes: [redis://127.0.0.1:7000, "[::1]:7001"]
    cluster: true
    key_prefix: "a:"
    connections: 2
    timeout: 20ms
    connect_timeout: 2s
    reconnect: {min: 50ms, max: 1s}
    max_pending: 100
    max_redirects: 3
    slot_refresh_interval: 0ms
    cache: {entries: 10, ttl: 1m, negative_ttl: 0ms}
)");
  ASSERT_FALSE(r.diags.has_errors()) << r.diags.format_all();
  const RedisDirectoryConfig& c = r.config;
  ASSERT_EQ(c.nodes.size(), 2u);
  EXPECT_EQ(c.nodes[1].host, "::1");
  EXPECT_EQ(c.nodes[1].authority(), "[::1]:7001");
  EXPECT_TRUE(c.cluster);
  EXPECT_EQ(c.key_prefix, "a:");
  EXPECT_EQ(c.connections, 2);
  EXPECT_EQ(c.timeout, milliseconds(20));
  EXPECT_EQ(c.connect_timeout, milliseconds(2000));
  EXPECT_EQ(c.reconnect_min, milliseconds(50));
  EXPECT_EQ(c.reconnect_max, milliseconds(1000));
  EXPECT_EQ(c.max_pending, 100u);
  EXPECT_EQ(c.max_redirects, 3);
  EXPECT_EQ(c.slot_refresh_interval, milliseconds(0));
  EXPECT_EQ(c.cache.entries, 10u);
  EXPECT_EQ(c.cache.ttl, milliseconds(60000));
  EXPECT_EQ(c.cache.negative_ttl, milliseconds(0));
}

TEST(RedisConfig, ErrorsNameFileLineColumnAndKey) {
  Read r = read(R"(directory:
  redis:
    nodes: [redis.internal:6379]
    timeout: fast
    connections: 0
    reconnect: {min: 5s, max: 1s}
    cache: {entries: 10, size: 3}
    colour: blue
)");
  const std::string all = r.diags.format_all();
  EXPECT_EQ(r.diags.error_count(), 6) << all;
  EXPECT_NE(all.find("gw.yaml:3:13: error: directory.redis.nodes"), std::string::npos) << all;
  EXPECT_NE(all.find("names are not resolved"), std::string::npos) << all;
  EXPECT_NE(all.find("gw.yaml:4:14: error: directory.redis.timeout"), std::string::npos) << all;
  EXPECT_NE(all.find("gw.yaml:5:18: error: directory.redis.connections"), std::string::npos) << all;
  EXPECT_NE(all.find("min is above max"), std::string::npos) << all;
  EXPECT_NE(all.find("size"), std::string::npos) << all;
  EXPECT_NE(all.find("colour"), std::string::npos) << all;
}

TEST(RedisConfig, NodesAreRequiredAndStandaloneHasOne) {
  Read missing = read("directory:\n  redis:\n    cluster: true\n");
  EXPECT_TRUE(missing.diags.has_errors());
  Read two = read("directory:\n  redis:\n    nodes: [127.0.0.1:1, 127.0.0.1:2]\n");
  EXPECT_NE(two.diags.format_all().find("one node without cluster"), std::string::npos)
      << two.diags.format_all();
}

TEST(RedisConfig, AStandaloneServerMayBeOnAUnixSocket) {
  Read r = read("directory:\n  redis:\n    nodes: [\"unix:/run/redis/redis.sock\"]\n");
  ASSERT_FALSE(r.diags.has_errors()) << r.diags.format_all();
  ASSERT_EQ(r.config.nodes.size(), 1u);
  EXPECT_EQ(r.config.nodes[0].socket_path, "/run/redis/redis.sock");
  EXPECT_EQ(r.config.nodes[0].authority(), "unix:/run/redis/redis.sock");
  EXPECT_EQ(describe_redis_directory(r.config), "redis:unix:/run/redis/redis.sock");
  EXPECT_EQ(parse_redis_socket("unix:///run/x.sock")->socket_path, "/run/x.sock");  // URI style
  EXPECT_FALSE(parse_redis_socket("unix:relative.sock"));
  EXPECT_FALSE(parse_redis_socket("unix:/" + std::string(200, 'x')));  // longer than sun_path
  EXPECT_FALSE(parse_redis_node("unix:/run/x.sock"));  // a redirect can never name one
  Read cluster = read("directory:\n  redis:\n    cluster: true\n    nodes: [\"unix:/run/x.sock\"]\n");
  EXPECT_NE(cluster.diags.format_all().find("a cluster's nodes are IP addresses and ports"),
            std::string::npos)
      << cluster.diags.format_all();
}

TEST(RedisConfig, AuthReadsThePasswordFileAndDbIsStandaloneOnly) {
  const std::string file = ::testing::TempDir() + "redis-config-test.pass";
  {
    std::ofstream(file) << "pa ss\r\nsecond line\n";
  }
  Read r = read("directory:\n  redis:\n    nodes: [127.0.0.1:6379]\n    auth: {username: rg, password_file: " +
                file + "}\n    db: 2\n");
  ASSERT_FALSE(r.diags.has_errors()) << r.diags.format_all();
  EXPECT_EQ(r.config.username, "rg");
  EXPECT_EQ(r.config.password, "pa ss");  // the first line, without its CR LF
  EXPECT_EQ(r.config.db, 2);
  Read missing = read("directory:\n  redis:\n    nodes: [127.0.0.1:6379]\n    auth: {password_file: /nonexistent/x}\n");
  EXPECT_NE(missing.diags.format_all().find("gw.yaml:4:27: error: directory.redis.auth.password_file: "
                                            "'/nonexistent/x': cannot open the password file"),
            std::string::npos)
      << missing.diags.format_all();
  // Never a device or a FIFO: /dev/zero would read without end.
  Read zero = read("directory:\n  redis:\n    nodes: [127.0.0.1:6379]\n    auth: {password_file: /dev/zero}\n");
  EXPECT_NE(zero.diags.format_all().find("'/dev/zero': the password file is not a regular file"),
            std::string::npos)
      << zero.diags.format_all();
  Read cluster = read("directory:\n  redis:\n    cluster: true\n    nodes: [127.0.0.1:1]\n    db: 1\n");
  EXPECT_NE(cluster.diags.format_all().find("a Redis Cluster has only db 0"), std::string::npos);
  std::remove(file.c_str());
}

}  // namespace
}  // namespace regiongate
