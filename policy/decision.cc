#include "policy/decision.h"

namespace regiongate {

std::string_view reason_code(DecisionReason reason) {
  switch (reason) {
    case DecisionReason::kAllowed: return "allowed";
    case DecisionReason::kDeniedByRule: return "denied-by-rule";
    case DecisionReason::kNoRule: return "no-rule";
    case DecisionReason::kNoDataCenter: return "no-allowed-datacenter";
    case DecisionReason::kUnknownCountry: return "unknown-account-country";
    case DecisionReason::kUnknownService: return "unknown-service";
    case DecisionReason::kAllDown: return "no-allowed-datacenter-up";
    case DecisionReason::kNoConsent: return "consent-required";
    case DecisionReason::kDirectoryUnavailable: return "account-directory-unavailable";
  }
  return "unknown";
}

int status_for(DecisionReason reason) {
  switch (reason) {
    case DecisionReason::kAllowed: return 200;
    case DecisionReason::kUnknownService: return 404;
    case DecisionReason::kNoConsent: return 403;
    case DecisionReason::kAllDown: return 503;
    case DecisionReason::kDirectoryUnavailable: return 503;
    default: return 451;
  }
}

}  // namespace regiongate
