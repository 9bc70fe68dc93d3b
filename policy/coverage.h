#pragma once
// The coverage table `regiongate check` prints: for each account country (or
// set of countries with the same fate) and service, where its data goes in
// each phase of the policy, to read at a glance.

#include <string>

#include "policy/decision_table.h"

namespace regiongate {

// Phases are the policy's time intervals, with neighbours that decide
// everything alike merged. Countries and services with identical rows are
// merged into one row. Candidates are listed in preference order as seen from
// the account country's own point, all data centres up.
std::string coverage_table(const Policy& policy, const DataCenterMap& datacenters,
                           const DecisionTable& table);

}  // namespace regiongate
