// RedisDirectory against a real redis-server on loopback, driven from a real
// EventLoop in the test process: answers, the cache, pipelining, and the
// degraded paths (server killed, restarted, stopped), each with its counter.

#include "proxy/directory/redis_directory.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <memory>

#include "tests/proxy/directory/directory_loop.h"
#include "tests/integration/ports.h"
#include "tests/proxy/directory/redis_test_server.h"

namespace regiongate {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;
using testing::LoopRunner;
using testing::RecordingWaiter;
using testing::RedisTestServer;

const CountryId kIndia = *country_from_code("IN");

class RedisDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.ok()) << server_.error(); }
  void TearDown() override {
    dir_.reset();  // before the loop
    if (server_.ok()) {
      EXPECT_EQ(server_.stop(SIGTERM), 0);
    }
  }

  RedisDirectoryConfig config() const {
    RedisDirectoryConfig c;
    c.nodes = {{"127.0.0.1", static_cast<std::uint16_t>(server_.port())}};
    c.timeout = 2s;  // generous: this machine is shared; the timeout tests set their own
    c.reconnect_min = 50ms;
    c.reconnect_max = 200ms;
    return c;
  }
  RedisDirectory& make(const RedisDirectoryConfig& c) {
    dir_.reset();
    dir_ = std::make_unique<RedisDirectory>(loop_, c);
    return *dir_;
  }
  bool wait_connected(RedisDirectory& dir, std::uint64_t connects = 1) {
    return runner_.run_until([&] { return dir.stats().connects.value() >= connects; });
  }
  void set(const std::string& id, const std::string& value) {
    ASSERT_EQ(server_.cli({"SET", "acct:" + id, value}).out, "OK\n");
  }
  // Sets acct:n-0 .. acct:n-(count-1) to IN, in one MSET.
  void set_many(int count) {
    std::vector<std::string> args = {"MSET"};
    for (int i = 0; i < count; ++i) {
      args.push_back("acct:n-" + std::to_string(i));
      args.push_back("IN");
    }
    ASSERT_EQ(server_.cli(args).out, "OK\n");
  }

  RedisTestServer server_;
  EventLoop loop_;
  LoopRunner runner_{loop_};
  std::unique_ptr<RedisDirectory> dir_;
};

TEST_F(RedisDirectoryTest, FoundNotFoundAndBadValues) {
  set("in-asha", "IN");
  set("lower", "cn");
  set("bad", "ZZ");
  set("long", "IND");
  RedisDirectory& dir = make(config());
  DirectoryResult found = testing::lookup_and_wait(dir, runner_, "in-asha");
  EXPECT_EQ(found.status, DirectoryStatus::kFound);
  EXPECT_EQ(found.country, kIndia);
  EXPECT_EQ(testing::lookup_and_wait(dir, runner_, "lower").country, *country_from_code("CN"));
  EXPECT_EQ(testing::lookup_and_wait(dir, runner_, "nobody").status, DirectoryStatus::kNotFound);
  // Not a country: an error, never a guess.
  EXPECT_EQ(testing::lookup_and_wait(dir, runner_, "bad").status, DirectoryStatus::kUnavailable);
  EXPECT_EQ(testing::lookup_and_wait(dir, runner_, "long").status, DirectoryStatus::kUnavailable);
  EXPECT_EQ(dir.stats().found.value(), 2u);
  EXPECT_EQ(dir.stats().not_found.value(), 1u);
  EXPECT_EQ(dir.stats().errors.value(), 2u);
  EXPECT_EQ(dir.stats().unavailable.value(), 2u);
  // Ids no directory holds are answered at once.
  RecordingWaiter w;
  EXPECT_EQ(dir.lookup("", &w).status, DirectoryStatus::kNotFound);
  EXPECT_EQ(dir.lookup(std::string(129, 'x'), &w).status, DirectoryStatus::kNotFound);
}

TEST_F(RedisDirectoryTest, CacheAnswersWithoutASecondGet) {
  set("in-asha", "IN");
  RedisDirectory& dir = make(config());
  ASSERT_EQ(testing::lookup_and_wait(dir, runner_, "in-asha").status, DirectoryStatus::kFound);
  ASSERT_EQ(testing::lookup_and_wait(dir, runner_, "nobody").status, DirectoryStatus::kNotFound);
  RecordingWaiter w;
  DirectoryResult again = dir.lookup("in-asha", &w);
  EXPECT_EQ(again.status, DirectoryStatus::kFound);
  EXPECT_EQ(again.country, kIndia);
  EXPECT_EQ(dir.lookup("nobody", &w).status, DirectoryStatus::kNotFound);
  EXPECT_TRUE(w.answers.empty());
  EXPECT_EQ(dir.stats().cache_hits.value(), 1u);
  EXPECT_EQ(dir.stats().cache_negative_hits.value(), 1u);
  EXPECT_EQ(dir.stats().lookups_sent.value(), 2u);
  EXPECT_EQ(server_.command_calls("get"), 2);  // what the server itself counted
}

