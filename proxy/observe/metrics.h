#pragma once
// What the gateway counts, for /metrics. Each worker owns its own
// WorkerMetrics and is the only thread that writes it; the admin thread
// reads every worker's at any time without stopping them (relaxed atomics)
// and adds them up. A count is therefore exact per worker and at most a few
// requests behind across workers, which is what a scrape needs.
//
// Writing costs a plain load and store (no locked instruction): there is one
// writer per counter. A new label combination (a country × data centre ×
// status seen for the first time on this worker) takes a lock once; after
// that its counter is found in a map only its writer touches.

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace regiongate {

// A counter written by one thread, read by any.
class Counter {
 public:
  void add(std::uint64_t n = 1) { value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A gauge written by one thread (up and down), read by any.
class Gauge {
 public:
  void add(std::int64_t n) { value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  std::int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};

// Request durations, in Prometheus' cumulative-bucket form when read.
class LatencyHistogram {
 public:
  // Upper bounds in seconds (the +Inf bucket is the count).
  static constexpr std::array<double, 14> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                     0.025,  0.05,  0.1,    0.25,  0.5,
                                                     1,      2.5,   5,      10};
  void observe(std::uint64_t microseconds);
  // Per bucket (not cumulative), then the sum in microseconds and the count.
  std::uint64_t bucket(std::size_t i) const { return buckets_[i].value(); }
  std::uint64_t sum_us() const { return sum_us_.value(); }
  std::uint64_t count() const { return count_.value(); }

 private:
  std::array<Counter, kBounds.size()> buckets_;
  Counter sum_us_, count_;
};

// Counters keyed by a tuple of label values, created on first use. Label
// values are joined by '\x1f' (unit separator) in the key; no label value
// the gateway uses contains it (country codes, data-centre ids, statuses,
// reason codes).
class LabelledCounters {
 public:
  static constexpr char kSeparator = '\x1f';
  // The writer's thread only.
  Counter& at(std::string_view key);
  // Any thread: every key seen so far and its value.
  void for_each(const std::function<void(std::string_view key, std::uint64_t value)>& f) const;

 private:
  struct Cell {
    std::string key;
    Counter counter;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Counter*, Hash, std::equal_to<>> index_;  // the writer's
  mutable std::mutex mutex_;  // guards cells_ growing, against readers
  std::deque<Cell> cells_;    // stable addresses
};

// What a worker's Redis account directory counts (proxy/directory): the
// worker's, so that a reload that reconnects it keeps counting on.
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
  Counter coalesced;     // lookups that joined a GET already in flight for the same account
  // Connections.
  Counter connects;          // connections established
  Counter connect_failures;  // refused, timed out (connect_timeout) or lost
  Counter reconnects;        // attempts after a backoff
  // Redis Cluster.
  Counter moved;
  Counter ask;
  Counter slot_map_refreshes;  // CLUSTER SLOTS answers applied
};


// One worker's counts.
struct WorkerMetrics {
  // Decided requests as they ended, by account country × data centre ×
  // status ("unknown" country and "none" data centre when there was none;
  // status 0: nothing was sent, the stream was reset first).
  LabelledCounters requests;
  // The gateway's own refusals, by reason code.
  LabelledCounters denials;
  // Bearer tokens by outcome: "verified", "cached" (a cache hit), "anonymous"
  // (none, and none needed), or the refusal's reason ("token-expired", ...).
  LabelledCounters tokens;
  // Requests whose token's country differs from where GeoIP puts the client
  // (a traveller: the token wins).
  Counter country_disagreements;
  // The Redis directory's lookups, cache and connections.
  RedisDirectoryStats directory;
  // Requests whose account directory could not answer, by service × what
  // was done: "refused" (503) or "geoip" (the client's country decided).
  LabelledCounters directory_unavailable;
  // Requests served by a data centre other than the decision's first choice.
  Counter failovers;
  LatencyHistogram duration;
  Counter connections_accepted;
  Gauge connections_open;
  Gauge streams_open;
  Counter http1_refused;
  // Client connections the gateway ended with GOAWAY for a protocol error
  // it detects itself (nghttp2 counts its own nowhere), by reason:
  // "not-http2" (first bytes neither the preface nor an HTTP/1.x request
  // line), "stream-id-went-back" (HEADERS on an id below one used, never
  // used), "initial-window-overflow" (SETTINGS_INITIAL_WINDOW_SIZE taking a
  // stream's window past 2^31-1).
  LabelledCounters client_connection_errors;
  Counter handshake_timeouts;  // connections closed for no client preface in time
  // Graceful closes of client connections (h2_connection.h), by how they
  // ended: "peer-closed", "timeout" (timeouts.linger), "bytes"
  // (timeouts.linger_bytes), "error" (the socket failed meanwhile).
  LabelledCounters lingering_closes;
  Counter accept_pauses;       // accept failed for want of file descriptors (or memory)
  // Connections closed at once for server.limits, by reason: "total", "per-address".
  LabelledCounters connections_refused;
  Counter header_limit_resets;
  Counter stalled_responses;  // reset after timeouts.stall without the client taking a byte
  Gauge response_bytes_held;
  Counter request_body_limit_refusals;  // request bodies past their service's requests.max_body  // response bytes from origins waiting for their clients to take them

  // Counts one decided request at its end. `country` and `datacenter` empty: none.
  void request_ended(std::string_view country, std::string_view datacenter, int status,
                     std::string_view denial, bool failed_over, std::uint64_t duration_us);

 private:
  std::string key_;  // reused: no allocation per request
};

}  // namespace regiongate
