// RedisDirectory against a real 3-node Redis Cluster on loopback: routing by
// slot, a slot migrated while lookups go on (ASK, then MOVED), and a node
// killed. Every lookup's answer is checked, and the counters say which path
// it took.

#include <gtest/gtest.h>
#include <signal.h>

#include <memory>

#include "proxy/directory/hash_slot.h"
#include "proxy/directory/redis_directory.h"
#include "tests/proxy/directory/directory_loop.h"
#include "tests/proxy/directory/redis_test_server.h"

namespace regiongate {
namespace {

using namespace std::chrono_literals;
using testing::LoopRunner;
using testing::RecordingWaiter;
using testing::RedisTestCluster;

const CountryId kIndia = *country_from_code("IN");

class RedisClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster_.ok()) << cluster_.error();
    for (int i = 0; i < 40; ++i) ids_.push_back("c-" + std::to_string(i));
    // Two accounts that share a slot (hash tag "t"), moved in the migration.
    ids_.push_back("{t}1");
    ids_.push_back("{t}2");
    for (const std::string& id : ids_) set(id, "IN");
    RedisDirectoryConfig c;
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
      c.nodes.push_back({"127.0.0.1", static_cast<std::uint16_t>(cluster_.node(i).port())});
    }
    c.cluster = true;
    c.timeout = 2s;
    c.cache.entries = 0;  // every lookup asks the cluster
    c.slot_refresh_interval = 0ms;
    c.reconnect_min = 50ms;
    c.reconnect_max = 200ms;
    dir_ = std::make_unique<RedisDirectory>(loop_, c);
    ASSERT_TRUE(runner_.run_until([&] { return dir_->slot_map_ready(); }));
  }
  void TearDown() override {
    dir_.reset();
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
      if (cluster_.node(i).ok()) {
        EXPECT_EQ(cluster_.node(i).stop(SIGTERM), 0) << "node " << i;
      }
    }
  }

  void set(const std::string& id, const std::string& value) {
    auto r = cluster_.node(0).cli({"-c", "SET", "acct:" + id, value});
    ASSERT_EQ(r.out, "OK\n") << r.err;
  }
  // Looks every account up at once; each must get exactly one answer: the
  // country, or kUnavailable for those `down` says are on a dead node.
  void lookup_all(const std::function<bool(const std::string&)>& down = {}) {
    std::vector<RecordingWaiter> waiters(ids_.size());
    std::vector<DirectoryResult> at_once(ids_.size());
    for (std::size_t i = 0; i < ids_.size(); ++i) at_once[i] = dir_->lookup(ids_[i], &waiters[i]);
    ASSERT_TRUE(runner_.run_until([&] { return dir_->pending() == 0; }));
    for (std::size_t i = 0; i < ids_.size(); ++i) {
      DirectoryResult r = at_once[i];
      if (r.status == DirectoryStatus::kPending) {
        ASSERT_EQ(waiters[i].answers.size(), 1u) << ids_[i];
        r = waiters[i].answers[0];
      } else {
        ASSERT_TRUE(waiters[i].answers.empty()) << ids_[i];
      }
      if (down && down(ids_[i])) {
        EXPECT_EQ(r.status, DirectoryStatus::kUnavailable) << ids_[i];
      } else {
        EXPECT_EQ(r.status, DirectoryStatus::kFound) << ids_[i];
        EXPECT_EQ(r.country, kIndia) << ids_[i];
      }
    }
  }
  int node_of(const std::string& id) { return cluster_.node_of_slot(key_hash_slot("acct:" + id)); }
  std::string ok(std::size_t node, const std::vector<std::string>& args) {
    return cluster_.node(node).cli(args).out;
  }

  RedisTestCluster cluster_;
  std::vector<std::string> ids_;
  EventLoop loop_;
  LoopRunner runner_{loop_};
  std::unique_ptr<RedisDirectory> dir_;
};