TEST_F(RedisDirectoryTest, ManyLookupsPipelinedOnOneConnection) {
  constexpr int kCount = 2000;
  set_many(kCount);
  RedisDirectoryConfig c = config();
  c.max_pending = kCount;
  RedisDirectory& dir = make(c);
  ASSERT_TRUE(wait_connected(dir));
  std::vector<RecordingWaiter> waiters(kCount);
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(dir.lookup("n-" + std::to_string(i), &waiters[i]).status, DirectoryStatus::kPending);
  }
  EXPECT_EQ(dir.pending(), static_cast<std::size_t>(kCount));
  // One more is over max_pending: refused at once.
  RecordingWaiter extra;
  EXPECT_EQ(dir.lookup("n-extra", &extra).status, DirectoryStatus::kUnavailable);
  ASSERT_TRUE(runner_.run_until([&] { return dir.pending() == 0; }));
  for (const RecordingWaiter& w : waiters) {
    ASSERT_EQ(w.answers.size(), 1u);
    EXPECT_EQ(w.answers[0].status, DirectoryStatus::kFound);
    EXPECT_EQ(w.answers[0].country, kIndia);
  }
  EXPECT_EQ(server_.info_field({"INFO", "clients"}, "connected_clients"), "2");  // us and redis-cli
}

// A phone's app opens with several requests at once: one GET answers them all.
TEST_F(RedisDirectoryTest, LookupsOfOneAccountJoinOneGet) {
  set("in-asha", "IN");
  RedisDirectory& dir = make(config());
  ASSERT_TRUE(wait_connected(dir));
  RecordingWaiter first, second, third;
  auto left = std::make_unique<RecordingWaiter>();
  ASSERT_EQ(dir.lookup("in-asha", &first).status, DirectoryStatus::kPending);
  ASSERT_EQ(dir.lookup("in-asha", &second).status, DirectoryStatus::kPending);
  ASSERT_EQ(dir.lookup("in-asha", left.get()).status, DirectoryStatus::kPending);
  ASSERT_EQ(dir.lookup("in-asha", &third).status, DirectoryStatus::kPending);
  EXPECT_EQ(dir.lookup("in-asha", &first).status, DirectoryStatus::kUnavailable);  // one each
  EXPECT_EQ(dir.pending(), 1u);
  EXPECT_EQ(dir.stats().coalesced.value(), 3u);
  dir.cancel(left.get());
  left.reset();  // gone before the answer: never touched (ASan would say so)
  ASSERT_TRUE(runner_.run_until([&] { return dir.pending() == 0; }));
  for (RecordingWaiter* w : {&first, &second, &third}) {
    ASSERT_EQ(w->answers.size(), 1u);
    EXPECT_EQ(w->answers[0].status, DirectoryStatus::kFound);
    EXPECT_EQ(w->answers[0].country, kIndia);
  }
  EXPECT_EQ(server_.command_calls("get"), 1);
  EXPECT_EQ(dir.stats().lookups_sent.value(), 1u);

  // Every waiter of a GET cancelled: the GET is forgotten, its reply dropped.
  set("cn-li", "CN");
  RecordingWaiter a, b;
  ASSERT_EQ(dir.lookup("cn-li", &a).status, DirectoryStatus::kPending);
  ASSERT_EQ(dir.lookup("cn-li", &b).status, DirectoryStatus::kPending);
  dir.cancel(&a);
  EXPECT_EQ(dir.pending(), 1u);
  dir.cancel(&b);
  EXPECT_EQ(dir.pending(), 0u);
  ASSERT_TRUE(runner_.run_until([&] { return dir.stats().late_replies.value() == 1; }));
  EXPECT_TRUE(a.answers.empty());
  EXPECT_TRUE(b.answers.empty());
}

TEST_F(RedisDirectoryTest, CancelledWaiterIsNeverTouched) {
  set("in-asha", "IN");
  RedisDirectory& dir = make(config());
  ASSERT_TRUE(wait_connected(dir));
  auto waiter = std::make_unique<RecordingWaiter>();
  ASSERT_EQ(dir.lookup("in-asha", waiter.get()).status, DirectoryStatus::kPending);
  dir.cancel(waiter.get());
  waiter.reset();  // gone: the reply must not reach it (ASan would say so)
  ASSERT_TRUE(runner_.run_until([&] { return dir.stats().late_replies.value() == 1; }));
  EXPECT_EQ(dir.pending(), 0u);
}

