#pragma once
// The outcome of the residency decision for one request.

#include <array>
#include <cstdint>
#include <string_view>

#include "maps/datacenter.h"
#include "policy/policy.h"

namespace regiongate {

enum class DecisionReason : std::uint8_t {
  kAllowed,          // 200: route to `chosen`
  kDeniedByRule,     // 451: a deny rule covers the request
  kNoRule,           // 451: no rule covers the account country for this service now
  kNoDataCenter,     // 451: the rule allows only places with no data centre
  kUnknownCountry,   // 451: the account country could not be resolved
  kUnknownService,   // 404: the request matches no service
  kAllDown,          // 503: allowed data centres exist, none is up
  kNoConsent,        // 403: the service is opt-in and the request lacks its consent
  // 503: the account directory could not answer, and the service refuses
  // rather than fall back (identity.directory_unavailable)
  kDirectoryUnavailable,
};

// Stable, machine-readable names: the reason header, logs, explain's "reason_code".
std::string_view reason_code(DecisionReason reason);
int status_for(DecisionReason reason);

inline constexpr DataCenterIndex kNoDataCenterIndex = 0xFF;
inline constexpr std::int16_t kNoRule = -1;

struct Decision {
  DecisionReason reason = DecisionReason::kNoRule;
  std::int16_t rule = kNoRule;  // index into Policy::rules, or kNoRule
  DataCenterIndex chosen = kNoDataCenterIndex;  // first healthy candidate
  std::uint8_t candidate_count = 0;
  // Every allowed data centre in preference order, healthy or not; failover
  // walks this list and nothing else.
  std::array<DataCenterIndex, kMaxDataCenters> candidates{};
  DataCenterMask allowed = 0;

  int status() const { return status_for(reason); }
  bool routed() const { return reason == DecisionReason::kAllowed; }
};

}  // namespace regiongate
