#pragma once
// The proof `regiongate check` prints: every decision the compiled table can
// make, over the whole finite domain (every account country × service × time
// interval, at both ends of each interval × every client location × every
// failover step as data centres go down one by one), is checked against an
// independent, direct reading of the policy's rules and `never` entries.
//
// It shows that no decision can reach a destination a `never` forbids, that
// every candidate is allowed by the rule in force, that refusals happen
// exactly where the policy refuses, and that failover walks only the allowed
// data centres and ends in 503, never anywhere else; and that a service
// needing a consent reaches no data centre for a request that lacks it.

#include <cstdint>
#include <string>
#include <vector>

#include "policy/decision_table.h"

namespace regiongate {

struct ProofResult {
  bool holds = true;
  std::uint64_t decisions = 0;  // decide() calls checked
  std::uint64_t consent_decisions = 0;  // of them, made without some consent
  std::string opt_in_services;  // "cloud (cloud-backup), messaging (messaging)"; empty: none
  std::size_t countries = 0, services = 0, intervals = 0, locations = 0;
  std::vector<std::string> violations;  // the first few counterexamples

  std::string summary() const;
};

ProofResult prove_policy(const Policy& policy, const DataCenterMap& datacenters,
                         const DecisionTable& table);

}  // namespace regiongate
