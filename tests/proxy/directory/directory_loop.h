#pragma once
// What the Redis directory's integration tests share: a real EventLoop run
// until a condition holds (with a deadline), and a waiter that records its
// answers.

#include <ev.h>

#include <chrono>
#include <functional>
#include <vector>

#include "proxy/directory/redis_directory.h"
#include "proxy/net/event_loop.h"

namespace regiongate::testing {

class RecordingWaiter final : public DirectoryWaiter {
 public:
  void on_directory_answer(DirectoryResult result) noexcept override { answers.push_back(result); }
  std::vector<DirectoryResult> answers;
};

class LoopRunner {
 public:
  explicit LoopRunner(EventLoop& loop) : loop_(loop.get()) { ev_init(&guard_, on_guard); }
  ~LoopRunner() { ev_timer_stop(loop_, &guard_); }

  // Runs the loop until done() or `limit` passed; returns done(). A guard
  // timer keeps one iteration from blocking past the limit.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::steady_clock::duration limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    ev_now_update(loop_);
    while (!done()) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) return done();
      ev_timer_set(&guard_, std::chrono::duration<double>(left).count(), 0.);
      ev_timer_start(loop_, &guard_);
      ev_run(loop_, EVRUN_ONCE);
      ev_timer_stop(loop_, &guard_);
    }
    return true;
  }

 private:
  static void on_guard(struct ev_loop*, ev_timer*, int) noexcept {}
  struct ev_loop* loop_;
  ev_timer guard_{};
};

// Looks `id` up and, when the answer is kPending, runs the loop until the
// waiter has it. The answer (kPending still if none came within `limit`).
inline DirectoryResult lookup_and_wait(RedisDirectory& dir, LoopRunner& runner,
                                       std::string_view id,
                                       std::chrono::steady_clock::duration limit =
                                           std::chrono::seconds(10)) {
  RecordingWaiter waiter;
  DirectoryResult r = dir.lookup(id, &waiter);
  if (r.status != DirectoryStatus::kPending) return r;
  if (!runner.run_until([&] { return !waiter.answers.empty(); }, limit)) {
    dir.cancel(&waiter);
    return r;
  }
  return waiter.answers.front();
}

}  // namespace regiongate::testing
