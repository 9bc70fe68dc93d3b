#pragma once
// The compiled policy: an immutable table from (account country, service,
// time interval) to an outcome, plus, per client location, the data centres
// sorted by distance. decide() is a few array lookups and a walk over at most
// 64 data centres: no allocation, no locks, safe from any thread.
//
// Time is cut into intervals at every `from`/`until` the policy names; the
// answer is constant inside an interval, which is what makes the domain finite
// and `regiongate check` able to prove properties over all of it.

#include <cstdint>
#include <vector>

#include "maps/datacenter.h"
#include "policy/decision.h"
#include "policy/latency_order.h"
#include "policy/policy.h"

namespace regiongate {

class DecisionTable {
 public:
  DecisionTable() = default;

  // Validates what needs the whole policy (overlapping rules, allows that a
  // `never` forbids, unreachable rules; warnings for countries left with no
  // data centre) and builds the table. Meaningful only if no error was added.
  static DecisionTable compile(const Policy& policy, const DataCenterMap& datacenters,
                               Diagnostics& diags);

  // The residency decision. `granted`: the consents the request carries
  // (from its verified token); a service that needs one it lacks is refused
  // (403) before anything else, for every account country, whatever the
  // rules say. `client_location` is where the client is now
  // (kNoCountry when unknown: the account country's point is used). `healthy`
  // marks the data centres that are up; the candidates are the same whatever
  // it says, only `chosen` and the 503 depend on it. `latency` (null: by
  // distance) orders each part by measured round trip instead, distance
  // breaking ties (latency_order.h): the same candidates, in another order.
  Decision decide(CountryId account, ServiceId service, ConsentMask granted, UnixSeconds now,
                  CountryId client_location, DataCenterMask healthy,
                  const DataCenterLatencies* latency = nullptr) const;

  // Introspection for check, explain and the proof.
  std::size_t interval_count() const { return boundaries_.size() + 1; }
  std::size_t interval_of(UnixSeconds t) const;
  TimeWindow interval_window(std::size_t interval) const;
  const std::vector<UnixSeconds>& boundaries() const { return boundaries_; }
  std::size_t service_count() const { return service_count_; }
  std::size_t datacenter_count() const { return dc_count_; }
  // How many (country, service, interval) cells each rule decides.
  const std::vector<std::size_t>& rule_cells() const { return rule_cells_; }

  struct Outcome {
    DecisionReason reason = DecisionReason::kNoRule;
    std::int16_t rule = kNoRule;
    DataCenterMask allowed = 0;  // after every `never`
    bool operator==(const Outcome&) const = default;
  };
  const Outcome& outcome(CountryId account, ServiceId service, std::size_t interval) const {
    return outcomes_[cells_[cell_index(account, service, interval)]];
  }

 private:
  friend class PolicyCompiler;

  std::size_t cell_index(CountryId c, ServiceId s, std::size_t k) const {
    return (static_cast<std::size_t>(c) * service_count_ + s) * interval_count() + k;
  }

  std::vector<UnixSeconds> boundaries_;    // sorted, unique
  std::vector<std::uint16_t> cells_;       // [country][service][interval] -> outcome
  std::vector<Outcome> outcomes_;          // distinct outcomes
  std::vector<DataCenterMask> in_country_; // [country] -> data centres located there
  std::vector<DataCenterIndex> nearest_;   // [location][rank] -> data centre, nearest first
  std::vector<std::size_t> rule_cells_;
  std::vector<ConsentId> service_consent_;  // [service] -> the consent it needs, or kNoConsent
  std::size_t service_count_ = 0;
  std::size_t dc_count_ = 0;
};

}  // namespace regiongate