TEST_F(RedisClusterTest, SlotsMatchTheClusterAndLookupsGoStraightToTheirNode) {
  for (const std::string& id : ids_) {
    const std::string key = "acct:" + id;
    ASSERT_EQ(key_hash_slot(key), cluster_.keyslot(key)) << key;
    const int owner = cluster_.node_of_slot(key_hash_slot(key));
    ASSERT_GE(owner, 0);
    EXPECT_EQ(dir_->node_for_key(key), cluster_.node(owner).authority()) << key;
  }
  lookup_all();
  EXPECT_EQ(dir_->stats().moved.value(), 0u);
  EXPECT_EQ(dir_->stats().ask.value(), 0u);
  EXPECT_EQ(dir_->stats().found.value(), ids_.size());
  // Each node answered the GETs of its own slots.
  long long gets = 0;
  for (std::size_t i = 0; i < cluster_.size(); ++i) gets += cluster_.node(i).command_calls("get");
  EXPECT_EQ(gets, static_cast<long long>(ids_.size()));
}

TEST_F(RedisClusterTest, SlotMigratedMidLoadFollowsAskThenMoved) {
  const int slot = key_hash_slot("acct:{t}1");
  const int from = node_of("{t}1");
  ASSERT_GE(from, 0);
  const int to = (from + 1) % 3;
  const std::string from_id = cluster_.node_id(from), to_id = cluster_.node_id(to);
  lookup_all();

  ASSERT_EQ(ok(to, {"CLUSTER", "SETSLOT", std::to_string(slot), "IMPORTING", from_id}), "OK\n");
  ASSERT_EQ(ok(from, {"CLUSTER", "SETSLOT", std::to_string(slot), "MIGRATING", to_id}), "OK\n");
  lookup_all();  // nothing moved yet: served by the old node
  ASSERT_EQ(ok(from, {"MIGRATE", "127.0.0.1", std::to_string(cluster_.node(to).port()), "", "0",
                      "5000", "KEYS", "acct:{t}1"}),
            "OK\n");
  const auto asks = dir_->stats().ask.value();
  lookup_all();  // {t}1 is asked for on the new node (ASK), {t}2 still on the old
  EXPECT_GT(dir_->stats().ask.value(), asks);

  ASSERT_EQ(ok(from, {"MIGRATE", "127.0.0.1", std::to_string(cluster_.node(to).port()), "", "0",
                      "5000", "KEYS", "acct:{t}2"}),
            "OK\n");
  for (int n = 0; n < 3; ++n) {
    ASSERT_EQ(ok(n, {"CLUSTER", "SETSLOT", std::to_string(slot), "NODE", to_id}), "OK\n");
  }
  const auto moved = dir_->stats().moved.value();
  const auto refreshes = dir_->stats().slot_map_refreshes.value();
  lookup_all();  // the old node now says MOVED
  EXPECT_GT(dir_->stats().moved.value(), moved);
  ASSERT_TRUE(runner_.run_until(
      [&] { return dir_->stats().slot_map_refreshes.value() > refreshes; }));
  EXPECT_EQ(dir_->node_for_key("acct:{t}1"), cluster_.node(to).authority());
  const auto moved_after = dir_->stats().moved.value();
  lookup_all();  // straight to the new owner
  EXPECT_EQ(dir_->stats().moved.value(), moved_after);
  EXPECT_EQ(dir_->stats().errors.value(), 0u);
}

TEST_F(RedisClusterTest, KilledNodeOnlyAffectsItsSlots) {
  lookup_all();
  const int dead = 2;
  EXPECT_EQ(cluster_.node(dead).stop(SIGKILL), -1);
  auto on_dead = [&](const std::string& id) { return node_of(id) == dead; };
  // node_of asks node 0, which still lists the dead node's slots as its.
  int on_dead_count = 0;
  for (const std::string& id : ids_) on_dead_count += on_dead(id);
  ASSERT_GT(on_dead_count, 0);
  lookup_all(on_dead);  // sent to the dead node: connection lost, kUnavailable
  lookup_all(on_dead);  // now backing off: kUnavailable at once
  EXPECT_GE(dir_->stats().connect_failures.value(), 1u);
  EXPECT_GE(dir_->stats().unavailable.value(), 2u * on_dead_count);
}

}  // namespace
}  // namespace regiongate
