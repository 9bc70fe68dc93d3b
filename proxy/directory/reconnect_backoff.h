#pragma once
// How long a lost Redis node is left alone before the next connection
// attempt: doubling from `min` up to `max`, each delay drawn uniformly from
// its upper half ("equal jitter") so that every worker of every gateway
// process does not reconnect to a restarted node in the same millisecond.

#include <chrono>
#include <cstdint>
#include <random>

namespace regiongate {

class ReconnectBackoff {
 public:
  ReconnectBackoff(std::chrono::milliseconds min, std::chrono::milliseconds max);

  // The delay before the next attempt; each call without a reset() doubles it.
  std::chrono::milliseconds next();
  // After a connection succeeded.
  void reset() { ceiling_ = min_; }

 private:
  std::chrono::milliseconds min_, max_, ceiling_;
  std::minstd_rand random_;
};

}  // namespace regiongate
