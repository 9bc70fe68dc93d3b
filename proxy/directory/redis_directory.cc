#include "proxy/directory/redis_directory.h"

#include <algorithm>

#include "maps/directory_line.h"
#include "proxy/directory/cluster_replies.h"
#include "proxy/directory/hash_slot.h"

namespace regiongate {
namespace {

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

RedisDirectory::RedisDirectory(EventLoop& loop, const RedisDirectoryConfig& config,
                               RedisDirectoryStats* stats)
    : loop_(loop.get()), config_(config), stats_(stats ? *stats : own_stats_), cache_(config.cache) {
  timeout_timer_.init<RedisDirectory, &RedisDirectory::on_timeout_timer>(loop_, this);
  refresh_timer_.init<RedisDirectory, &RedisDirectory::on_refresh_timer>(loop_, this);
  lookups_.reserve(config_.max_pending);
  for (const RedisNodeAddress& seed : config_.nodes) node_at(seed);
  if (config_.cluster) {
    slot_owner_.assign(kClusterSlots, kNoNode);
    want_slot_map(nullptr);
  } else if (!nodes_.empty()) {
    nodes_.front()->connect();
  }
}

RedisDirectory::~RedisDirectory() {
  // Closing connections ends their commands with null replies: dropped.
  destroying_ = true;
  nodes_.clear();
}

std::string_view RedisDirectory::account_of(const Lookup& lookup) const {
  return std::string_view(lookup.key).substr(config_.key_prefix.size());
}

RedisNode& RedisDirectory::node_at(const RedisNodeAddress& address) {
  std::string name = address.authority();
  if (auto it = node_ids_.find(name); it != node_ids_.end()) return *nodes_[it->second];
  RedisNodeEvents& events = *this;
  nodes_.push_back(std::make_unique<RedisNode>(loop_, address, config_, events, stats_));
  node_ids_.emplace(std::move(name), static_cast<std::uint16_t>(nodes_.size() - 1));
  return *nodes_.back();
}

// Standalone: the one node. Cluster: the slot's owner, or before the slot
// map is known (or for a slot it does not cover) any node that is not
// backing off: a MOVED will say where the key lives.
RedisNode* RedisDirectory::route(std::string_view key) {
  if (nodes_.empty()) return nullptr;
  if (!config_.cluster) return nodes_.front().get();
  const std::uint16_t owner = slot_owner_[static_cast<std::size_t>(key_hash_slot(key))];
  if (owner != kNoNode) return nodes_[owner].get();
  return any_node_up_or_idle(nullptr);
}

RedisNode* RedisDirectory::any_node_up_or_idle(const RedisNode* avoid) {
  RedisNode* fallback = nullptr;
  for (auto& node : nodes_) {
    if (node.get() == avoid || node->backing_off()) continue;
    if (node->up()) return node.get();
    if (!fallback) fallback = node.get();
  }
  return fallback;
}

DirectoryResult RedisDirectory::unavailable_now() {
  stats_.unavailable.add();
  return {DirectoryStatus::kUnavailable, kNoCountry};
}

DirectoryResult RedisDirectory::lookup(std::string_view account_id, DirectoryWaiter* waiter) {
  if (account_id.empty() || account_id.size() > kMaxAccountIdLength) return {};
  const Clock::time_point now = Clock::now();
  if (auto cached = cache_.find(account_id, now)) {
    (cached->status == DirectoryStatus::kFound ? stats_.cache_hits : stats_.cache_negative_hits).add();
    return *cached;
  }
  stats_.cache_misses.add();
  if (by_waiter_.count(waiter)) return unavailable_now();
  std::string key = config_.key_prefix;
  key.append(account_id);
  if (auto joined = in_flight_.find(key); joined != in_flight_.end()) {
    lookups_.at(joined->second).waiters.push_back(waiter);
    by_waiter_.emplace(waiter, joined->second);
    stats_.coalesced.add();
    return {DirectoryStatus::kPending, kNoCountry};
  }
  if (lookups_.size() >= config_.max_pending) return unavailable_now();
  Lookup lookup{{waiter}, std::move(key), now + config_.timeout};
  const std::uint64_t id = next_id_++;
  if (!send(id, lookup, route(lookup.key), false)) return unavailable_now();
  auto stored = lookups_.emplace(id, std::move(lookup)).first;
  in_flight_.emplace(stored->second.key, id);  // a view of the stored key: it never moves
  by_waiter_.emplace(waiter, id);
  deadlines_.push_back({now + config_.timeout, id});
  if (!timeout_timer_.active()) timeout_timer_.arm(seconds(config_.timeout));
  return {DirectoryStatus::kPending, kNoCountry};
}

bool RedisDirectory::send(std::uint64_t id, Lookup& lookup, RedisNode* node, bool asking) {
  if (!node || !node->send_get(lookup.key, id, asking)) return false;
  stats_.lookups_sent.add();
  return true;
}

void RedisDirectory::cancel(DirectoryWaiter* waiter) noexcept {
  auto it = by_waiter_.find(waiter);
  if (it == by_waiter_.end()) return;
  auto lookup = lookups_.find(it->second);
  by_waiter_.erase(it);
  if (lookup == lookups_.end()) return;
  std::vector<DirectoryWaiter*>& waiters = lookup->second.waiters;
  std::erase(waiters, waiter);
  if (waiters.empty()) forget(lookup);  // nobody waits: its reply will be dropped
}

void RedisDirectory::forget(std::unordered_map<std::uint64_t, Lookup>::iterator it) {
  in_flight_.erase(it->second.key);
  lookups_.erase(it);
}

void RedisDirectory::answer(std::uint64_t id, DirectoryResult result) {
  auto it = lookups_.find(id);
  if (it == lookups_.end()) return;
  const std::vector<DirectoryWaiter*> waiters = std::move(it->second.waiters);
  forget(it);
  if (result.status == DirectoryStatus::kUnavailable) stats_.unavailable.add(waiters.size());
  // Last: each waiter may look up again, cancel, or destroy itself, and so
  // cancel another of these (which is then no longer registered for `id`).
  for (DirectoryWaiter* waiter : waiters) {
    auto registered = by_waiter_.find(waiter);
    if (registered == by_waiter_.end() || registered->second != id) continue;
    by_waiter_.erase(registered);
    waiter->on_directory_answer(result);
  }
}

void RedisDirectory::fail(std::uint64_t id) {
  stats_.errors.add();
  answer(id, {DirectoryStatus::kUnavailable, kNoCountry});
}

void RedisDirectory::on_get_reply(RedisNode& node, std::uint64_t id, const redisReply* reply) {
  if (destroying_) return;
  auto it = lookups_.find(id);
  if (it == lookups_.end()) {
    if (reply) stats_.late_replies.add();
    return;
  }
  if (!reply) return fail(id);  // the connection was lost or closed
  on_value(id, node, *reply);
}

void RedisDirectory::on_value(std::uint64_t id, RedisNode& from, const redisReply& reply) {
  Lookup& lookup = lookups_.at(id);
  const Clock::time_point now = Clock::now();
  switch (reply.type) {
    case REDIS_REPLY_NIL:
      stats_.not_found.add();
      cache_.store_not_found(account_of(lookup), now);
      return answer(id, {DirectoryStatus::kNotFound, kNoCountry});
    case REDIS_REPLY_STRING: {
      const std::string_view value(reply.str, reply.len);
      const auto country = value.size() == 2 ? country_from_code_any_case(value) : std::nullopt;
      if (!country) return fail(id);  // not a country code: never guess one
      stats_.found.add();
      cache_.store_found(account_of(lookup), *country, now);
      return answer(id, {DirectoryStatus::kFound, *country});
    }
    case REDIS_REPLY_ERROR:
      return on_error_reply(id, from, std::string_view(reply.str, reply.len));
    default:
      return fail(id);
  }
}

// MOVED: the slot lives elsewhere for good; resend there, remember it, and
// fetch the whole map again (a resharding moves many slots at once). ASK:
// only this key, during a migration; ASKING then GET there, map unchanged.
// Anything else (CLUSTERDOWN, TRYAGAIN during a migration, LOADING, ...)
// answers kUnavailable.
void RedisDirectory::on_error_reply(std::uint64_t id, RedisNode& from, std::string_view error) {
  auto redirect = config_.cluster ? parse_redirect(error, from.address()) : std::nullopt;
  Lookup& lookup = lookups_.at(id);
  if (!redirect || ++lookup.redirects > config_.max_redirects) return fail(id);
  RedisNode& target = node_at(redirect->to);
  const bool moved = redirect->kind == Redirect::Kind::kMoved;
  if (moved) {
    stats_.moved.add();
    slot_owner_[static_cast<std::size_t>(redirect->slot)] = node_ids_.at(target.name());
    want_slot_map(&target);
  } else {
    stats_.ask.add();
  }
  if (!send(id, lookup, &target, !moved)) fail(id);
}

void RedisDirectory::on_timeout_timer() {
  const Clock::time_point now = Clock::now();
  while (!deadlines_.empty()) {
    const Deadline next = deadlines_.front();
    if (!lookups_.count(next.id)) {
      deadlines_.pop_front();
      continue;
    }
    if (next.at > now) {
      timeout_timer_.arm(seconds(next.at - now));
      return;
    }
    deadlines_.pop_front();
    stats_.timeouts.add();
    answer(next.id, {DirectoryStatus::kUnavailable, kNoCountry});
  }
}

// --- The slot map.

// At most one CLUSTER SLOTS in flight, and at most one per
// slot_refresh_interval: a resharding sends a MOVED per key.
void RedisDirectory::want_slot_map(RedisNode* preferred) {
  if (!config_.cluster) return;
  refresh_wanted_ = true;
  if (preferred) refresh_from_ = preferred;
  if (refresh_in_flight_ || refresh_timer_.active()) return;
  const auto next = last_refresh_ + config_.slot_refresh_interval;
  const auto now = Clock::now();
  if (next > now) return refresh_timer_.arm(seconds(next - now));
  refresh_slot_map();
}

void RedisDirectory::on_refresh_timer() {
  if (refresh_wanted_ && !refresh_in_flight_) refresh_slot_map();
}

void RedisDirectory::refresh_slot_map() {
  RedisNode* node = refresh_from_ && !refresh_from_->backing_off() ? refresh_from_
                                                                    : any_node_up_or_idle(nullptr);
  if (!node || !node->send_cluster_slots()) return;  // retried when a node comes up
  refresh_wanted_ = false;
  refresh_from_ = nullptr;
  refresh_in_flight_ = true;
  last_refresh_ = Clock::now();
}

void RedisDirectory::on_slots_reply(RedisNode& node, const redisReply* reply) {
  if (destroying_) return;
  refresh_in_flight_ = false;
  auto ranges = reply ? parse_cluster_slots(*reply, node.address()) : std::nullopt;
  if (!ranges) {
    if (reply) stats_.errors.add();
    return want_slot_map(nullptr);  // from another node, after the interval
  }
  std::vector<std::uint16_t> owners(kClusterSlots, kNoNode);
  for (const SlotRange& r : *ranges) {
    const std::uint16_t owner = node_ids_.at(node_at(r.master).name());
    std::fill(owners.begin() + r.first, owners.begin() + r.last + 1, owner);
  }
  slot_owner_.swap(owners);
  slot_map_ready_ = true;
  stats_.slot_map_refreshes.add();
  if (refresh_wanted_) want_slot_map(nullptr);
}

void RedisDirectory::on_node_up(RedisNode&) {
  if (destroying_) return;
  if (refresh_wanted_ && !refresh_in_flight_ && !refresh_timer_.active()) refresh_slot_map();
}

void RedisDirectory::on_node_down(RedisNode& node) {
  if (destroying_ || !config_.cluster) return;
  // Its slots may have a new master (a replica promoted): ask another node.
  if (refresh_from_ == &node) refresh_from_ = nullptr;
  RedisNode* other = any_node_up_or_idle(&node);
  want_slot_map(other);
}

std::string RedisDirectory::node_for_key(std::string_view key) const {
  if (nodes_.empty()) return {};
  if (!config_.cluster) return nodes_.front()->name();
  const std::uint16_t owner = slot_owner_[static_cast<std::size_t>(key_hash_slot(key))];
  return owner == kNoNode ? std::string() : nodes_[owner]->name();
}

}  // namespace regiongate
