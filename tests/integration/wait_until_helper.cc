#include "tests/integration/wait_until.h"

#include <thread>

namespace regiongate::testing {

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds deadline,
                std::chrono::milliseconds every) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(every);  // polling a condition
  }
}

}  // namespace regiongate::testing
