#include "proxy/directory/redis_node.h"

#include <hiredis/adapters/libev.h>

#include <cstdint>
#include <algorithm>
#include <cstdio>
#include <string>

#include "proxy/directory/reply_limits.h"
#include "util/c_boundary.h"

namespace regiongate {
namespace {

double seconds(std::chrono::milliseconds d) { return static_cast<double>(d.count()) / 1000.0; }

void* as_privdata(std::uint64_t id) { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)); }
std::uint64_t as_lookup_id(void* privdata) { return reinterpret_cast<std::uintptr_t>(privdata); }
static_assert(sizeof(std::uintptr_t) >= sizeof(std::uint64_t), "lookup ids travel as pointers");

}  // namespace

RedisNode::RedisNode(struct ev_loop* loop, RedisNodeAddress address,
                     const RedisDirectoryConfig& config, RedisNodeEvents& events,
                     RedisDirectoryStats& stats)
    : loop_(loop),
      address_(std::move(address)),
      name_(address_.authority()),
      config_(config),
      events_(events),
      stats_(stats),
      links_(new Link[static_cast<std::size_t>(config.connections)]),
      link_count_(static_cast<std::size_t>(config.connections)),
      backoff_(config.reconnect_min, config.reconnect_max) {
  for (std::size_t i = 0; i < link_count_; ++i) links_[i].node = this;
  connect_timer_.init<RedisNode, &RedisNode::on_connect_timeout>(loop, this);
  backoff_timer_.init<RedisNode, &RedisNode::on_backoff_done>(loop, this);
}

RedisNode::~RedisNode() {
  destroying_ = true;
  close_links();
}

void RedisNode::connect() {
  if (state_ != State::kIdle) return;
  state_ = State::kConnecting;
  for (std::size_t i = 0; i < link_count_; ++i) {
    if (!open(links_[i])) return failed("cannot create a connection");
  }
  connect_started_ = std::chrono::steady_clock::now();
  connect_timer_.arm(seconds(config_.connect_timeout));
}

// A non-blocking connect: hiredis only calls getaddrinfo() on an IP
// literal (the configuration refuses names), which does not block.
bool RedisNode::open(Link& link) {
  redisAsyncContext* context = address_.socket_path.empty()
                                   ? redisAsyncConnect(address_.host.c_str(), address_.port)
                                   : redisAsyncConnectUnix(address_.socket_path.c_str());
  if (context == nullptr) return false;
  if (context->err) {
    redisAsyncFree(context);
    return false;
  }
  bound_reply_sizes(context->c.reader);
  context->data = &link;
  if (redisLibevAttach(loop_, context) != REDIS_OK) {
    redisAsyncFree(context);
    return false;
  }
  redisAsyncSetConnectCallback(context, on_connect);
  redisAsyncSetDisconnectCallback(context, on_disconnect);
  link.context = context;
  link.connected = false;
  link.unanswered = 0;
  // Queued before any GET, so they are the first commands the server reads.
  int sent = REDIS_OK;
  if (!config_.password.empty()) {
    sent = config_.username.empty()
               ? redisAsyncCommand(context, on_setup, nullptr, "AUTH %b", config_.password.data(),
                                   config_.password.size())
               : redisAsyncCommand(context, on_setup, nullptr, "AUTH %b %b", config_.username.data(),
                                   config_.username.size(), config_.password.data(),
                                   config_.password.size());
    ++link.unanswered;
  }
  if (sent == REDIS_OK && config_.db != 0) {
    sent = redisAsyncCommand(context, on_setup, nullptr, "SELECT %d", config_.db);
    ++link.unanswered;
  }
  if (sent != REDIS_OK) {
    link.context = nullptr;
    redisAsyncFree(context);
    return false;
  }
  return true;
}

// Closes every connection; hiredis ends their commands with null replies
// (on_get and on_slots report them unless the node is being destroyed).
void RedisNode::close_links() {
  for (std::size_t i = 0; i < link_count_; ++i) {
    Link& link = links_[i];
    redisAsyncContext* context = link.context;
    if (!context) continue;
    // First forget it: replies and callbacks it produces while being freed
    // are then recognised as a closed connection's.
    link.context = nullptr;
    link.connected = false;
    link.unanswered = 0;
    redisAsyncFree(context);
  }
}

RedisNode::Link* RedisNode::pick_link() {
  connect();
  if (state_ == State::kBackingOff) return nullptr;
  for (std::size_t tries = 0; tries < link_count_; ++tries) {
    Link& link = links_[next_link_];
    next_link_ = (next_link_ + 1) % link_count_;
    if (link.context && link.unanswered < config_.max_pending) return &link;
  }
  return nullptr;
}

