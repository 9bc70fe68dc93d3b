#pragma once
// "Nearest" by measured latency (server.health.nearest: latency): the
// allowed data centres of one part of a decision (the in-country ones, then
// the others) ordered by the round trip this gateway measures to each, with
// distance to the client as the tie-break. Pure: the measurements are given
// (the health checker's moving averages, read by the caller without a lock).
//
// The rule, applied to a part given nearest first by distance:
//   - measured data centres come before unmeasured ones (no successful probe
//     yet, or no endpoint up): what is not known to answer does not jump
//     ahead of what is;
//   - among the measured, the next is the nearest by distance of those whose
//     round trip is within `tolerance_us` of the fastest one left. So two
//     round trips closer than the tolerance count as equal and distance
//     decides, and a data centre goes ahead of a nearer one only when it is
//     faster by more than the tolerance;
//   - the unmeasured keep their distance order.
// It only ever permutes the part: no data centre is added or dropped, and
// the in-country part stays ahead of the rest (decide() orders each part on
// its own).

#include <array>
#include <cstddef>
#include <cstdint>

#include "maps/datacenter.h"

namespace regiongate {

struct DataCenterLatencies {
  // [data centre] -> round trip from this gateway in microseconds; 0: not measured.
  std::array<std::uint32_t, kMaxDataCenters> us{};
  // Round trips at most this far from the fastest count as equal to it.
  std::uint32_t tolerance_us = 0;
};

// Reorders `dcs[0, n)`, given nearest first by distance, by the rule above.
// No allocation; O(n^2) in the part's size (a handful of data centres).
void order_by_latency(DataCenterIndex* dcs, std::size_t n, const DataCenterLatencies& latencies);

}  // namespace regiongate
