#pragma once
// `regiongate plan`: what the policy changes between two instants. Which
// account countries × services move from where to where, and when: the
// migration schedule at a glance, for policy authors and for operators
// planning capacity. Pure: computed from the compiled decision table.

#include <string>
#include <vector>

#include "policy/decision_table.h"

namespace regiongate {

struct PlanChange {
  UnixSeconds at = 0;     // the instant it takes effect
  CountrySet accounts;    // the account countries it moves
  ServiceMask services = 0;
  // Where their data goes just before and from `at` on (decision_text()),
  // with one representative decision each (the first country's).
  std::string before, after;
  Decision before_decision, after_decision;
};

// Every change in (from, to], in time order; within one instant, largest
// groups first. Countries whose services all move alike share a change.
std::vector<PlanChange> plan_changes(const Policy& policy, const DataCenterMap& datacenters,
                                     const DecisionTable& table, UnixSeconds from, UnixSeconds to);

// The table for people: when | accounts | services | from | to.
std::string plan_table(const Policy& policy, const std::vector<PlanChange>& changes);

}  // namespace regiongate
