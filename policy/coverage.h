#pragma once
// The coverage table `regiongate check` prints: for each account country (or
// set of countries with the same fate) and service, where its data goes in
// each phase of the policy, to read at a glance.

#include <string>

#include "policy/decision_table.h"

namespace regiongate {

// Phases are the policy's time intervals, with neighbours that decide
// everything alike merged. Countries and services with identical rows are
// merged into one row. A cell lists the in-country data centres first, then
// the others allowed ("nearest of a/b/c": their order depends on where the
// client is); or the status and reason of a refusal.
std::string coverage_table(const Policy& policy, const DataCenterMap& datacenters,
                           const DecisionTable& table);

}  // namespace regiongate
