#include "proxy/config/server_config.h"

#include <charconv>

#include "maps/datacenter.h"
#include "maps/ip_network.h"
#include "util/regular_file.h"

namespace regiongate {
namespace {

// The access log's account hash key: a regular file (util/regular_file.h)
// of a secret of at least 16 bytes, at most 1 MiB.
constexpr FileKind kHashKeyFile{"key file", 1 << 20};

constexpr KeySpec kServerKeys[] = {
    {"workers", YamlKind::kScalar, false},   {"listen", YamlKind::kSequence, false},
    {"admin", YamlKind::kMap, false},        {"http2", YamlKind::kMap, false},
    {"timeouts", YamlKind::kMap, false},     {"origin", YamlKind::kMap, false},
    {"dns", YamlKind::kMap, false},          {"access_log", YamlKind::kAny, false},
    {"audit_log", YamlKind::kMap, false},   {"health", YamlKind::kMap, false},
    {"limits", YamlKind::kMap, false},
};
constexpr KeySpec kLimitKeys[] = {{"connections", YamlKind::kScalar, false},
                                  {"connections_per_address", YamlKind::kScalar, false}};
constexpr KeySpec kAdminKeys[] = {{"address", YamlKind::kScalar, false}};
constexpr KeySpec kHealthKeys[] = {{"path", YamlKind::kScalar, false},
                                   {"interval", YamlKind::kScalar, false},
                                   {"timeout", YamlKind::kScalar, false},
                                   {"rise", YamlKind::kScalar, false},
                                   {"fall", YamlKind::kScalar, false},
                                   {"nearest", YamlKind::kScalar, false},
                                   {"latency_tolerance", YamlKind::kScalar, false}};
constexpr KeySpec kAuditLogKeys[] = {{"file", YamlKind::kScalar, true},
                                     {"records", YamlKind::kScalar, false},
                                     {"client_prefix_v4", YamlKind::kScalar, false},
                                     {"client_prefix_v6", YamlKind::kScalar, false},
                                     {"required", YamlKind::kScalar, false}};
constexpr KeySpec kAccessLogKeys[] = {{"file", YamlKind::kScalar, true},
                                      {"path", YamlKind::kScalar, false},
                                      {"account", YamlKind::kScalar, false},
                                      {"account_hash_key", YamlKind::kScalar, false}};
constexpr KeySpec kListenKeys[] = {{"address", YamlKind::kScalar, true},
                                   {"tls", YamlKind::kMap, false}};
constexpr KeySpec kTlsKeys[] = {{"certificates", YamlKind::kSequence, true}};
constexpr KeySpec kCertKeys[] = {{"cert", YamlKind::kScalar, true},
                                 {"key", YamlKind::kScalar, true}};
constexpr KeySpec kHttp2Keys[] = {
    {"max_concurrent_streams", YamlKind::kScalar, false},
    {"initial_window_size", YamlKind::kScalar, false},
    {"connection_window_size", YamlKind::kScalar, false},
    {"max_header_list_size", YamlKind::kScalar, false},
    {"max_frame_size", YamlKind::kScalar, false},
    {"reset_burst", YamlKind::kScalar, false},
    {"reset_rate", YamlKind::kScalar, false},
    {"control_burst", YamlKind::kScalar, false},
    {"control_rate", YamlKind::kScalar, false},
};
constexpr KeySpec kTimeoutKeys[] = {
    {"connect", YamlKind::kScalar, false},     {"response_headers", YamlKind::kScalar, false},
    {"idle", YamlKind::kScalar, false},        {"handshake", YamlKind::kScalar, false},
    {"origin_idle", YamlKind::kScalar, false}, {"drain", YamlKind::kScalar, false},
    {"linger", YamlKind::kScalar, false},      {"linger_bytes", YamlKind::kScalar, false},
    {"stall", YamlKind::kScalar, false},       {"request_headers", YamlKind::kScalar, false},
};
constexpr KeySpec kOriginKeys[] = {{"ca_file", YamlKind::kScalar, false},
                                   {"max_connections_per_endpoint", YamlKind::kScalar, false}};
constexpr KeySpec kDnsKeys[] = {
    {"servers", YamlKind::kScalarOrSequence, false}, {"timeout", YamlKind::kScalar, false},
    {"min_ttl", YamlKind::kScalar, false},           {"max_ttl", YamlKind::kScalar, false},
};

// Reads an optional unsigned setting into `out`, within [min, max].
void read_u32(const YAML::Node& map, const char* key, const std::string& path, YamlContext& ctx,
              std::uint32_t min, std::uint32_t max, std::uint32_t& out) {
  if (!map[key]) return;
  if (auto v = read_int(map[key], key_path(path, key), ctx, min, max)) {
    out = static_cast<std::uint32_t>(*v);
  }
}

// "127.0.0.1:8080", "[::1]:8443": a literal address, so that listening never
// depends on DNS.
bool is_loopback(const std::string& host) {
  static const IpNetwork v4 = *IpNetwork::parse("127.0.0.0/8");
  static const IpNetwork v6 = *IpNetwork::parse("::1");
  auto address = IpAddress::parse(host);
  return address && (v4.contains(*address) || v6.contains(*address));
}

bool read_address(const YAML::Node& node, const std::string& path, YamlContext& ctx,
                  std::string& host, std::uint16_t& port) {
  auto text = read_string(node, path, ctx);
  if (!text) return false;
  std::string h;
  std::uint16_t p = 0;
  // Port 0 is allowed here (the kernel picks one): parse it separately.
  bool zero = text->size() > 2 && text->substr(text->size() - 2) == ":0";
  std::string probe = zero ? text->substr(0, text->size() - 1) + "1" : *text;
  if (!parse_host_port(probe, &h, &p) || !IpAddress::parse(h)) {
    ctx.error(node, path, "an IP address and port like 127.0.0.1:8080 or [::1]:8443, not '" +
                              *text + "'");
    return false;
  }
  host = h;
  port = zero ? 0 : p;
  return true;
}

void read_listener(const YAML::Node& node, const std::string& path, YamlContext& ctx,
                   ServerConfig& out) {
  if (!check_map(node, kListenKeys, path, ctx)) return;
  ListenerConfig l;
  if (!node["address"]) return;  // check_map has reported it
  if (!read_address(node["address"], key_path(path, "address"), ctx, l.host, l.port)) return;
  if (const YAML::Node& tls = node["tls"]; tls && tls.IsMap()) {
    l.tls = true;
    const std::string tls_path = key_path(path, "tls");
    if (check_map(tls, kTlsKeys, tls_path, ctx) && tls["certificates"] &&
        tls["certificates"].IsSequence()) {
      const YAML::Node& certs = tls["certificates"];
      if (certs.size() == 0) ctx.error(certs, tls_path, "needs a certificate");
      for (std::size_t i = 0; i < certs.size(); ++i) {
        const std::string cert_path = index_path(key_path(tls_path, "certificates"), i);
        if (!check_map(certs[i], kCertKeys, cert_path, ctx)) continue;
        auto cert = read_string(certs[i]["cert"], key_path(cert_path, "cert"), ctx);
        auto key = read_string(certs[i]["key"], key_path(cert_path, "key"), ctx);
        if (cert && key) {
          l.certificates.push_back(
              {resolve_relative(ctx.file(), *cert), resolve_relative(ctx.file(), *key)});
        }
      }
    }
  }
  out.startup.listeners.push_back(std::move(l));
}

}  // namespace

namespace {

// `access_log: FILE`, or a map with the file and what to keep.
AccessLogSettings read_access_log(const YAML::Node& node, YamlContext& ctx) {
  AccessLogSettings log;
  const std::string path = "server.access_log";
  auto file = [&](const YAML::Node& n, const std::string& key) {
    std::string f = read_string(n, key, ctx).value_or("-");
    return (f == "-" || f == "off") ? f : resolve_relative(ctx.file(), f);
  };
  if (node.IsScalar()) {
    log.file = file(node, path);
    return log;
  }
  if (!check_map(node, kAccessLogKeys, path, ctx)) return log;
  log.file = file(node["file"], path + ".file");
  if (node["path"]) {
    if (auto c = read_choice(node["path"], path + ".path", ctx, {"full", "without-query", "off"})) {
      log.path = static_cast<AccessLogSettings::Path>(*c);
    }
  }
  if (node["account"]) {
    if (auto c = read_choice(node["account"], path + ".account", ctx, {"omit", "hash", "keep"})) {
      log.account = static_cast<AccessLogSettings::Account>(*c);
    }
  }
  if (log.account == AccessLogSettings::Account::kHash) {
    if (!node["account_hash_key"]) {
      ctx.error(node, path, "account: hash needs account_hash_key (a file with a secret)");
      return log;
    }
    log.hash_key_file = resolve_relative(
        ctx.file(), read_string(node["account_hash_key"], path + ".account_hash_key", ctx).value_or(""));
    if (std::string why; !read_regular_file(log.hash_key_file, kHashKeyFile, &log.hash_key, &why)) {
      ctx.error(node["account_hash_key"], path + ".account_hash_key",
                "cannot read '" + log.hash_key_file + "': " + why);
    } else if (log.hash_key.size() < 16) {
      ctx.error(node["account_hash_key"], path + ".account_hash_key",
                "'" + log.hash_key_file + "' holds " + std::to_string(log.hash_key.size()) +
                    " bytes: a key needs at least 16");
    }
  }
  return log;
}

AuditLogSettings read_audit_log(const YAML::Node& node, YamlContext& ctx) {
  AuditLogSettings log;
  const std::string path = "server.audit_log";
  if (!check_map(node, kAuditLogKeys, path, ctx)) return log;
  std::string file = read_string(node["file"], path + ".file", ctx).value_or("off");
  log.file = file == "off" ? file : resolve_relative(ctx.file(), file);
  if (node["records"]) {
    if (auto c = read_choice(node["records"], path + ".records", ctx, {"refusals-and-abroad", "all"})) {
      log.records = static_cast<AuditLogSettings::Records>(*c);
    }
  }
  if (node["client_prefix_v4"]) {
    log.client_prefix_v4 = static_cast<int>(
        read_int(node["client_prefix_v4"], path + ".client_prefix_v4", ctx, 0, 32).value_or(24));
  }
  if (node["client_prefix_v6"]) {
    log.client_prefix_v6 = static_cast<int>(
        read_int(node["client_prefix_v6"], path + ".client_prefix_v6", ctx, 0, 128).value_or(48));
  }
  if (node["required"]) {
    log.required = read_bool(node["required"], path + ".required", ctx).value_or(false);
    if (log.required && log.file == "off") {
      ctx.error(node["required"], path + ".required", "a required audit log needs a file, not off");
    }
  }
  return log;
}

}  // namespace

ServerConfig read_server_config(const YAML::Node& node, YamlContext& ctx) {
  ServerConfig c;
  if (!node || node.IsNull()) return c;
  const std::string path = "server";
  if (!check_map(node, kServerKeys, path, ctx)) return c;
  if (node["workers"]) {
    c.startup.workers =
        static_cast<int>(read_int(node["workers"], "server.workers", ctx, 0, 256).value_or(0));
  }
  if (const YAML::Node& listen = node["listen"]; listen && listen.IsSequence()) {
    for (std::size_t i = 0; i < listen.size(); ++i) {
      read_listener(listen[i], index_path("server.listen", i), ctx, c);
    }
  }
  if (const YAML::Node& admin = node["admin"]; admin && check_map(admin, kAdminKeys, "server.admin", ctx)) {
    AdminSettings& a = c.startup.admin;
    a.enabled = !admin["address"] ||
                read_address(admin["address"], "server.admin.address", ctx, a.host, a.port);
    // /reload and /explain are for operators: say so when it is not loopback.
    if (a.enabled && !is_loopback(a.host)) {
      ctx.warning(admin["address"], "server.admin.address",
                  "the admin listener (/reload, /explain, /metrics) is reachable beyond this "
                  "machine at " + a.host + "; keep it on loopback or behind a firewall");
    }
  }
  if (const YAML::Node& h2 = node["http2"]; h2 && check_map(h2, kHttp2Keys, "server.http2", ctx)) {
    const std::string p = "server.http2";
    read_u32(h2, "max_concurrent_streams", p, ctx, 1, 10000, c.reloadable.http2.max_concurrent_streams);
    // RFC 9113 6.5.2: window sizes up to 2^31-1, frame sizes 2^14..2^24-1.
    read_u32(h2, "initial_window_size", p, ctx, 1024, 0x7fffffff, c.reloadable.http2.initial_window_size);
    read_u32(h2, "connection_window_size", p, ctx, 65535, 0x7fffffff,
             c.reloadable.http2.connection_window_size);
    read_u32(h2, "max_header_list_size", p, ctx, 1024, 1 << 24, c.reloadable.http2.max_header_list_size);
    read_u32(h2, "max_frame_size", p, ctx, 1 << 14, (1 << 24) - 1, c.reloadable.http2.max_frame_size);
    read_u32(h2, "reset_burst", p, ctx, 1, 100000, c.reloadable.http2.reset_burst);
    read_u32(h2, "reset_rate", p, ctx, 1, 100000, c.reloadable.http2.reset_rate);
    read_u32(h2, "control_burst", p, ctx, 1, 1000000, c.reloadable.http2.control_burst);
    read_u32(h2, "control_rate", p, ctx, 1, 1000000, c.reloadable.http2.control_rate);
  }
  if (const YAML::Node& l = node["limits"]; l && check_map(l, kLimitKeys, "server.limits", ctx)) {
    const std::string p = "server.limits";
    read_u32(l, "connections", p, ctx, 1, 10000000, c.reloadable.limits.connections);
    read_u32(l, "connections_per_address", p, ctx, 1, 10000000,
             c.reloadable.limits.connections_per_address);
  }
  if (const YAML::Node& t = node["timeouts"]; t && check_map(t, kTimeoutKeys, "server.timeouts", ctx)) {
    const std::string p = "server.timeouts";
    read_duration(t, "connect", p, ctx, c.reloadable.timeouts.connect);
    read_duration(t, "response_headers", p, ctx, c.reloadable.timeouts.response_headers);
    read_duration(t, "idle", p, ctx, c.reloadable.timeouts.idle);
    read_duration(t, "origin_idle", p, ctx, c.reloadable.timeouts.origin_idle);
    read_duration(t, "drain", p, ctx, c.reloadable.timeouts.drain);
    read_duration(t, "handshake", p, ctx, c.reloadable.timeouts.handshake);
    read_duration(t, "linger", p, ctx, c.reloadable.timeouts.linger, /*zero_allowed=*/true);
    read_u32(t, "linger_bytes", p, ctx, 0, 1 << 30, c.reloadable.timeouts.linger_bytes);
    read_duration(t, "stall", p, ctx, c.reloadable.timeouts.stall);
    read_duration(t, "request_headers", p, ctx, c.reloadable.timeouts.request_headers);
  }
  if (const YAML::Node& o = node["origin"]; o && check_map(o, kOriginKeys, "server.origin", ctx)) {
    if (o["ca_file"]) {
      c.reloadable.origin.ca_file = resolve_relative(
          ctx.file(), read_string(o["ca_file"], "server.origin.ca_file", ctx).value_or(""));
    }
    read_u32(o, "max_connections_per_endpoint", "server.origin", ctx, 1, 1024,
             c.reloadable.origin.max_connections_per_endpoint);
  }
  if (const YAML::Node& d = node["dns"]; d && check_map(d, kDnsKeys, "server.dns", ctx)) {
    if (d["servers"]) {
      for (const YamlString& s : read_string_list(d["servers"], "server.dns.servers", ctx)) {
        std::string host;
        std::uint16_t port = 0;
        if (!parse_host_port(s.value, &host, &port) || !IpAddress::parse(host)) {
          ctx.error(s.node, "server.dns.servers", "an IP address and port, not '" + s.value + "'");
        } else {
          c.reloadable.dns.servers.push_back(s.value);
        }
      }
    }
    read_duration(d, "timeout", "server.dns", ctx, c.reloadable.dns.timeout);
    read_duration(d, "min_ttl", "server.dns", ctx, c.reloadable.dns.min_ttl);
    read_duration(d, "max_ttl", "server.dns", ctx, c.reloadable.dns.max_ttl);
    if (c.reloadable.dns.min_ttl > c.reloadable.dns.max_ttl) ctx.error(d, "server.dns", "min_ttl is above max_ttl");
  }
  if (node["access_log"]) c.startup.access_log = read_access_log(node["access_log"], ctx);
  if (node["audit_log"]) c.startup.audit_log = read_audit_log(node["audit_log"], ctx);
  if (const YAML::Node& h = node["health"]; h && check_map(h, kHealthKeys, "server.health", ctx)) {
    HealthSettings& health = c.startup.health;
    health.enabled = true;
    if (h["path"]) {
      health.path = read_string(h["path"], "server.health.path", ctx).value_or("/healthz");
      if (health.path.empty() || health.path[0] != '/') {
        ctx.error(h["path"], "server.health.path", "a path starting with '/'");
      }
    }
    read_duration(h, "interval", "server.health", ctx, health.interval);
    read_duration(h, "timeout", "server.health", ctx, health.timeout);
    if (h["rise"]) health.rise = static_cast<int>(read_int(h["rise"], "server.health.rise", ctx, 1, 100).value_or(2));
    if (h["fall"]) health.fall = static_cast<int>(read_int(h["fall"], "server.health.fall", ctx, 1, 100).value_or(2));
    if (h["nearest"]) {
      if (auto c =
              read_choice(h["nearest"], "server.health.nearest", ctx, {"distance", "latency"})) {
        health.nearest = static_cast<HealthSettings::Nearest>(*c);
      }
    }
    read_duration(h, "latency_tolerance", "server.health", ctx, health.latency_tolerance);
    if (h["latency_tolerance"] && health.nearest != HealthSettings::Nearest::kLatency) {
      ctx.warning(h["latency_tolerance"], "server.health.latency_tolerance",
                  "has an effect only with nearest: latency");
    }
  }
  return c;
}

std::string describe_listener(const ListenerConfig& l) {
  std::string host = l.host.find(':') != std::string::npos ? "[" + l.host + "]" : l.host;
  return (l.tls ? "tls " : "cleartext ") + host + ":" + std::to_string(l.port);
}

bool same_listen_address(const ListenerConfig& a, const ListenerConfig& b) {
  return a.host == b.host && a.port == b.port && a.tls == b.tls;
}

namespace {

std::string describe(const std::vector<ListenerConfig>& listeners) {
  std::string out;
  for (const ListenerConfig& l : listeners) out += (out.empty() ? "" : ", ") + describe_listener(l);
  return out.empty() ? "none" : out;
}

}  // namespace

std::vector<std::string> restart_changes(const ServerConfig& running_config,
                                         const ServerConfig& loaded_config) {
  const StartupSettings& running = running_config.startup;
  const StartupSettings& loaded = loaded_config.startup;
  std::vector<std::string> out;
  if (running.workers != loaded.workers) {
    out.push_back("server.workers: " + std::to_string(running.workers) + " -> " +
                  std::to_string(loaded.workers));
  }
  bool listeners_same = running.listeners.size() == loaded.listeners.size();
  for (std::size_t i = 0; listeners_same && i < running.listeners.size(); ++i) {
    listeners_same = same_listen_address(running.listeners[i], loaded.listeners[i]);
  }
  if (!listeners_same) {
    out.push_back("server.listen: " + describe(running.listeners) + " -> " +
                  describe(loaded.listeners));
  }
  if (running.admin.enabled != loaded.admin.enabled || running.admin.host != loaded.admin.host ||
      running.admin.port != loaded.admin.port) {
    out.push_back("server.admin: changed");
  }
  const AccessLogSettings& la = running.access_log;
  const AccessLogSettings& lb = loaded.access_log;
  if (la.file != lb.file) out.push_back("server.access_log: " + la.file + " -> " + lb.file);
  if (la.path != lb.path || la.account != lb.account || la.hash_key != lb.hash_key) {
    out.push_back("server.access_log: what it keeps changed");
  }
  const AuditLogSettings& aa = running.audit_log;
  const AuditLogSettings& ab = loaded.audit_log;
  if (aa.file != ab.file || aa.records != ab.records ||
      aa.client_prefix_v4 != ab.client_prefix_v4 || aa.client_prefix_v6 != ab.client_prefix_v6 ||
      aa.required != ab.required) {
    out.push_back("server.audit_log: changed");
  }
  const HealthSettings& ha = running.health;
  const HealthSettings& hb = loaded.health;
  if (ha.enabled != hb.enabled || ha.path != hb.path || ha.interval != hb.interval ||
      ha.timeout != hb.timeout || ha.rise != hb.rise || ha.fall != hb.fall ||
      ha.nearest != hb.nearest || ha.latency_tolerance != hb.latency_tolerance) {
    out.push_back("server.health: changed");
  }
  const DnsSettings& a = running_config.reloadable.dns;
  const DnsSettings& b = loaded_config.reloadable.dns;
  if (a.servers != b.servers || a.timeout != b.timeout || a.min_ttl != b.min_ttl ||
      a.max_ttl != b.max_ttl) {
    out.push_back("server.dns: changed");
  }
  if (running_config.reloadable.origin.ca_file != loaded_config.reloadable.origin.ca_file) {
    out.push_back("server.origin.ca_file: " + running_config.reloadable.origin.ca_file + " -> " +
                  loaded_config.reloadable.origin.ca_file);
  }
  return out;
}

}  // namespace regiongate
