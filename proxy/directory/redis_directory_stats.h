#pragma once
// What a worker's RedisDirectory counts. Written only by that worker's
// thread; readable from any (the admin listener's /metrics) since each is a
// single-writer Counter (proxy/observe/metrics.h).

#include "proxy/observe/metrics.h"

namespace regiongate {

struct RedisDirectoryStats {
  // lookup() answered from the local cache, or not.
  Counter cache_hits;           // found accounts
  Counter cache_negative_hits;  // accounts known not to exist
  Counter cache_misses;
  // GETs sent to Redis (redirected ones again), and how lookups that asked ended.
  Counter lookups_sent;
  Counter found;
  Counter not_found;
  Counter timeouts;  // no answer within `timeout`
  // Answers that were neither a country code nor nil, error replies other
  // than redirects, too many redirects, and lookups whose connection was lost.
  Counter errors;
  // kUnavailable answers of any cause: at once (backing off, max_pending,
  // a saturated connection) or later (timeouts, errors).
  Counter unavailable;
  Counter late_replies;  // replies for lookups that had timed out or were cancelled
  // Connections.
  Counter connects;          // connections established
  Counter connect_failures;  // refused, timed out (connect_timeout) or lost
  Counter reconnects;        // attempts after a backoff
  // Redis Cluster.
  Counter moved;
  Counter ask;
  Counter slot_map_refreshes;  // CLUSTER SLOTS answers applied
};

}  // namespace regiongate