TEST_F(RedisDirectoryTest, KilledServerAnswersUnavailableThenRecoversAfterBackoff) {
  constexpr int kCount = 500;
  set_many(kCount);
  RedisDirectoryConfig c = config();
  c.timeout = 300ms;
  c.cache.entries = 0;
  RedisDirectory& dir = make(c);
  ASSERT_TRUE(wait_connected(dir));
  ASSERT_EQ(testing::lookup_and_wait(dir, runner_, "n-0").status, DirectoryStatus::kFound);

  std::vector<RecordingWaiter> waiters(kCount);
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(dir.lookup("n-" + std::to_string(i), &waiters[i]).status, DirectoryStatus::kPending);
  }
  const auto killed = steady_clock::now();
  EXPECT_EQ(server_.stop(SIGKILL), -1);  // killed by the signal
  ASSERT_TRUE(runner_.run_until([&] { return dir.pending() == 0; }, 5s));
  const auto took = steady_clock::now() - killed;
  EXPECT_LE(took, c.timeout + 200ms);
  // Each waiter got exactly one answer: kUnavailable (or, for lookups the
  // server answered before it died, the right country).
  int unavailable = 0;
  for (const RecordingWaiter& w : waiters) {
    ASSERT_EQ(w.answers.size(), 1u);
    if (w.answers[0].status == DirectoryStatus::kUnavailable) {
      ++unavailable;
    } else {
      EXPECT_EQ(w.answers[0].status, DirectoryStatus::kFound);
      EXPECT_EQ(w.answers[0].country, kIndia);
    }
  }
  EXPECT_GT(unavailable, 0);
  EXPECT_GE(dir.stats().connect_failures.value(), 1u);
  // Backing off: refused at once, no waiting.
  RecordingWaiter now;
  EXPECT_EQ(dir.lookup("n-1", &now).status, DirectoryStatus::kUnavailable);

  ASSERT_TRUE(server_.restart()) << server_.error();
  set("in-asha", "IN");
  ASSERT_TRUE(wait_connected(dir, 2));
  EXPECT_GE(dir.stats().reconnects.value(), 1u);
  DirectoryResult after = testing::lookup_and_wait(dir, runner_, "in-asha");
  EXPECT_EQ(after.status, DirectoryStatus::kFound);
  EXPECT_EQ(after.country, kIndia);
}

TEST_F(RedisDirectoryTest, StoppedServerTimesOutThenCatchesUp) {
  constexpr int kCount = 100;
  set_many(kCount);
  RedisDirectoryConfig c = config();
  c.timeout = 100ms;
  c.cache.entries = 0;
  RedisDirectory& dir = make(c);
  ASSERT_TRUE(wait_connected(dir));
  ASSERT_EQ(kill(server_.pid(), SIGSTOP), 0);
  std::vector<RecordingWaiter> waiters(kCount);
  const auto sent = steady_clock::now();
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(dir.lookup("n-" + std::to_string(i), &waiters[i]).status, DirectoryStatus::kPending);
  }
  ASSERT_TRUE(runner_.run_until([&] { return dir.pending() == 0; }, 5s));
  const auto took = steady_clock::now() - sent;
  EXPECT_GE(took, c.timeout);
  EXPECT_LE(took, c.timeout + 300ms);
  for (const RecordingWaiter& w : waiters) {
    ASSERT_EQ(w.answers.size(), 1u);
    EXPECT_EQ(w.answers[0].status, DirectoryStatus::kUnavailable);
  }
  EXPECT_EQ(dir.stats().timeouts.value(), static_cast<std::uint64_t>(kCount));

  ASSERT_EQ(kill(server_.pid(), SIGCONT), 0);
  // The late replies are dropped, the connection stays, lookups work again.
  ASSERT_TRUE(runner_.run_until(
      [&] { return dir.stats().late_replies.value() == static_cast<std::uint64_t>(kCount); }));
  EXPECT_EQ(testing::lookup_and_wait(dir, runner_, "n-7").status, DirectoryStatus::kFound);
  EXPECT_EQ(dir.stats().connect_failures.value(), 0u);
}

TEST_F(RedisDirectoryTest, NothingListeningBacksOff) {
  testing::HeldSocket dead;  // bound, not listening: connections are refused
  ASSERT_TRUE(dead.ok()) << dead.error();
  RedisDirectoryConfig c = config();
  c.nodes = {{"127.0.0.1", static_cast<std::uint16_t>(dead.port())}};
  RedisDirectory& dir = make(c);
  ASSERT_TRUE(runner_.run_until([&] { return dir.stats().connect_failures.value() >= 2; }));
  RecordingWaiter w;
  DirectoryResult r = dir.lookup("anyone", &w);
  if (r.status == DirectoryStatus::kPending) {  // it was between backoff and a new attempt
    ASSERT_TRUE(runner_.run_until([&] { return !w.answers.empty(); }));
    r = w.answers[0];
  }
  EXPECT_EQ(r.status, DirectoryStatus::kUnavailable);
}

}  // namespace
}  // namespace regiongate
