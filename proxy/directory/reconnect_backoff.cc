#include "proxy/directory/reconnect_backoff.h"

#include <algorithm>

namespace regiongate {

ReconnectBackoff::ReconnectBackoff(std::chrono::milliseconds min, std::chrono::milliseconds max)
    : min_(min), max_(std::max(min, max)), ceiling_(min), random_(std::random_device{}()) {}

std::chrono::milliseconds ReconnectBackoff::next() {
  const std::int64_t high = ceiling_.count();
  ceiling_ = std::min(max_, ceiling_ * 2);
  std::uniform_int_distribution<std::int64_t> pick(high / 2, high);
  return std::chrono::milliseconds(pick(random_));
}

}  // namespace regiongate
