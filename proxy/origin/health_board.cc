#include "proxy/origin/health_board.h"

#include <algorithm>

namespace regiongate {
namespace {

// The new sample's weight in the round-trip average is 1 / kRoundTripWeight.
constexpr std::int64_t kRoundTripWeight = 4;

std::uint32_t moving_average(std::uint32_t average, std::uint32_t sample) {
  sample = std::max<std::uint32_t>(sample, 1);  // 0 means "not measured"
  if (average == 0) return sample;
  const std::int64_t next = average + (std::int64_t{sample} - average) / kRoundTripWeight;
  return static_cast<std::uint32_t>(std::max<std::int64_t>(next, 1));
}

}  // namespace

EndpointHealth& HealthBoard::entry(const std::string& dc, const OriginEndpoint& endpoint) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = entries_[dc + " " + endpoint.pool_key];
  if (!slot) slot = std::make_unique<EndpointHealth>();
  return *slot;
}

void HealthBoard::probe_result(EndpointHealth& e, bool ok, std::uint32_t rtt_us) {
  if (ok) {
    e.probes_ok.fetch_add(1, std::memory_order_relaxed);
    e.rtt_us.store(rtt_us, std::memory_order_relaxed);
    // One writer (the checker's thread): load and store need no CAS.
    e.rtt_ewma_us.store(moving_average(e.rtt_ewma_us.load(std::memory_order_relaxed), rtt_us),
                        std::memory_order_relaxed);
    e.failures.store(0, std::memory_order_relaxed);
    if (e.successes.fetch_add(1, std::memory_order_relaxed) + 1 >= static_cast<std::uint32_t>(rise_)) {
      e.up.store(true, std::memory_order_release);
    }
    return;
  }
  e.probes_failed.fetch_add(1, std::memory_order_relaxed);
  e.successes.store(0, std::memory_order_relaxed);
  if (e.failures.fetch_add(1, std::memory_order_relaxed) + 1 >= static_cast<std::uint32_t>(fall_)) {
    e.up.store(false, std::memory_order_release);
  }
}

void HealthBoard::request_failed(EndpointHealth& e) {
  e.request_failures.fetch_add(1, std::memory_order_relaxed);
  e.successes.store(0, std::memory_order_relaxed);
  if (e.failures.fetch_add(1, std::memory_order_relaxed) + 1 >= static_cast<std::uint32_t>(fall_)) {
    e.up.store(false, std::memory_order_release);
  }
}

void HealthBoard::request_succeeded(EndpointHealth& e) {
  // A good answer clears a run of failures, but only probes bring an
  // endpoint that is down back (rise).
  if (e.up.load(std::memory_order_acquire)) e.failures.store(0, std::memory_order_relaxed);
}

HealthView::HealthView(HealthBoard& board, const DataCenterMap& dcs) {
  by_dc_.resize(dcs.size());
  for (std::size_t i = 0; i < dcs.size(); ++i) {
    for (const OriginEndpoint& e : dcs.all[i].endpoints) by_dc_[i].push_back(&board.entry(dcs.all[i].id, e));
  }
}

DataCenterMask HealthView::healthy() const {
  if (by_dc_.empty()) return ~DataCenterMask{0};
  DataCenterMask mask = 0;
  for (std::size_t i = 0; i < by_dc_.size(); ++i) {
    for (const EndpointHealth* e : by_dc_[i]) {
      if (e->up.load(std::memory_order_acquire)) {
        mask |= dc_bit(static_cast<DataCenterIndex>(i));
        break;
      }
    }
  }
  return mask;
}

void HealthView::round_trips(std::uint32_t* out) const {
  for (std::size_t i = 0; i < by_dc_.size(); ++i) {
    std::uint32_t best = 0;
    for (const EndpointHealth* e : by_dc_[i]) {
      if (!e->up.load(std::memory_order_acquire)) continue;
      const std::uint32_t us = e->rtt_ewma_us.load(std::memory_order_relaxed);
      if (us != 0 && (best == 0 || us < best)) best = us;
    }
    out[i] = best;
  }
}

bool HealthView::endpoint_up(DataCenterIndex dc, std::size_t endpoint) const {
  if (by_dc_.empty()) return true;
  return by_dc_[dc][endpoint]->up.load(std::memory_order_acquire);
}

EndpointHealth* HealthView::endpoint(DataCenterIndex dc, std::size_t endpoint) const {
  return by_dc_.empty() ? nullptr : by_dc_[dc][endpoint];
}

}  // namespace regiongate
