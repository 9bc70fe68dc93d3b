#include "proxy/directory/blocking_redis_directory.h"

#include <ev.h>

#include <chrono>

namespace regiongate {
namespace {

class Answer final : public DirectoryWaiter {
 public:
  void on_directory_answer(DirectoryResult result) noexcept override {
    got = true;
    this->result = result;
  }
  bool got = false;
  DirectoryResult result;
};

double seconds_of(std::chrono::milliseconds d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

BlockingRedisDirectory::BlockingRedisDirectory(const RedisDirectoryConfig& config)
    : redis_(std::make_unique<RedisDirectory>(loop_, config)),
      description_(describe_redis_directory(config)) {}

BlockingRedisDirectory::~BlockingRedisDirectory() = default;

template <class Done>
bool BlockingRedisDirectory::run_until(Done done, double seconds) const {
  struct ev_loop* loop = loop_.get();
  ev_timer guard;
  ev_timer_init(&guard, [](struct ev_loop*, ev_timer*, int) noexcept {}, seconds, 0.);
  ev_now_update(loop);
  ev_timer_start(loop, &guard);
  // Each turn either answers something or is the guard firing.
  while (!done() && ev_is_active(&guard)) ev_run(loop, EVRUN_ONCE);
  ev_timer_stop(loop, &guard);
  return done();
}

DirectoryResult BlockingRedisDirectory::find(std::string_view account_id) const {
  const RedisDirectoryConfig& config = redis_->config();
  if (!redis_->slot_map_ready()) {
    run_until([&] { return redis_->slot_map_ready(); }, seconds_of(config.connect_timeout));
  }
  Answer answer;
  DirectoryResult r = redis_->lookup(account_id, &answer);
  if (r.status != DirectoryStatus::kPending) return r;
  // The directory answers every lookup by its timeout (kUnavailable then);
  // the guard is only a backstop, a connect_timeout later.
  if (!run_until([&] { return answer.got; }, seconds_of(config.timeout + config.connect_timeout))) {
    redis_->cancel(&answer);
    return {DirectoryStatus::kUnavailable, kNoCountry};
  }
  return answer.result;
}

}  // namespace regiongate
