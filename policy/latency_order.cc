#include "policy/latency_order.h"

#include <algorithm>

namespace regiongate {
namespace {

// Moves dcs[to] to `from`, shifting dcs[from, to) up by one: the ones passed
// over keep their (distance) order for the next pick.
void bring_forward(DataCenterIndex* dcs, std::size_t from, std::size_t to) {
  const DataCenterIndex picked = dcs[to];
  for (std::size_t k = to; k > from; --k) dcs[k] = dcs[k - 1];
  dcs[from] = picked;
}

}  // namespace

void order_by_latency(DataCenterIndex* dcs, std::size_t n, const DataCenterLatencies& latencies) {
  const auto& us = latencies.us;
  // Measured ones first, each group in distance order (a stable partition).
  std::size_t measured = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (us[dcs[i]] != 0) bring_forward(dcs, measured++, i);
  }
  for (std::size_t i = 0; i + 1 < measured; ++i) {
    std::uint32_t fastest = us[dcs[i]];
    for (std::size_t j = i + 1; j < measured; ++j) fastest = std::min(fastest, us[dcs[j]]);
    // 64 bits: a tolerance near 2^32 must not wrap around.
    const std::uint64_t equal_up_to = std::uint64_t{fastest} + latencies.tolerance_us;
    std::size_t j = i;
    while (us[dcs[j]] > equal_up_to) ++j;  // stops at the fastest at the latest
    bring_forward(dcs, i, j);
  }
}

}  // namespace regiongate
