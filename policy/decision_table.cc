#include "policy/decision_table.h"

#include <algorithm>

namespace regiongate {

std::size_t DecisionTable::interval_of(UnixSeconds t) const {
  // Interval k is [boundaries_[k-1], boundaries_[k]): count the boundaries <= t.
  return static_cast<std::size_t>(std::upper_bound(boundaries_.begin(), boundaries_.end(), t) -
                                  boundaries_.begin());
}

TimeWindow DecisionTable::interval_window(std::size_t k) const {
  TimeWindow w;
  if (k > 0) w.from = boundaries_[k - 1];
  if (k < boundaries_.size()) w.until = boundaries_[k];
  return w;
}

Decision DecisionTable::decide(CountryId account, ServiceId service, ConsentMask granted,
                               UnixSeconds now, CountryId client_location, DataCenterMask healthy,
                               const DataCenterLatencies* latency) const {
  Decision d;
  // A request for no known service is misdirected whoever sends it.
  if (service >= service_count_) {
    d.reason = DecisionReason::kUnknownService;
    return d;
  }
  // Opt-in: without the consent the data goes nowhere, in no country.
  if (const ConsentId c = service_consent_[service]; c != kNoConsent && !(granted & consent_bit(c))) {
    d.reason = DecisionReason::kNoConsent;
    return d;
  }
  if (account >= in_country_.size()) {
    d.reason = DecisionReason::kUnknownCountry;
    return d;
  }
  const Outcome& o = outcomes_[cells_[cell_index(account, service, interval_of(now))]];
  d.rule = o.rule;
  d.reason = o.reason;
  if (o.reason != DecisionReason::kAllowed) return d;

  // In-country first, then the rest; each part nearest to the client first
  // (by distance, or by measured latency with distance breaking ties).
  CountryId from = client_location < in_country_.size() ? client_location : account;
  const DataCenterIndex* order = &nearest_[static_cast<std::size_t>(from) * dc_count_];
  const DataCenterMask home = o.allowed & in_country_[account];
  const DataCenterMask abroad = o.allowed & ~home;
  std::uint8_t n = 0;
  for (const DataCenterMask part : {home, abroad}) {
    if (part == 0) continue;
    const std::uint8_t first = n;
    for (std::size_t i = 0; i < dc_count_; ++i) {
      if (part & dc_bit(order[i])) d.candidates[n++] = order[i];
    }
    if (latency) order_by_latency(&d.candidates[first], n - first, *latency);
  }
  d.candidate_count = n;
  d.allowed = o.allowed;
  for (std::uint8_t i = 0; i < n; ++i) {
    if (healthy & dc_bit(d.candidates[i])) {
      d.chosen = d.candidates[i];
      return d;
    }
  }
  d.reason = DecisionReason::kAllDown;
  return d;
}

}  // namespace regiongate
