#pragma once
// The Redis account directory asked synchronously, for `regiongate explain`
// and the admin listener's /explain (never the data path): its own event
// loop, run until each answer comes. A lookup blocks for at most the
// configuration's connect_timeout (the first one: connecting, and the slot
// map of a cluster) plus its timeout; no answer by then is kUnavailable,
// as on the data path.

#include <memory>
#include <string>
#include <string_view>

#include "maps/account_directory.h"
#include "maps/redis_config.h"
#include "proxy/directory/redis_directory.h"
#include "proxy/net/event_loop.h"

namespace regiongate {

class BlockingRedisDirectory final : public AccountDirectory {
 public:
  explicit BlockingRedisDirectory(const RedisDirectoryConfig& config);
  ~BlockingRedisDirectory() override;

  // Asks Redis (or its cache, for an id asked before): never kPending.
  DirectoryResult find(std::string_view account_id) const override;
  std::size_t size() const override { return 0; }  // unknown: Redis holds them
  std::string_view describe() const override { return description_; }

 private:
  // Runs the loop until `done` or `seconds` have passed; returns done().
  template <class Done>
  bool run_until(Done done, double seconds) const;

  mutable EventLoop loop_;
  std::unique_ptr<RedisDirectory> redis_;  // after loop_: destroyed before it
  std::string description_;
};

}  // namespace regiongate
