// `regiongate explain`: one decision as one JSON object on stdout.

#include <chrono>
#include <iostream>

#include "proxy/app/commands.h"
#include "proxy/config/server_config.h"
#include "proxy/directory/blocking_redis_directory.h"
#include "proxy/observe/explain_json.h"
#include "proxy/observe/json_text.h"

namespace regiongate {
namespace {

// --latency DC=DURATION, each; the tolerance is the configuration's. False
// (with the reason on stderr) on a malformed one.
bool read_latencies(const Snapshot& snap, const std::vector<std::string>& given,
                    const HealthSettings& health, DataCenterLatencies* out) {
  out->tolerance_us = static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(health.latency_tolerance).count());
  for (const std::string& one : given) {
    const auto equals = one.find('=');
    auto dc = snap.datacenters.find(one.substr(0, equals));
    auto rtt = equals == std::string::npos ? std::nullopt : parse_duration(one.substr(equals + 1));
    if (!dc || !rtt || rtt->count() <= 0) {
      std::cerr << "explain: --latency: not a data centre and a positive duration like "
                << "oregon=20ms: '" << one << "'\n";
      return false;
    }
    out->us[*dc] = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(*rtt).count());
  }
  return true;
}

}  // namespace

int run_explain(const ExplainOptions& o) {
  ExplainQuery q;
  q.account = o.account;
  q.ip = o.ip;
  q.country = o.country;
  q.service = o.service;
  q.host = o.host;
  if (o.path) q.path = *o.path;
  q.consents = o.consents;
  if (!o.service && !o.host) {
    std::cerr << "explain: give --service NAME or --host H [--path P]\n";
    return 2;
  }
  if (!o.account && !o.ip && !o.country) {
    std::cerr << "explain: give --account ID, --ip ADDR or --country CC\n";
    return 2;
  }
  if (o.at) {
    auto t = parse_rfc3339(*o.at);
    if (!t) {
      std::cerr << "explain: --at: not an RFC 3339 date-time: '" << *o.at << "'\n";
      return 2;
    }
    q.at = *t;
  } else {
    q.at = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  }

  Diagnostics diags;
  ServerConfig server;
  auto snap = load_snapshot(o.config, diags, [&](const YAML::Node& node, YamlContext& ctx) {
    server = read_server_config(node, ctx);
  });
  if (!snap) {
    std::cerr << diags.format_all();
    return 1;
  }
  for (const std::string& id : o.down) {
    auto dc = snap->datacenters.find(id);
    if (!dc) {
      std::cerr << "explain: --down: unknown data centre '" << id << "'\n";
      return 2;
    }
    q.healthy &= ~dc_bit(*dc);
  }
  if (!o.latency.empty()) {
    q.latency.emplace();
    if (!read_latencies(*snap, o.latency, server.startup.health, &*q.latency)) return 2;
  }
  // The account is asked of Redis itself, as a request's would be.
  std::optional<BlockingRedisDirectory> redis;
  if (snap->redis_directory && q.account) q.directory = &redis.emplace(*snap->redis_directory);
  std::string error;
  auto json = explain_request(*snap, q, &error);
  if (!json) {
    std::cerr << "explain: " << error << '\n';
    return 2;
  }
  std::cout << json_text(*json) << '\n';
  return 0;
}

}  // namespace regiongate
