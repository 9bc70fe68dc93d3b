#pragma once
// The one place tests wait: polls `condition` (every `every`) until it holds
// or `deadline` passes, and returns whether it held. For conditions in other
// processes (a log line, a counter, a cluster's state), which nothing can
// notify the test of.

#include <chrono>
#include <functional>

namespace regiongate::testing {

bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds deadline = std::chrono::seconds(10),
                std::chrono::milliseconds every = std::chrono::milliseconds(10));

}  // namespace regiongate::testing
