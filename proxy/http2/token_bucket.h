#pragma once
// A budget of events per connection: `burst` at once, `rate` more a second.
// The caps are passed on every take (not kept), so that a reload changes
// them for connections already open. Times are the loop's (ev_now), so a
// take costs no clock read.

#include <algorithm>
#include <cstdint>

namespace regiongate {

class TokenBucket {
 public:
  // Full at `now`.
  void fill(std::uint32_t burst, double now) {
    tokens_ = burst;
    at_ = now;
  }
  // Takes `cost` tokens; false when there were not as many left (the event
  // is over budget; the tokens stay).
  bool take(std::uint32_t burst, std::uint32_t rate, double now, std::uint32_t cost = 1) {
    tokens_ = std::min<double>(burst, tokens_ + (now - at_) * rate);
    at_ = now;
    if (tokens_ < cost) return false;
    tokens_ -= cost;
    return true;
  }

 private:
  double tokens_ = 0;
  double at_ = 0;
};

}  // namespace regiongate
