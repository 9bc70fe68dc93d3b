// Lookups through a real Redis from one event loop, as one worker makes
// them: `count` lookups of random loaded accounts with `inflight` pending at
// any time (pipelined on one connection), cache off. Prints the latency of
// each lookup (from lookup() to its answer) at p50/p90/p99/max and the rate.
//
//   regiongate_redis_lookup PORT ACCOUNTS [COUNT [INFLIGHT]]
// (bench/redis.sh starts the server and loads ACCOUNTS accounts first.)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "proxy/directory/redis_directory.h"

namespace regiongate {
namespace {

using Clock = std::chrono::steady_clock;

class Driver final : public DirectoryWaiter {
 public:
  Driver(RedisDirectory& dir, std::size_t accounts, std::size_t count)
      : dir_(dir), accounts_(accounts), count_(count) {
    latencies_.reserve(count);
  }
  // Starts one lookup; an answer at once (a failure here) is counted.
  void start_one() {
    if (started_ == count_) return;
    ++started_;
    id_.assign("acct-").append(std::to_string(random_() % accounts_));
    started_at_ = Clock::now();
    if (dir_.lookup(id_, this).status != DirectoryStatus::kPending) finish(false);
  }
  void on_directory_answer(DirectoryResult r) noexcept override {
    finish(r.status == DirectoryStatus::kFound);
  }
  bool done() const { return finished_ == count_; }
  std::vector<double>& latencies() { return latencies_; }
  std::size_t failures() const { return failures_; }

 private:
  void finish(bool ok) {
    latencies_.push_back(std::chrono::duration<double, std::micro>(Clock::now() - started_at_).count());
    ++finished_;
    if (!ok) ++failures_;
    start_one();
  }
  RedisDirectory& dir_;
  std::size_t accounts_, count_;
  std::size_t started_ = 0, finished_ = 0, failures_ = 0;
  std::string id_;
  Clock::time_point started_at_;
  std::vector<double> latencies_;
  std::minstd_rand random_{7};
};

int run(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s PORT ACCOUNTS [COUNT [INFLIGHT]]\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::atoi(argv[1]));
  const std::size_t accounts = std::strtoull(argv[2], nullptr, 10);
  const std::size_t count = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 100'000;
  const std::size_t inflight = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 64;
  RedisDirectoryConfig config;
  config.nodes = {{"127.0.0.1", port}};
  config.cache.entries = 0;
  config.timeout = std::chrono::seconds(1);
  EventLoop loop;
  RedisDirectory dir(loop, config);
  while (dir.stats().connects.value() == 0 && dir.stats().connect_failures.value() == 0) {
    ev_run(loop.get(), EVRUN_ONCE);
  }
  // Each driver keeps one lookup in flight (a waiter has one at a time).
  std::vector<std::unique_ptr<Driver>> drivers;
  for (std::size_t i = 0; i < inflight; ++i) {
    drivers.push_back(std::make_unique<Driver>(dir, accounts, count / inflight));
  }
  const auto start = Clock::now();
  for (auto& d : drivers) d->start_one();
  auto all_done = [&] {
    return std::all_of(drivers.begin(), drivers.end(), [](auto& d) { return d->done(); });
  };
  while (!all_done()) ev_run(loop.get(), EVRUN_ONCE);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  std::size_t failures = 0;
  for (auto& d : drivers) {
    all.insert(all.end(), d->latencies().begin(), d->latencies().end());
    failures += d->failures();
  }
  std::sort(all.begin(), all.end());
  auto at = [&](double q) { return all[std::min(all.size() - 1, static_cast<std::size_t>(q * all.size()))]; };
  std::printf("%zu lookups, %zu in flight, %zu not found: %.0f lookups/s; latency p50 %.0f us, "
              "p90 %.0f us, p99 %.0f us, max %.0f us\n",
              all.size(), inflight, failures, static_cast<double>(all.size()) / seconds, at(0.5),
              at(0.9), at(0.99), all.back());
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace regiongate

int main(int argc, char** argv) { return regiongate::run(argc, argv); }
