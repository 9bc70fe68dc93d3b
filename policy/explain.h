#pragma once
// Human-readable reasons for decisions: the `reason` of `regiongate explain`,
// the body of a 451/503 and the audit log all use these words.

#include <string>

#include "policy/snapshot.h"

namespace regiongate {

std::string describe_decision(const Snapshot& snapshot, CountryId account, ServiceId service,
                              const Decision& decision);

}  // namespace regiongate
