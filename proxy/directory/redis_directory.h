#pragma once
// The account directory on Redis (or Redis Cluster), for one worker: account
// id → account country, asked asynchronously from the worker's event loop,
// with a bounded local cache (docs/directory.md, "Redis").
//
// Redis holds, for key `key_prefix + account_id`, the account's ISO 3166-1
// alpha-2 country code ("IN"). A missing key is kNotFound. Any other value is
// an error and answers kUnavailable: never a guessed country.
//
// Threads and lifetime: a worker owns one RedisDirectory, built on its
// thread with its EventLoop, and calls it only from that thread. Destroy it
// before the loop, and never from inside a DirectoryWaiter callback (defer
// that to the next loop turn). Destroying it does not call pending waiters.
//
// Failure behaviour (fail closed: kUnavailable, counted, never a guess):
// - a lookup that gets no answer within `timeout` (redirects included)
//   answers kUnavailable then; a late reply is dropped;
// - a refused, timed-out or lost connection answers every lookup sent on it
//   kUnavailable at once, and its node backs off (reconnect_min doubling to
//   reconnect_max, jittered): lookups routed to it answer kUnavailable
//   without waiting until it is connected again;
// - in a cluster, a lost node's slots are asked for again (CLUSTER SLOTS
//   from another node); its lookups are not retried elsewhere: they were
//   sent to the node the cluster named, and a replica taking over is only
//   known after the next slot map.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "maps/account_directory.h"
#include "proxy/directory/directory_cache.h"
#include "maps/redis_config.h"
#include "proxy/observe/metrics.h"
#include "proxy/directory/redis_node.h"
#include "proxy/net/event_loop.h"

namespace regiongate {

// Who waits for a kPending lookup (a request). Called on the loop thread,
// exactly once per kPending answer unless cancelled first. The callback may
// call lookup() and cancel(), and may destroy the waiter.
class DirectoryWaiter {
 public:
  virtual void on_directory_answer(DirectoryResult result) noexcept = 0;

 protected:
  ~DirectoryWaiter() = default;
};

class RedisDirectory : private RedisNodeEvents {
 public:
  // Starts connecting at once (standalone: the node; cluster: the first seed,
  // for the slot map). Never blocks. Counts into `stats` when given (a
  // worker's, which outlive it), else into its own.
  RedisDirectory(EventLoop& loop, const RedisDirectoryConfig& config,
                 RedisDirectoryStats* stats = nullptr);
  ~RedisDirectory();
  RedisDirectory(const RedisDirectory&) = delete;
  RedisDirectory& operator=(const RedisDirectory&) = delete;

  // kFound / kNotFound from the cache, or kNotFound for an id no directory
  // can hold (empty, longer than 128 bytes): at once, no callback.
  // kUnavailable at once when the node is backing off, max_pending lookups
  // are in flight, or the connection is saturated: no callback either.
  // Otherwise sends GET and returns kPending: `waiter` will be answered.
  // A lookup of an account already being asked for joins that GET (one
  // round trip answers every request for it). A waiter has at most one
  // lookup pending at a time.
  DirectoryResult lookup(std::string_view account_id, DirectoryWaiter* waiter);
  // Forgets `waiter`'s pending lookup, if any: it will not be called, and
  // may be destroyed as soon as this returns.
  void cancel(DirectoryWaiter* waiter) noexcept;

  const RedisDirectoryStats& stats() const { return stats_; }
  std::size_t pending() const { return lookups_.size(); }
  const DirectoryCache& cache() const { return cache_; }
  const RedisDirectoryConfig& config() const { return config_; }
  // The node a key's slot maps to now ("127.0.0.1:7001"); empty when not
  // known (standalone: the node). For tests and /status.
  std::string node_for_key(std::string_view key) const;
  // True once a CLUSTER SLOTS answer has been applied (always for standalone).
  bool slot_map_ready() const { return !config_.cluster || slot_map_ready_; }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr std::uint16_t kNoNode = 0xFFFF;

  struct Lookup {
    std::vector<DirectoryWaiter*> waiters;  // in the order they asked
    std::string key;  // key_prefix + account id
    Clock::time_point deadline;
    int redirects = 0;
  };
  struct Deadline {
    Clock::time_point at;
    std::uint64_t id;
  };

  // RedisNodeEvents
  void on_get_reply(RedisNode& node, std::uint64_t lookup_id, const redisReply* reply) override;
  void on_slots_reply(RedisNode& node, const redisReply* reply) override;
  void on_node_up(RedisNode& node) override;
  void on_node_down(RedisNode& node) override;

  DirectoryResult unavailable_now();
  void answer(std::uint64_t id, DirectoryResult result);
  // Ends a lookup: no longer in flight, its GET's reply dropped when it comes.
  void forget(std::unordered_map<std::uint64_t, struct Lookup>::iterator it);
  void fail(std::uint64_t id);
  void on_value(std::uint64_t id, RedisNode& from, const redisReply& reply);
  void on_error_reply(std::uint64_t id, RedisNode& from, std::string_view error);
  bool send(std::uint64_t id, Lookup& lookup, RedisNode* node, bool asking);
  RedisNode* route(std::string_view key);
  RedisNode& node_at(const RedisNodeAddress& address);
  RedisNode* any_node_up_or_idle(const RedisNode* avoid);
  void want_slot_map(RedisNode* preferred);
  void refresh_slot_map();
  void on_timeout_timer();
  void on_refresh_timer();
  std::string_view account_of(const Lookup& lookup) const;

  struct ev_loop* loop_;
  const RedisDirectoryConfig config_;  // RedisNodes hold a reference to it
  RedisDirectoryStats own_stats_;
  RedisDirectoryStats& stats_;  // own_stats_ or the caller's
  DirectoryCache cache_;
  std::vector<std::unique_ptr<RedisNode>> nodes_;  // never shrinks: ids are stable
  std::unordered_map<std::string, std::uint16_t> node_ids_;  // authority → index
  // Cluster: the node of each slot, kNoNode when unknown.
  std::vector<std::uint16_t> slot_owner_;
  bool slot_map_ready_ = false;
  bool refresh_in_flight_ = false;
  bool refresh_wanted_ = false;
  Clock::time_point last_refresh_{};
  RedisNode* refresh_from_ = nullptr;  // preferred node for the wanted refresh
  // Lookups in flight by id. An id is never reused, so a reply or a timer
  // for a lookup that ended (answered, timed out, cancelled) finds nothing.
  std::unordered_map<std::uint64_t, Lookup> lookups_;
  std::unordered_map<DirectoryWaiter*, std::uint64_t> by_waiter_;
  // The lookup in flight for each key (a view of its Lookup::key): the one
  // a lookup of the same account joins.
  std::unordered_map<std::string_view, std::uint64_t> in_flight_;
  // Every lookup has the same timeout, so creation order is deadline order:
  // one timer for the oldest. Entries of ended lookups are skipped.
  std::deque<Deadline> deadlines_;
  std::uint64_t next_id_ = 1;
  Timer timeout_timer_;
  Timer refresh_timer_;
  bool destroying_ = false;
};

}  // namespace regiongate
