#include "proxy/config/server_config.h"
#include "tests/proxy/config/read_server_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace regiongate {
namespace {

using testing::Read;
using testing::read;

TEST(ServerConfig, DefaultsWithoutASection) {
  Read r = read("policy: p.yaml\n");
  EXPECT_FALSE(r.diags.has_errors());
  EXPECT_EQ(r.config.startup.workers, 0);
  EXPECT_TRUE(r.config.startup.listeners.empty());
  EXPECT_EQ(r.config.reloadable.http2.max_concurrent_streams, 128u);
  EXPECT_EQ(r.config.reloadable.timeouts.connect, Milliseconds(2000));
}

// The lingering close of a client connection the gateway ends: bounded in
// time and bytes by default, off with 0s.
TEST(ServerConfig, LingeringCloseBounds) {
  Read defaults = read("server: {workers: 1}\n");
  EXPECT_EQ(defaults.config.reloadable.timeouts.linger, Milliseconds(2000));
  EXPECT_EQ(defaults.config.reloadable.timeouts.linger_bytes, 1u << 20);
  Read set = read("server:\n  timeouts: {linger: 0s, linger_bytes: 4096}\n");
  ASSERT_FALSE(set.diags.has_errors()) << set.diags.format_all();
  EXPECT_EQ(set.config.reloadable.timeouts.linger, Milliseconds(0));
  EXPECT_EQ(set.config.reloadable.timeouts.linger_bytes, 4096u);
  Read bad = read("server:\n  timeouts: {linger: -1s, linger_bytes: 2000000000}\n");
  std::string all = bad.diags.format_all();
  EXPECT_NE(all.find("server.timeouts.linger:"), std::string::npos) << all;
  EXPECT_NE(all.find("server.timeouts.linger_bytes: must be between 0 and 1073741824"),
            std::string::npos)
      << all;
}

// A response the client stops reading is reset after timeouts.stall: 30 s
// by default; it must be more than zero (a stall of 0 would reset every
// response that waits a moment for its client).
TEST(ServerConfig, StallTimeout) {
  EXPECT_EQ(read("server: {workers: 1}\n").config.reloadable.timeouts.stall, Milliseconds(30000));
  Read set = read("server:\n  timeouts: {stall: 5s}\n");
  ASSERT_FALSE(set.diags.has_errors()) << set.diags.format_all();
  EXPECT_EQ(set.config.reloadable.timeouts.stall, Milliseconds(5000));
  Read bad = read("server:\n  timeouts: {stall: 0s}\n");
  const std::string all = bad.diags.format_all();
  EXPECT_TRUE(bad.diags.has_errors());
  EXPECT_NE(all.find(":2:"), std::string::npos) << all;  // file:line:col
  EXPECT_NE(all.find("server.timeouts.stall"), std::string::npos) << all;
}

// An open header block must be complete within timeouts.request_headers:
// 10 s by default, more than zero.
TEST(ServerConfig, RequestHeadersTimeout) {
  EXPECT_EQ(read("server: {workers: 1}\n").config.reloadable.timeouts.request_headers,
            Milliseconds(10000));
  Read set = read("server:\n  timeouts: {request_headers: 2s}\n");
  ASSERT_FALSE(set.diags.has_errors()) << set.diags.format_all();
  EXPECT_EQ(set.config.reloadable.timeouts.request_headers, Milliseconds(2000));
  Read bad = read("server:\n  timeouts: {request_headers: 0s}\n");
  EXPECT_NE(bad.diags.format_all().find("server.timeouts.request_headers"), std::string::npos)
      << bad.diags.format_all();
}

// Connection caps: 50,000 in all and 2,000 per address by default (phones
// behind carrier-grade NAT share addresses), each at least 1; unknown keys
// are errors.
TEST(ServerConfig, ConnectionLimits) {
  Read defaults = read("server: {workers: 1}\n");
  EXPECT_EQ(defaults.config.reloadable.limits.connections, 50000u);
  EXPECT_EQ(defaults.config.reloadable.limits.connections_per_address, 2000u);
  Read set = read("server:\n  limits: {connections: 100, connections_per_address: 10}\n");
  ASSERT_FALSE(set.diags.has_errors()) << set.diags.format_all();
  EXPECT_EQ(set.config.reloadable.limits.connections, 100u);
  EXPECT_EQ(set.config.reloadable.limits.connections_per_address, 10u);
  Read bad = read("server:\n  limits: {connections: 0, per_ip: 3}\n");
  const std::string all = bad.diags.format_all();
  EXPECT_NE(all.find("server.limits.connections: must be between 1 and 10000000"), std::string::npos) << all;
  EXPECT_NE(all.find("per_ip"), std::string::npos) << all;
}

// The rapid-reset budget: 200 at once and 33 a second by default, each at
// least 1.
TEST(ServerConfig, ResetBudget) {
  Read defaults = read("server: {workers: 1}\n");
  EXPECT_EQ(defaults.config.reloadable.http2.reset_burst, 200u);
  EXPECT_EQ(defaults.config.reloadable.http2.reset_rate, 33u);
  Read set = read("server:\n  http2: {reset_burst: 50, reset_rate: 5}\n");
  ASSERT_FALSE(set.diags.has_errors()) << set.diags.format_all();
  EXPECT_EQ(set.config.reloadable.http2.reset_burst, 50u);
  EXPECT_EQ(set.config.reloadable.http2.reset_rate, 5u);
  Read bad = read("server:\n  http2: {reset_burst: 0}\n");
  EXPECT_NE(bad.diags.format_all().find("server.http2.reset_burst: must be between 1 and 100000"),
            std::string::npos)
      << bad.diags.format_all();
}

// The control-frame budget: 1,000 at once and 100 a second by default.
TEST(ServerConfig, ControlFrameBudget) {
  Read defaults = read("server: {workers: 1}\n");
  EXPECT_EQ(defaults.config.reloadable.http2.control_burst, 1000u);
  EXPECT_EQ(defaults.config.reloadable.http2.control_rate, 100u);
  Read set = read("server:\n  http2: {control_burst: 20, control_rate: 2}\n");
  ASSERT_FALSE(set.diags.has_errors()) << set.diags.format_all();
  EXPECT_EQ(set.config.reloadable.http2.control_burst, 20u);
  EXPECT_EQ(set.config.reloadable.http2.control_rate, 2u);
  Read bad = read("server:\n  http2: {control_rate: 0}\n");
  EXPECT_NE(bad.diags.format_all().find("server.http2.control_rate: must be between 1 and 1000000"),
            std::string::npos)
      << bad.diags.format_all();
}

TEST(ServerConfig, TheAdminListenerIsOffUnlessConfiguredAndLoopbackByDefault) {
  EXPECT_FALSE(read("server: {workers: 1}\n").config.startup.admin.enabled);
  Read defaults = read("server:\n  admin: {}\n");
  ASSERT_FALSE(defaults.diags.has_errors()) << defaults.diags.format_all();
  EXPECT_TRUE(defaults.config.startup.admin.enabled);
  EXPECT_EQ(defaults.config.startup.admin.host, "127.0.0.1");
  EXPECT_EQ(defaults.config.startup.admin.port, 9901);
  // Beyond loopback it is served, with a warning that says what is exposed.
  Read open = read("server:\n  admin: {address: \"0.0.0.0:9901\"}\n");
  ASSERT_FALSE(open.diags.has_errors()) << open.diags.format_all();
  EXPECT_NE(open.diags.format_all().find("reachable beyond this machine"), std::string::npos)
      << open.diags.format_all();
  // The old scalar form, and a bad address, are errors with the place.
  Read scalar = read("server:\n  admin: 127.0.0.1:9901\n");
  EXPECT_TRUE(scalar.diags.has_errors());
  Read bad = read("server:\n  admin: {address: localhost}\n");
  EXPECT_NE(bad.diags.format_all().find("server.admin.address"), std::string::npos)
      << bad.diags.format_all();
}

TEST(ServerConfig, ReadsEverySetting) {
  Read r = read(R"(
server:
  workers: 1
  listen:
    - address: 127.0.0.1:0
    - address: "[::1]:8443"
      tls:
        certificates:
          - {cert: certs/a.pem, key: certs/a.key}
          - {cert: /abs/b.pem, key: /abs/b.key}
  admin: {address: "[::1]:9902"}
  http2: {max_concurrent_streams: 64, initial_window_size: 65535, max_header_list_size: 8192}
  timeouts: {connect: 500ms, response_headers: 10s, idle: 2m, origin_idle: 1h, drain: 3s}
  origin: {ca_file: ca.pem, max_connections_per_endpoint: 2}
  dns: {servers: ["127.0.0.1:5353"], timeout: 1s, min_ttl: 1s, max_ttl: 60s}
  access_log: off
)");
  ASSERT_FALSE(r.diags.has_errors()) << r.diags.format_all();
  const ServerConfig& c = r.config;
  EXPECT_EQ(c.startup.workers, 1);
  ASSERT_EQ(c.startup.listeners.size(), 2u);
  EXPECT_EQ(c.startup.listeners[0].host, "127.0.0.1");
  EXPECT_EQ(c.startup.listeners[0].port, 0);
  EXPECT_FALSE(c.startup.listeners[0].tls);
  EXPECT_EQ(c.startup.listeners[1].host, "::1");
  EXPECT_EQ(c.startup.listeners[1].port, 8443);
  ASSERT_EQ(c.startup.listeners[1].certificates.size(), 2u);
  EXPECT_EQ(c.startup.listeners[1].certificates[0].cert_file, "/etc/regiongate/certs/a.pem");
  EXPECT_EQ(c.startup.listeners[1].certificates[1].key_file, "/abs/b.key");
  EXPECT_TRUE(c.startup.admin.enabled);
  EXPECT_EQ(c.startup.admin.host, "::1");
  EXPECT_EQ(c.startup.admin.port, 9902);
  EXPECT_EQ(c.reloadable.http2.max_concurrent_streams, 64u);
  EXPECT_EQ(c.reloadable.http2.initial_window_size, 65535u);
  EXPECT_EQ(c.reloadable.timeouts.connect, Milliseconds(500));
  EXPECT_EQ(c.reloadable.timeouts.idle, Milliseconds(120000));
  EXPECT_EQ(c.reloadable.timeouts.origin_idle, Milliseconds(3600000));
  EXPECT_EQ(c.reloadable.timeouts.drain, Milliseconds(3000));
  EXPECT_EQ(r.diags.format_all(), "");  // loopback: no warning
  EXPECT_EQ(c.reloadable.origin.ca_file, "/etc/regiongate/ca.pem");
  EXPECT_EQ(c.reloadable.dns.servers, std::vector<std::string>{"127.0.0.1:5353"});
  EXPECT_EQ(c.reloadable.dns.max_ttl, Milliseconds(60000));
  EXPECT_EQ(c.startup.access_log.file, "off");
}

TEST(ServerConfig, ErrorsNameThePlace) {
  Read r = read(R"(
server:
  workers: many
  listen:
    - address: localhost:80
    - {address: "127.0.0.1:443", tls: {certificates: []}}
    - {adress: "127.0.0.1:1"}
  http2: {max_frame_size: 100, initial_window_size: 4294967295}
  timeouts: {connect: 2 seconds, idle: 0s}
  dns: {servers: [dns.example:53], min_ttl: 10m, max_ttl: 1m}
  colour: blue
)");
  std::string all = r.diags.format_all();
  for (const char* want : {
           ":3:12: error: server.workers: not a whole number: 'many'",
           ":5:16: error: server.listen[0].address: an IP address and port",
           ":6:54: error: server.listen[1].tls: needs a certificate",
           ":7:8: error: server.listen[2]: unknown key 'adress'",
           ":8:27: error: server.http2.max_frame_size: must be between 16384 and 16777215",
           ":8:53: error: server.http2.initial_window_size: must be between 1024 and 2147483647",
           ":9:23: error: server.timeouts.connect: a positive duration",
           ":9:40: error: server.timeouts.idle: a positive duration",
           ":10:19: error: server.dns.servers: an IP address and port, not 'dns.example:53'",
           "error: server.dns: min_ttl is above max_ttl",
           ":11:3: error: server: unknown key 'colour'",
       }) {
    EXPECT_NE(all.find(want), std::string::npos) << want << "\nin:\n" << all;
  }
}

TEST(ServerConfig, Durations) {
  EXPECT_EQ(parse_duration("250ms"), Milliseconds(250));
  EXPECT_EQ(parse_duration("2s"), Milliseconds(2000));
  EXPECT_EQ(parse_duration("5m"), Milliseconds(300000));
  for (const char* bad : {"", "2", "s", "-1s", "2 s", "2sec", "1.5s", "2S"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

TEST(ServerConfig, TheAccessLogKeepsWhatItIsToldTo) {
  Read plain = read("server:\n  access_log: logs/access.log\n");
  EXPECT_EQ(plain.config.startup.access_log.file, "/etc/regiongate/logs/access.log");
  EXPECT_EQ(plain.config.startup.access_log.path, AccessLogSettings::Path::kWithoutQuery);
  EXPECT_EQ(plain.config.startup.access_log.account, AccessLogSettings::Account::kOmit);
  Read full = read("server:\n  access_log: {file: '-', path: full, account: keep}\n");
  EXPECT_FALSE(full.diags.has_errors()) << full.diags.format_all();
  EXPECT_EQ(full.config.startup.access_log.path, AccessLogSettings::Path::kFull);
  EXPECT_EQ(full.config.startup.access_log.account, AccessLogSettings::Account::kKeep);
  Read bad = read(R"(
server:
  access_log: {file: '-', path: some, account: hash}
)");
  std::string all = bad.diags.format_all();
  EXPECT_NE(all.find(":3:33: error: server.access_log.path: 'full', 'without-query' or 'off', not 'some'"),
            std::string::npos) << all;
  EXPECT_NE(all.find("account: hash needs account_hash_key"), std::string::npos) << all;
  const std::string key_file = ::testing::TempDir() + "regiongate-short-key-" +
                               std::to_string(::getpid());
  std::ofstream(key_file) << "short";
  Read short_key = read("server:\n  access_log: {file: '-', account: hash, account_hash_key: " +
                        key_file + "}\n");
  std::remove(key_file.c_str());
  EXPECT_NE(short_key.diags.format_all().find("'" + key_file + "' holds 5 bytes: a key needs at least 16"),
            std::string::npos) << short_key.diags.format_all();
  // Only a regular file: /dev/zero would be read without end, a FIFO waited on.
  Read device = read(R"(
server:
  access_log: {file: '-', account: hash, account_hash_key: /dev/zero}
)");
  EXPECT_NE(device.diags.format_all().find(
                ":3:60: error: server.access_log.account_hash_key: cannot read '/dev/zero': the "
                "key file is not a regular file (a character device)"),
            std::string::npos) << device.diags.format_all();
}

// What only a restart can apply is named; what a reload may change is not.
TEST(ServerConfig, RestartChangesNameWhatAReloadCannotApply) {
  Read a = read(R"(
server:
  workers: 2
  listen: [{address: "127.0.0.1:8080"}]
  timeouts: {idle: 10s}
)");
  Read same_startup = read(R"(
server:
  workers: 2
  listen: [{address: "127.0.0.1:8080"}]
  timeouts: {idle: 20s}
  http2: {max_concurrent_streams: 10}
)");
  EXPECT_TRUE(restart_changes(a.config, same_startup.config).empty());
  Read b = read(R"(
server:
  workers: 4
  listen: [{address: "127.0.0.1:8080"}, {address: "[::1]:8443"}]
  access_log: "off"
)");
  std::vector<std::string> changes = restart_changes(a.config, b.config);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0], "server.workers: 2 -> 4");
  EXPECT_EQ(changes[1],
            "server.listen: cleartext 127.0.0.1:8080 -> cleartext 127.0.0.1:8080, cleartext [::1]:8443");
  EXPECT_EQ(changes[2], "server.access_log: - -> off");
  Read c = read(R"(
server:
  workers: 2
  listen: [{address: "127.0.0.1:8080"}]
  dns: {servers: ["127.0.0.1:5353"]}
)");
  changes = restart_changes(a.config, c.config);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], "server.dns: changed");
}

// A TLS listener's certificate files reload (runtime/listener_tls.h); its
// address, and whether it is TLS, only a restart changes.
TEST(ServerConfig, CertificateFilesAreNoRestartChange) {
  Read running = read(R"(
server:
  listen: [{address: "127.0.0.1:8443", tls: {certificates: [{cert: a.pem, key: a.key}]}}]
)");
  Read other_files = read(R"(
server:
  listen: [{address: "127.0.0.1:8443",
            tls: {certificates: [{cert: b.pem, key: b.key}, {cert: c.pem, key: c.key}]}}]
)");
  EXPECT_TRUE(restart_changes(running.config, other_files.config).empty());
  Read cleartext = read(R"(
server:
  listen: [{address: "127.0.0.1:8443"}]
)");
  std::vector<std::string> changes = restart_changes(running.config, cleartext.config);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], "server.listen: tls 127.0.0.1:8443 -> cleartext 127.0.0.1:8443");
}

}  // namespace
}  // namespace regiongate