bool RedisNode::send_get(std::string_view key, std::uint64_t lookup_id, bool asking) {
  Link* link = pick_link();
  if (!link) return false;
  if (asking) {
    if (redisAsyncCommand(link->context, on_asking, nullptr, "ASKING") != REDIS_OK) return false;
    ++link->unanswered;
  }
  if (redisAsyncCommand(link->context, on_get, as_privdata(lookup_id), "GET %b", key.data(),
                        key.size()) != REDIS_OK) {
    return false;
  }
  ++link->unanswered;
  return true;
}

bool RedisNode::send_cluster_slots() {
  Link* link = pick_link();
  if (!link) return false;
  if (redisAsyncCommand(link->context, on_slots, nullptr, "CLUSTER SLOTS") != REDIS_OK) return false;
  ++link->unanswered;
  return true;
}

void RedisNode::connected(Link& link) {
  link.connected = true;
  stats_.connects.add();
  for (std::size_t i = 0; i < link_count_; ++i) {
    if (!links_[i].connected) return;
  }
  connect_timer_.stop();
  backoff_.reset();
  state_ = State::kUp;
  events_.on_node_up(*this);
}

void RedisNode::failed(const char* why) {
  if (state_ == State::kBackingOff) return;
  // The state first: anything the closing calls back (a waiter answered
  // kUnavailable that looks up another account) sees a node backing off.
  state_ = State::kBackingOff;
  stats_.connect_failures.add();
  connect_timer_.stop();
  const auto delay = backoff_.next();
  std::fprintf(stderr, "regiongate: redis %s: %s; reconnecting in %lld ms\n", name_.c_str(), why,
               static_cast<long long>(delay.count()));
  backoff_timer_.arm(seconds(delay));
  close_links();
  events_.on_node_down(*this);
}

void RedisNode::on_connect_timeout() {
  const auto left = connect_started_ + config_.connect_timeout - std::chrono::steady_clock::now();
  if (left > std::chrono::steady_clock::duration::zero()) {
    return connect_timer_.arm(std::chrono::duration<double>(left).count());
  }
  failed("connect timed out");
}

void RedisNode::on_backoff_done() {
  state_ = State::kIdle;
  stats_.reconnects.add();
  connect();
}

RedisNode::Link* RedisNode::answered_link(redisAsyncContext* context) {
  auto* link = static_cast<Link*>(context->data);
  if (link->context != context || link->node->destroying_) return nullptr;
  if (link->unanswered > 0) --link->unanswered;
  return link;
}

void RedisNode::on_connect(const redisAsyncContext* context, int status) noexcept {
  fail_stop("the redis connect callback", [&] {
    auto* link = static_cast<Link*>(context->data);
    if (link->context != context) return;
    if (status == REDIS_OK) return link->node->connected(*link);
    // hiredis frees the context when this returns.
    link->context = nullptr;
    link->node->failed(context->errstr[0] ? context->errstr : "connect failed");
  });
}

void RedisNode::on_disconnect(const redisAsyncContext* context, int) noexcept {
  fail_stop("the redis disconnect callback", [&] {
    auto* link = static_cast<Link*>(context->data);
    if (link->context != context) return;  // closed by us (close_links)
    // hiredis frees the context when this returns.
    link->context = nullptr;
    link->connected = false;
    link->node->failed(context->errstr[0] ? context->errstr : "connection closed by the server");
  });
}

void RedisNode::on_get(redisAsyncContext* context, void* reply, void* lookup_id) noexcept {
  fail_stop("a redis GET callback", [&] {
    auto* link = static_cast<Link*>(context->data);
    if (link->node->destroying_) return;
    answered_link(context);
    link->node->events_.on_get_reply(*link->node, as_lookup_id(lookup_id), static_cast<redisReply*>(reply));
  });
}

void RedisNode::on_slots(redisAsyncContext* context, void* reply, void*) noexcept {
  fail_stop("a redis CLUSTER SLOTS callback", [&] {
    auto* link = static_cast<Link*>(context->data);
    if (link->node->destroying_) return;
    answered_link(context);
    link->node->events_.on_slots_reply(*link->node, static_cast<redisReply*>(reply));
  });
}

void RedisNode::on_setup(redisAsyncContext* context, void* reply, void*) noexcept {
  fail_stop("a redis AUTH/SELECT callback", [&] {
    auto* link = static_cast<Link*>(context->data);
    if (link->node->destroying_ || !answered_link(context)) return;
    const auto* r = static_cast<const redisReply*>(reply);
    if (r && r->type == REDIS_REPLY_ERROR) {
      // Never the error text itself in full: a server may echo what it was sent.
      std::string why = "AUTH/SELECT refused (";
      why.append(r->str, std::min<std::size_t>(r->len, 64));
      why += ')';
      link->node->failed(why.c_str());
    }
  });
}

void RedisNode::on_asking(redisAsyncContext* context, void*, void*) noexcept {
  fail_stop("a redis ASKING callback", [&] { answered_link(context); });
}

}  // namespace regiongate
