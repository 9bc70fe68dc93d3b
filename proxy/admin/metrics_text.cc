#include "proxy/admin/metrics_text.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <string_view>

namespace regiongate {
namespace {

// A label value, escaped as the format says (backslash, quote, newline).
void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // name{l1="v1",...} value
  void sample(std::string_view name, const std::vector<std::string_view>& labels,
              const std::vector<std::string_view>& values, std::string_view value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i) out_ += ',';
        out_ += labels[i];
        out_ += "=\"";
        append_label_value(out_, i < values.size() ? values[i] : std::string_view());
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  void sample(std::string_view name, const std::vector<std::string_view>& labels,
              const std::vector<std::string_view>& values, std::uint64_t value) {
    sample(name, labels, values, std::to_string(value));
  }
  void single(std::string_view name, std::string_view type, std::string_view help,
              const std::string& value) {
    family(name, type, help);
    sample(name, {}, {}, value);
  }

 private:
  std::string& out_;
};

std::vector<std::string_view> split_key(std::string_view key) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t end = key.find(LabelledCounters::kSeparator, start);
    parts.push_back(key.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// Every worker's counters of one family added up, keys in order.
template <class Select>
std::map<std::string, std::uint64_t> sum_labelled(const std::vector<const WorkerMetrics*>& workers,
                                                  Select select) {
  std::map<std::string, std::uint64_t> sum;
  for (const WorkerMetrics* w : workers) {
    select(*w).for_each([&](std::string_view key, std::uint64_t v) { sum[std::string(key)] += v; });
  }
  return sum;
}

template <class Select>
std::uint64_t sum_counter(const std::vector<const WorkerMetrics*>& workers, Select select) {
  std::uint64_t sum = 0;
  for (const WorkerMetrics* w : workers) sum += select(*w);
  return sum;
}

// The Redis directory's own counts (every worker's added up): zero without one.
void write_redis_directory(Writer& w, const MetricsInput& in) {
  using Field = Counter RedisDirectoryStats::*;
  struct Event {
    std::string_view name;
    Field field;
  };
  static constexpr Event kCache[] = {{"hit", &RedisDirectoryStats::cache_hits},
                                     {"negative_hit", &RedisDirectoryStats::cache_negative_hits},
                                     {"miss", &RedisDirectoryStats::cache_misses}};
  static constexpr Event kLookups[] = {{"found", &RedisDirectoryStats::found},
                                       {"not_found", &RedisDirectoryStats::not_found},
                                       {"timeout", &RedisDirectoryStats::timeouts},
                                       {"error", &RedisDirectoryStats::errors}};
  static constexpr Event kEvents[] = {{"sent", &RedisDirectoryStats::lookups_sent},
                                      {"unavailable", &RedisDirectoryStats::unavailable},
                                      {"late_reply", &RedisDirectoryStats::late_replies},
                                      {"coalesced", &RedisDirectoryStats::coalesced},
                                      {"connect", &RedisDirectoryStats::connects},
                                      {"connect_failure", &RedisDirectoryStats::connect_failures},
                                      {"reconnect", &RedisDirectoryStats::reconnects},
                                      {"moved", &RedisDirectoryStats::moved},
                                      {"ask", &RedisDirectoryStats::ask},
                                      {"slot_map_refresh", &RedisDirectoryStats::slot_map_refreshes}};
  auto family = [&](std::string_view name, std::string_view label, std::string_view help,
                    const auto& events) {
    w.family(name, "counter", help);
    for (const Event& e : events) {
      w.sample(name, {label}, {e.name},
               sum_counter(in.workers, [&](const WorkerMetrics& m) { return (m.directory.*e.field).value(); }));
    }
  };
  family("regiongate_directory_cache_total", "result",
         "Redis directory lookups answered by the worker's local cache (hit, negative_hit: known "
         "not to exist) or not (miss).",
         kCache);
  family("regiongate_directory_lookups_total", "outcome",
         "Redis directory lookups sent to Redis, by how they ended.", kLookups);
  family("regiongate_directory_events_total", "event",
         "Redis directory events: GETs sent, unavailable answers (any cause), late replies, "
         "connections, cluster redirects and slot-map refreshes.",
         kEvents);
}

void write_requests(Writer& w, const MetricsInput& in) {
  w.family("regiongate_requests_total", "counter",
           "Decided requests as they ended, by account country, data centre and status "
           "(country \"unknown\", data centre \"none\" when there was none; status 0: reset "
           "before an answer).");
  for (const auto& [key, v] :
       sum_labelled(in.workers, [](const WorkerMetrics& m) -> const LabelledCounters& { return m.requests; })) {
    w.sample("regiongate_requests_total", {"country", "datacenter", "status"}, split_key(key), v);
  }
  w.family("regiongate_denials_total", "counter",
           "Requests the gateway answered itself (refused, or no allowed data centre), by reason.");
  for (const auto& [key, v] :
       sum_labelled(in.workers, [](const WorkerMetrics& m) -> const LabelledCounters& { return m.denials; })) {
    w.sample("regiongate_denials_total", {"reason"}, {key}, v);
  }
  w.single("regiongate_failovers_total", "counter",
           "Requests served by an allowed data centre other than the decision's first choice.",
           std::to_string(sum_counter(in.workers, [](const WorkerMetrics& m) { return m.failovers.value(); })));
  w.family("regiongate_tokens_total", "counter",
           "Bearer tokens by outcome: verified, cached (verified before), anonymous (none, and "
           "none needed), or the reason it was refused.");
  for (const auto& [key, v] :
       sum_labelled(in.workers, [](const WorkerMetrics& m) -> const LabelledCounters& { return m.tokens; })) {
    w.sample("regiongate_tokens_total", {"outcome"}, {key}, v);
  }
  w.family("regiongate_directory_unavailable_total", "counter",
           "Requests whose account directory could not answer, by service and what was done: "
           "refused (503 account-directory-unavailable) or geoip (the client's country decided).");
  for (const auto& [key, v] : sum_labelled(in.workers, [](const WorkerMetrics& m) -> const LabelledCounters& {
         return m.directory_unavailable;
       })) {
    w.sample("regiongate_directory_unavailable_total", {"service", "action"}, split_key(key), v);
  }
  write_redis_directory(w, in);
  w.single("regiongate_country_disagreements_total", "counter",
           "Requests whose verified token's country differs from the client's GeoIP country "
           "(travellers: the token decides).",
           std::to_string(sum_counter(in.workers, [](const WorkerMetrics& m) {
             return m.country_disagreements.value();
           })));
}

void write_duration(Writer& w, const MetricsInput& in) {
  constexpr std::string_view name = "regiongate_request_duration_seconds";
  w.family(name, "histogram", "Time from a request's first header to its end.");
  const auto& bounds = LatencyHistogram::kBounds;
  std::uint64_t cumulative = 0, count = 0, sum_us = 0;
  for (const WorkerMetrics* m : in.workers) {
    count += m->duration.count();
    sum_us += m->duration.sum_us();
  }
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    for (const WorkerMetrics* m : in.workers) cumulative += m->duration.bucket(i);
    const std::string le = number(bounds[i]);
    w.sample(std::string(name) + "_bucket", {"le"}, {le}, cumulative);
  }
  // Read while the workers count: never let +Inf fall below a bucket.
  count = std::max(count, cumulative);
  w.sample(std::string(name) + "_bucket", {"le"}, {"+Inf"}, count);
  w.sample(std::string(name) + "_sum", {}, {}, number(static_cast<double>(sum_us) / 1e6));
  w.sample(std::string(name) + "_count", {}, {}, count);
}

void write_connections(Writer& w, const MetricsInput& in) {
  auto total = [&](auto select) { return std::to_string(sum_counter(in.workers, select)); };
  w.single("regiongate_connections_accepted_total", "counter", "Client connections accepted.",
           total([](const WorkerMetrics& m) { return m.connections_accepted.value(); }));
  std::int64_t open = 0, streams = 0, held = 0;
  for (const WorkerMetrics* m : in.workers) {
    open += m->connections_open.value();
    streams += m->streams_open.value();
    held += m->response_bytes_held.value();
  }
  w.single("regiongate_connections_open", "gauge", "Client connections open now.", std::to_string(open));
  w.single("regiongate_streams_open", "gauge", "Client streams (requests) open now.", std::to_string(streams));
  w.single("regiongate_response_bytes_held", "gauge",
           "Response bytes received from data centres that wait for their clients to take them.",
           std::to_string(held));
  w.single("regiongate_http1_refused_total", "counter",
           "Connections that spoke HTTP/1 and were answered that HTTP/2 is required.",
           total([](const WorkerMetrics& m) { return m.http1_refused.value(); }));
  w.family("regiongate_client_connection_errors_total", "counter",
           "Client connections ended with GOAWAY for a protocol error the gateway detects itself "
           "(beyond nghttp2's own checks), by reason.");
  for (const auto& [key, v] : sum_labelled(in.workers, [](const WorkerMetrics& m) -> const LabelledCounters& {
         return m.client_connection_errors;
       })) {
    w.sample("regiongate_client_connection_errors_total", {"reason"}, {key}, v);
  }
  w.family("regiongate_lingering_closes_total", "counter",
           "Client connections the gateway ended gracefully (its last frames flushed, then "
           "the client's bytes read and dropped until it closed), by how that ended: "
           "peer-closed, timeout (timeouts.linger), bytes (timeouts.linger_bytes), error.");
  for (const auto& [key, v] : sum_labelled(in.workers, [](const WorkerMetrics& m) -> const LabelledCounters& {
         return m.lingering_closes;
       })) {
    w.sample("regiongate_lingering_closes_total", {"end"}, {key}, v);
  }
  w.single("regiongate_handshake_timeouts_total", "counter",
           "Client connections closed because no TLS handshake and HTTP/2 preface came within "
           "timeouts.handshake.",
           total([](const WorkerMetrics& m) { return m.handshake_timeouts.value(); }));
  w.family("regiongate_connections_refused_total", "counter",
           "Client connections closed as soon as accepted, past server.limits: total "
           "(connections) or per-address (connections_per_address).");
  for (const auto& [key, v] : sum_labelled(in.workers, [](const WorkerMetrics& m) -> const LabelledCounters& {
         return m.connections_refused;
       })) {
    w.sample("regiongate_connections_refused_total", {"reason"}, {key}, v);
  }
  w.single("regiongate_accept_pauses_total", "counter",
           "Times a worker stopped accepting for 100 ms because accept failed for want of file "
           "descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM).",
           total([](const WorkerMetrics& m) { return m.accept_pauses.value(); }));
  w.single("regiongate_header_limit_resets_total", "counter",
           "Streams reset for headers past the configured limits.",
           total([](const WorkerMetrics& m) { return m.header_limit_resets.value(); }));
  w.single("regiongate_request_body_limit_total", "counter",
           "Requests whose body went past its service's requests.max_body (413, or reset once "
           "the response had begun).",
           total([](const WorkerMetrics& m) { return m.request_body_limit_refusals.value(); }));
  w.single("regiongate_stalled_responses_total", "counter",
           "Responses reset on both sides because the client took none of their body for "
           "timeouts.stall while the gateway held bytes for it.",
           total([](const WorkerMetrics& m) { return m.stalled_responses.value(); }));
}

void write_health(Writer& w, const MetricsInput& in) {
  if (!in.snapshot) return;
  const DataCenterMap& dcs = in.snapshot->datacenters;
  const DataCenterMask healthy = in.health ? in.health->healthy() : ~DataCenterMask{0};
  w.family("regiongate_datacenter_healthy", "gauge",
           "1 when at least one of the data centre's endpoints is up (always 1 with health checks off).");
  for (std::size_t i = 0; i < dcs.size(); ++i) {
    w.sample("regiongate_datacenter_healthy", {"datacenter"}, {dcs.all[i].id},
             (healthy & dc_bit(static_cast<DataCenterIndex>(i))) ? "1" : "0");
  }
  if (!in.health || !in.health->enabled()) return;
  // One walk over the endpoints per family keeps each family's samples together.
  auto each_endpoint = [&](auto f) {
    for (std::size_t i = 0; i < dcs.size(); ++i) {
      const DataCenter& dc = dcs.all[i];
      for (std::size_t e = 0; e < dc.endpoints.size(); ++e) {
        f(dc.id, dc.endpoints[e].pool_key, *in.health->endpoint(static_cast<DataCenterIndex>(i), e));
      }
    }
  };
  const std::vector<std::string_view> labels = {"datacenter", "endpoint"};
  w.family("regiongate_origin_endpoint_up", "gauge", "1 when the endpoint is in service.");
  each_endpoint([&](std::string_view dc, std::string_view ep, const EndpointHealth& h) {
    w.sample("regiongate_origin_endpoint_up", labels, {dc, ep}, h.up.load() ? "1" : "0");
  });
  w.family("regiongate_origin_probes_total", "counter", "Health-check probes, by result.");
  each_endpoint([&](std::string_view dc, std::string_view ep, const EndpointHealth& h) {
    w.sample("regiongate_origin_probes_total", {"datacenter", "endpoint", "result"}, {dc, ep, "ok"},
             h.probes_ok.load());
    w.sample("regiongate_origin_probes_total", {"datacenter", "endpoint", "result"}, {dc, ep, "failed"},
             h.probes_failed.load());
  });
  w.family("regiongate_origin_request_failures_total", "counter",
           "Requests to the endpoint that failed (connect, reset, timeout, 5xx): passive health.");
  each_endpoint([&](std::string_view dc, std::string_view ep, const EndpointHealth& h) {
    w.sample("regiongate_origin_request_failures_total", labels, {dc, ep}, h.request_failures.load());
  });
  w.family("regiongate_origin_probe_rtt_seconds", "gauge",
           "The round trip of the endpoint's last successful probe.");
  each_endpoint([&](std::string_view dc, std::string_view ep, const EndpointHealth& h) {
    w.sample("regiongate_origin_probe_rtt_seconds", labels, {dc, ep},
             number(static_cast<double>(h.rtt_us.load()) / 1e6));
  });
  w.family("regiongate_origin_probe_rtt_average_seconds", "gauge",
           "The moving average of the endpoint's probe round trips (what nearest: latency orders by).");
  each_endpoint([&](std::string_view dc, std::string_view ep, const EndpointHealth& h) {
    w.sample("regiongate_origin_probe_rtt_average_seconds", labels, {dc, ep},
             number(static_cast<double>(h.rtt_ewma_us.load()) / 1e6));
  });
}

void write_snapshot(Writer& w, const MetricsInput& in) {
  w.single("regiongate_snapshot_version", "gauge",
           "The version of the snapshot serving new requests (1 at start, one more per reload).",
           std::to_string(in.snapshot_version));
  w.family("regiongate_reloads_total", "counter",
           "Reloads (SIGHUP or POST /reload), by outcome: published, or rejected whole.");
  w.sample("regiongate_reloads_total", {"outcome"}, {"published"}, in.reloads_published);
  w.sample("regiongate_reloads_total", {"outcome"}, {"rejected"}, in.reloads_rejected);
  w.single("regiongate_snapshot_published_timestamp_seconds", "gauge",
           "When the serving snapshot was published (Unix time).", std::to_string(in.last_reload_at));
  if (in.snapshot && in.snapshot->geoip) {
    w.single("regiongate_geoip_build_timestamp_seconds", "gauge",
             "When the serving GeoIP database was built (its metadata, Unix time).",
             std::to_string(in.snapshot->geoip->build_epoch()));
  }
  w.family("regiongate_log_lines_dropped_total", "counter",
           "Log lines dropped because the log's queue was full (a slow or failing disk), by log.");
  for (const MetricsInput::Log& l : in.logs) {
    w.sample("regiongate_log_lines_dropped_total", {"log"}, {l.name}, l.log->dropped_lines());
  }
  w.family("regiongate_log_write_failures_total", "counter",
           "Writes to the log's file that failed (the batch is kept and written again), by log.");
  for (const MetricsInput::Log& l : in.logs) {
    w.sample("regiongate_log_write_failures_total", {"log"}, {l.name}, l.log->failed_writes());
  }
  w.family("regiongate_log_writable", "gauge",
           "1 while the log is being written; 0 from a failed write or a dropped batch until a "
           "batch is written in full (a required audit log then refuses what it cannot record).");
  for (const MetricsInput::Log& l : in.logs) {
    w.sample("regiongate_log_writable", {"log"}, {l.name}, l.log->writable() ? "1" : "0");
  }
}

}  // namespace

std::string prometheus_text(const MetricsInput& input) {
  std::string out;
  out.reserve(16 * 1024);
  Writer w(out);
  write_requests(w, input);
  write_duration(w, input);
  write_connections(w, input);
  write_health(w, input);
  write_snapshot(w, input);
  return out;
}

}  // namespace regiongate
