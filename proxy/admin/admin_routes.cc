#include "proxy/admin/admin_routes.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <string_view>
#include <utility>

#include "proxy/admin/metrics_text.h"
#include "proxy/admin/query_string.h"
#include "proxy/directory/blocking_redis_directory.h"
#include "proxy/observe/explain_json.h"
#include "proxy/observe/json_text.h"
#include "util/thread_name.h"

namespace regiongate {
namespace {

using Json = nlohmann::ordered_json;

HttpResponse text(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse json(int status, const Json& value) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = json_text(value) + "\n";
  return r;
}

HttpResponse json_error(int status, const std::string& message) {
  return json(status, Json{{"error", message}});
}

// The serving snapshot's view of the health board (all up when checks are off).
HealthView live_health(const Gateway& gateway, const Snapshot& snapshot) {
  HealthBoard* board = gateway.health_board();
  return board ? HealthView(*board, snapshot.datacenters) : HealthView();
}

}  // namespace

AdminRoutes::~AdminRoutes() {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  if (reload_thread_.joinable()) reload_thread_.join();
}

void AdminRoutes::handle(const HttpRequest& request, Responder respond) {
  const std::string& path = request.path;
  const bool get = request.method == "GET" || request.method == "HEAD";
  auto only = [&](const char* allowed) {
    HttpResponse r = text(405, std::string("use ") + allowed + "\n");
    r.headers.emplace_back("Allow", allowed);
    respond(std::move(r));
  };
  if (path == "/reload") {
    if (request.method != "POST") return only("POST");
    return reload(std::move(respond));
  }
  if (path != "/healthz" && path != "/readyz" && path != "/metrics" && path != "/status" &&
      path != "/explain") {
    return respond(text(404, "not found: the admin listener serves /healthz, /readyz, /metrics, "
                             "/status, /explain and POST /reload\n"));
  }
  if (!get) return only("GET, HEAD");
  if (path == "/healthz") return respond(text(200, "ok\n"));
  if (path == "/readyz") return respond(readiness());
  if (path == "/metrics") return respond(metrics());
  if (path == "/status") return respond(status());
  respond(explain(request.query));
}

HttpResponse AdminRoutes::metrics() const {
  const Gateway& gateway = *sources_.gateway;
  ServingSnapshot serving = gateway.serving();
  HealthView health = live_health(gateway, *serving.snapshot);
  MetricsInput in;
  in.workers = gateway.worker_metrics();
  in.snapshot = serving.snapshot.get();
  in.snapshot_version = serving.version;
  in.health = &health;
  in.reloads_published = sources_.reloader->published();
  in.reloads_rejected = sources_.reloader->rejected();
  in.last_reload_at = sources_.reloader->last_published_at();
  if (sources_.access_log) in.logs.push_back({"access", sources_.access_log});
  if (sources_.audit_log) in.logs.push_back({"audit", sources_.audit_log});
  HttpResponse r = text(200, prometheus_text(in));
  r.content_type = kPrometheusContentType;
  return r;
}

HttpResponse AdminRoutes::readiness() const {
  ServingSnapshot serving = sources_.gateway->serving();
  if (!serving.snapshot) return text(503, "not ready: no snapshot is serving\n");
  HealthView health = live_health(*sources_.gateway, *serving.snapshot);
  const DataCenterMask all = serving.snapshot->datacenters.size() >= kMaxDataCenters
                                 ? ~DataCenterMask{0}
                                 : (DataCenterMask{1} << serving.snapshot->datacenters.size()) - 1;
  if ((health.healthy() & all) == 0) {
    return text(503, "not ready: no data centre has an endpoint in service\n");
  }
  return text(200, "ready: snapshot " + std::to_string(serving.version) + "\n");
}

HttpResponse AdminRoutes::status() const {
  ServingSnapshot serving = sources_.gateway->serving();
  const Snapshot& snap = *serving.snapshot;
  HealthView health = live_health(*sources_.gateway, snap);
  const UnixSeconds now = sources_.clock.now();

  Json sources = Json::object();
  sources["config"] = snap.config_file;
  sources["policy"] = snap.policy.file;
  if (!snap.datacenters.all.empty()) sources["datacenters"] = snap.datacenters.all[0].mark.file;
  sources["geoip"] = snap.geoip ? Json(snap.geoip->path()) : Json(nullptr);
  sources["directory"] = snap.directory           ? Json(std::string(snap.directory->describe()))
                         : snap.redis_directory ? Json(describe_redis_directory(*snap.redis_directory))
                                                : Json(nullptr);

  Json snapshot = {{"version", serving.version},
                   {"published_at", format_rfc3339(sources_.reloader->last_published_at())},
                   {"sources", sources}};
  if (snap.geoip) snapshot["geoip_built_at"] = format_rfc3339(static_cast<UnixSeconds>(snap.geoip->build_epoch()));

  // The phase: the stretch of time, between two of the policy's dates, that
  // now falls in, and the rules in force during it.
  const TimeWindow window = snap.table.interval_window(snap.table.interval_of(now));
  Json rules = Json::array();
  for (const Rule& rule : snap.policy.rules) {
    if (rule.window.contains(now)) rules.push_back(rule.id);
  }
  Json phase = {{"now", format_rfc3339(now)},
                {"since", window.from == kBeginningOfTime ? Json(nullptr) : Json(format_rfc3339(window.from))},
                {"until", window.until == kEndOfTime ? Json(nullptr) : Json(format_rfc3339(window.until))},
                {"rules_in_force", rules}};

  const DataCenterMask healthy = health.healthy();
  Json datacenters = Json::array();
  for (std::size_t i = 0; i < snap.datacenters.size(); ++i) {
    const DataCenter& dc = snap.datacenters.all[i];
    const auto index = static_cast<DataCenterIndex>(i);
    Json endpoints = Json::array();
    for (std::size_t e = 0; e < dc.endpoints.size(); ++e) {
      Json endpoint = {{"endpoint", dc.endpoints[e].pool_key}, {"up", health.endpoint_up(index, e)}};
      if (const EndpointHealth* h = health.endpoint(index, e)) {
        endpoint["probes_ok"] = h->probes_ok.load();
        endpoint["probes_failed"] = h->probes_failed.load();
        endpoint["request_failures"] = h->request_failures.load();
        endpoint["probe_rtt_seconds"] = static_cast<double>(h->rtt_us.load()) / 1e6;
        endpoint["probe_rtt_average_seconds"] = static_cast<double>(h->rtt_ewma_us.load()) / 1e6;
      }
      endpoints.push_back(std::move(endpoint));
    }
    datacenters.push_back({{"id", dc.id},
                           {"country", std::string(country_code(dc.country))},
                           {"healthy", (healthy & dc_bit(index)) != 0},
                           {"endpoints", std::move(endpoints)}});
  }
  return json(200, Json{{"snapshot", std::move(snapshot)},
                        {"reloads", {{"published", sources_.reloader->published()},
                                     {"rejected", sources_.reloader->rejected()}}},
                        {"health_checks", health.enabled()},
                        {"phase", std::move(phase)},
                        {"datacenters", std::move(datacenters)}});
}

HttpResponse AdminRoutes::explain(const std::string& query) const {
  auto pairs = parse_query(query);
  if (!pairs) return json_error(400, "the query has a malformed %-escape");
  ServingSnapshot serving = sources_.gateway->serving();
  const Snapshot& snap = *serving.snapshot;
  ExplainQuery q;
  q.at = sources_.clock.now();
  // The CLI's options, by the same names.
  static constexpr std::pair<std::string_view, std::optional<std::string> ExplainQuery::*> kNamed[] = {
      {"account", &ExplainQuery::account}, {"ip", &ExplainQuery::ip},
      {"country", &ExplainQuery::country}, {"service", &ExplainQuery::service},
      {"host", &ExplainQuery::host}};
  for (const auto& [name, value] : *pairs) {
    auto named = std::find_if(std::begin(kNamed), std::end(kNamed), [&](const auto& n) { return n.first == name; });
    if (named != std::end(kNamed)) {
      q.*(named->second) = value;
    } else if (name == "path") {
      q.path = value;
    } else if (name == "consent") {  // repeatable, as --consent is
      q.consents.push_back(value);
    } else if (name == "at") {
      auto at = parse_rfc3339(value);
      if (!at) return json_error(400, "at: not an RFC 3339 date-time: '" + value + "'");
      q.at = *at;
    } else {
      return json_error(400, "unknown parameter '" + name +
                                 "' (account, ip, country, service, host, path, consent, at)");
    }
  }
  if (!q.service && !q.host) return json_error(400, "give service=NAME or host=H (and path=P)");
  if (!q.account && !q.ip && !q.country) return json_error(400, "give account=ID, ip=ADDR or country=CC");
  HealthView health = live_health(*sources_.gateway, snap);
  q.healthy = health.healthy();
  // Ordered as requests are now: by the probes' round trips when so configured.
  const HealthSettings& checks = sources_.gateway->started_with().startup.health;
  if (checks.enabled && checks.nearest == HealthSettings::Nearest::kLatency) {
    q.latency.emplace();
    health.round_trips(q.latency->us.data());
    q.latency->tolerance_us = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(checks.latency_tolerance).count());
  }
  // The account is asked of Redis itself, as a request's would be (this
  // thread blocks for at most the directory's connect_timeout + timeout).
  std::optional<BlockingRedisDirectory> redis;
  if (snap.redis_directory && q.account) q.directory = &redis.emplace(*snap.redis_directory);
  std::string error;
  auto result = explain_request(snap, q, &error);
  if (!result) return json_error(400, error);
  (*result)["snapshot"] = serving.version;
  return json(200, *result);
}

void AdminRoutes::reload(Responder respond) {
  std::lock_guard<std::mutex> lock(reload_mutex_);
  if (reloading_.exchange(true)) {
    return respond(json_error(409, "a reload is in progress; try again when it has finished"));
  }
  if (reload_thread_.joinable()) reload_thread_.join();  // the last one, finished
  // Off the admin thread: /metrics and /healthz keep answering meanwhile.
  reload_thread_ = std::thread([this, respond = std::move(respond)] {
    name_this_thread("rg-reload");
    ReloadOutcome outcome = sources_.reloader->reload();
    if (sources_.reloaded) sources_.reloaded(outcome);
    Json messages = Json::array();
    for (const std::string& m : outcome.messages) messages.push_back(m);
    reloading_.store(false);
    respond(json(outcome.published ? 200 : 422, Json{{"published", outcome.published},
                                                     {"version", outcome.version},
                                                     {"messages", std::move(messages)}}));
  });
}

}  // namespace regiongate
