#pragma once
// One Redis server as one worker sees it: `connections` hiredis asynchronous
// connections to it, driven by the worker's libev loop, with a connect
// timeout (hiredis 0.14 has none of its own) and a reconnect backoff.
//
// States: idle (never used) → connecting → up; a refused, timed-out or lost
// connection takes the whole node to backing off: every connection is closed
// (hiredis then ends each command sent on it with a null reply), and after
// the backoff delay all are opened again. While backing off, send_*()
// refuses at once, so callers can answer kUnavailable without waiting.
//
// Commands sent while connecting wait in hiredis' buffer and go out when the
// connection is made. Commands on one connection are pipelined: written as
// they come, answered in order.
//
// Owned by a RedisDirectory, on its loop's thread only; never destroyed
// while the loop runs one of its callbacks. Destroying it closes its
// connections without calling RedisNodeEvents (the owner is going away).

#include <hiredis/async.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "proxy/directory/reconnect_backoff.h"
#include "maps/redis_config.h"
#include "proxy/observe/metrics.h"
#include "proxy/net/event_loop.h"

namespace regiongate {

class RedisNode;

// What a node reports to its owner, on the loop thread, from inside hiredis
// or libev callbacks (the owner may send more commands; it must not destroy
// the node).
class RedisNodeEvents {
 public:
  // The answer to send_get(`lookup_id`); null when the connection was lost
  // or closed first.
  virtual void on_get_reply(RedisNode& node, std::uint64_t lookup_id,
                            const redisReply* reply) = 0;
  // The answer to send_cluster_slots(); null when the connection was lost.
  virtual void on_slots_reply(RedisNode& node, const redisReply* reply) = 0;
  virtual void on_node_up(RedisNode& node) = 0;
  virtual void on_node_down(RedisNode& node) = 0;

 protected:
  ~RedisNodeEvents() = default;
};

class RedisNode {
 public:
  RedisNode(struct ev_loop* loop, RedisNodeAddress address, const RedisDirectoryConfig& config,
            RedisNodeEvents& events, RedisDirectoryStats& stats);
  ~RedisNode();
  RedisNode(const RedisNode&) = delete;
  RedisNode& operator=(const RedisNode&) = delete;

  // GET `key` with `lookup_id` for on_get_reply; with `asking`, ASKING first
  // on the same connection (a Redis Cluster ASK redirect). Connects an idle
  // node. False, and nothing sent, when the node is backing off or each
  // connection already has `max_pending` commands unanswered (a stalled
  // server: bounded memory rather than an ever-growing buffer).
  bool send_get(std::string_view key, std::uint64_t lookup_id, bool asking);
  bool send_cluster_slots();

  // Opens the connections of an idle node (no-op otherwise).
  void connect();

  bool backing_off() const { return state_ == State::kBackingOff; }
  bool up() const { return state_ == State::kUp; }
  const RedisNodeAddress& address() const { return address_; }
  const std::string& name() const { return name_; }

 private:
  enum class State { kIdle, kConnecting, kUp, kBackingOff };
  struct Link {
    RedisNode* node = nullptr;
    redisAsyncContext* context = nullptr;  // null while closed
    bool connected = false;
    std::size_t unanswered = 0;  // commands sent on `context` and not yet answered
  };

  // hiredis calls these (the C boundary: util/c_boundary.h).
  static void on_connect(const redisAsyncContext* context, int status) noexcept;
  static void on_disconnect(const redisAsyncContext* context, int status) noexcept;
  static void on_get(redisAsyncContext* context, void* reply, void* lookup_id) noexcept;
  static void on_slots(redisAsyncContext* context, void* reply, void* unused) noexcept;
  static void on_asking(redisAsyncContext* context, void* reply, void* unused) noexcept;
  // AUTH and SELECT, sent first on each connection: a refusal fails the node.
  static void on_setup(redisAsyncContext* context, void* reply, void* privdata) noexcept;
  // The link a reply arrived on, when it is still that link's connection
  // (its count is updated); null for a closed connection's leftovers.
  static Link* answered_link(redisAsyncContext* context);

  bool open(Link& link);
  Link* pick_link();
  void connected(Link& link);
  void failed(const char* why);
  void close_links();
  void on_connect_timeout();
  void on_backoff_done();

  struct ev_loop* loop_;
  RedisNodeAddress address_;
  std::string name_;  // address_.authority()
  const RedisDirectoryConfig& config_;
  RedisNodeEvents& events_;
  RedisDirectoryStats& stats_;
  State state_ = State::kIdle;
  std::unique_ptr<Link[]> links_;
  std::size_t link_count_;
  std::size_t next_link_ = 0;  // round robin
  ReconnectBackoff backoff_;
  // libev counts a timer from the loop's cached time, which is stale when the
  // loop was busy (or, in a test, not run) before connect(): the timer may
  // fire early, so its callback checks the real time.
  std::chrono::steady_clock::time_point connect_started_{};
  Timer connect_timer_;
  Timer backoff_timer_;
  bool destroying_ = false;
};

}  // namespace regiongate
