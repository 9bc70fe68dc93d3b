#pragma once
// The wall clock that policy dates are compared with, injected: the
// system's, or a fixed instant (`serve --now`, the demo's phases, tests).
// A value: copied into whatever needs it, never changed after.

#include <chrono>
#include <optional>

#include "util/rfc3339.h"

namespace regiongate {

class Clock {
 public:
  static Clock system() { return Clock(std::nullopt); }
  static Clock fixed(UnixSeconds at) { return Clock(at); }

  UnixSeconds now() const {
    if (fixed_) return *fixed_;
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  bool is_fixed() const { return fixed_.has_value(); }

 private:
  explicit Clock(std::optional<UnixSeconds> fixed) : fixed_(fixed) {}
  std::optional<UnixSeconds> fixed_;
};

}  // namespace regiongate
