#pragma once
// Asynchronous host name resolution for the origin side: one DnsResolver per
// worker, a c-ares channel driven by that worker's libev loop, with a bounded
// per-worker cache (TTL from the answer, clamped) and coalescing of
// concurrent queries for the same name (STYLE.md 10-12).

#include <ares.h>
#include <ev.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "maps/ip_network.h"

namespace regiongate {

enum class DnsStatus {
  kOk,        // addresses is not empty
  kNotFound,  // NXDOMAIN, or the name has neither A nor AAAA records
  kTimeout,   // no answer within timeout x tries
  kError,     // anything else: refused, server failure, bad name, limits; see message
};

const char* to_string(DnsStatus status);

struct DnsResult {
  DnsStatus status = DnsStatus::kError;
  // Every address of the answer, IPv4 and IPv6, in the order c-ares gives
  // them (its RFC 6724 sort). Empty unless status is kOk.
  std::vector<IpAddress> addresses;
  std::string message;  // c-ares' ares_strerror() text, or ours; empty when kOk
  // Until when the answer may be used (the clamped TTL, on the resolver's
  // clock): connections opened to these addresses stop taking new streams
  // then, so a moved data centre gets no new traffic at its old address.
  // time_point::max() for an IP literal.
  std::chrono::steady_clock::time_point expires = std::chrono::steady_clock::time_point::max();
};

struct DnsResolverOptions {
  // "127.0.0.1:5353", "[::1]:53", "10.0.0.2" (port 53). Empty: the system's
  // resolv.conf.
  std::vector<std::string> servers;
  std::chrono::milliseconds timeout{2000};  // per try, as c-ares counts it
  int tries = 2;
  // The answer's TTL (the smallest of its records) is clamped to these.
  std::chrono::seconds min_ttl{1};
  std::chrono::seconds max_ttl{300};
  // NXDOMAIN / no-data answers are cached this long (0: not cached). Timeouts
  // and errors are never cached.
  std::chrono::seconds negative_ttl{1};
  std::size_t max_cache_entries = 1024;  // the oldest inserted is evicted first
  std::size_t max_pending_queries = 256;  // distinct names in flight
  std::size_t max_waiters_per_query = 1024;
  // /etc/hosts before DNS (c-ares lookups "fb"); off: DNS only ("b").
  bool use_hosts_file = true;
  // resolv.conf's search domains. Off by default: endpoints are meant to be
  // fully qualified, and a search list multiplies the queries of a failure.
  bool use_search_domains = false;
  // The clock TTLs are measured on; tests inject a fake one.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

// Owned by one worker and used only on that worker's loop thread (all
// methods, all callbacks). Not copyable or movable: c-ares and libev hold
// pointers to it.
//
// Callbacks: every resolve() gets exactly one callback unless cancelled or
// the resolver is destroyed first. It runs on the loop thread, never from
// inside c-ares, either before resolve() returns (an IP literal, a cache hit,
// an invalid name, a limit reached, or a query c-ares answered at once — then
// resolve() returns kNoQuery) or later from the loop. A callback may call
// resolve() and cancel(); it must not destroy the resolver (defer that).
//
// Expired entries: the next resolve() of the name re-queries and waits for
// the fresh answer (no serve-stale: a data centre moving to a new address
// must not get traffic at the old one past the TTL it asked for).
class DnsResolver {
 public:
  using QueryId = std::uint64_t;
  using Callback = std::function<void(const DnsResult&)>;
  static constexpr QueryId kNoQuery = 0;
  static constexpr std::size_t kMaxNameLength = 253;

  struct Stats {
    std::uint64_t queries = 0;     // c-ares lookups started (after coalescing)
    std::uint64_t cache_hits = 0;  // resolve() answered from the cache
    std::uint64_t coalesced = 0;   // resolve() joined a lookup already in flight
    std::uint64_t failures = 0;    // lookups that ended other than kOk
    std::uint64_t timeouts = 0;    // of which kTimeout
    std::uint64_t rejected = 0;    // resolve() refused by a limit or a bad name
  };

  // Creates the channel; check ok() (c-ares init or a bad server list
  // fails; every resolve() then answers kError with init_error()).
  DnsResolver(struct ev_loop* loop, DnsResolverOptions options);
  // Stops all watchers and destroys the channel. Pending callbacks are NOT
  // called (the owners of pending queries are going away with the worker).
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  bool ok() const { return channel_ != nullptr; }
  const std::string& init_error() const { return init_error_; }

  // Resolves `host` (a name or an IPv4/IPv6 literal). Returns a handle for
  // cancel(), or kNoQuery when the callback has already run.
  QueryId resolve(std::string_view host, Callback callback);
  // Forgets the callback of a pending resolve(); true when it was pending.
  // The lookup itself goes on (other waiters, the cache) but this callback
  // is never called.
  bool cancel(QueryId id);

  const Stats& stats() const { return stats_; }
  std::size_t cache_size() const { return cache_.size(); }
  std::size_t pending_queries() const { return pending_.size(); }
  // Drops every cached answer (e.g. on reload).
  void clear_cache();

 private:
  struct Waiter {
    QueryId id;
    // Empty once called, or once cancelled after the lookup ended (a waiter
    // cancelled while the lookup is in flight is removed instead).
    Callback callback;
  };
  struct Query {
    DnsResolver* owner;
    std::string name;
    std::vector<Waiter> waiters;
    std::shared_ptr<const DnsResult> result;  // set when c-ares ends it
  };
  struct CacheEntry {
    std::shared_ptr<const DnsResult> result;
    std::chrono::steady_clock::time_point expires;
    std::list<std::string>::iterator order;
  };
  struct IoWatcher {
    ev_io io;  // data = the resolver
  };

  // c-ares and libev call these (the C boundary: util/c_boundary.h).
  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) noexcept;
  static void on_addrinfo(void* arg, int status, int timeouts, struct ares_addrinfo* res) noexcept;
  static void on_io(struct ev_loop* loop, ev_io* w, int revents) noexcept;
  static void on_timer(struct ev_loop* loop, ev_timer* w, int revents) noexcept;

  void init_channel();
  void finish(Query* query, int status, struct ares_addrinfo* res);
  void rearm_timer();
  void deliver_completed();
  std::shared_ptr<const DnsResult> cache_lookup(const std::string& name);
  void cache_store(const std::string& name, std::shared_ptr<const DnsResult> result,
                   std::chrono::seconds ttl);
  QueryId answer_now(const DnsResult& result, const Callback& callback);
  std::chrono::steady_clock::time_point now() const;

  struct ev_loop* loop_;
  DnsResolverOptions options_;
  ares_channel channel_ = nullptr;
  std::string init_error_;
  bool destroying_ = false;  // ares_destroy() is running: drop completions
  ev_timer timer_;
  std::unordered_map<ares_socket_t, std::unique_ptr<IoWatcher>> watchers_;
  // Lookups in flight, by (lower-cased) name; owned here until c-ares ends them.
  std::unordered_map<std::string, std::unique_ptr<Query>> pending_;
  // Lookups c-ares has ended whose waiters are not yet called.
  std::vector<std::unique_ptr<Query>> completed_;
  std::unordered_map<QueryId, Query*> waiting_;  // live waiter -> its lookup
  QueryId next_id_ = 1;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::list<std::string> cache_order_;  // oldest inserted first
  Stats stats_;
};

}  // namespace regiongate
