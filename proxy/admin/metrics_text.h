#pragma once
// /metrics: every count the gateway keeps, in the Prometheus text exposition
// format (version 0.0.4): a # HELP and a # TYPE line per family, `_total`
// counters, `_seconds` units, histograms as cumulative `le` buckets with
// `_sum` and `_count`. Read while the workers run (observe/metrics.h): the
// workers' counts are added up here.

#include <cstdint>
#include <string>
#include <vector>

#include "policy/snapshot.h"
#include "proxy/observe/access_log.h"
#include "proxy/observe/metrics.h"
#include "proxy/origin/health_board.h"

namespace regiongate {

struct MetricsInput {
  std::vector<const WorkerMetrics*> workers;
  const Snapshot* snapshot = nullptr;  // the one serving
  std::uint64_t snapshot_version = 0;
  const HealthView* health = nullptr;  // the serving snapshot's; disabled when checks are off
  std::uint64_t reloads_published = 0, reloads_rejected = 0;
  std::int64_t last_reload_at = 0;     // Unix seconds of the serving snapshot's publication
  struct Log {
    const char* name;  // "access", "audit"
    const AccessLog* log;
  };
  std::vector<Log> logs;  // the ones configured
};

// The content type Prometheus expects for it.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string prometheus_text(const MetricsInput& input);

}  // namespace regiongate
