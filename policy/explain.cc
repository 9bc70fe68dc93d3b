#include "policy/explain.h"

namespace regiongate {

std::string describe_decision(const Snapshot& snap, CountryId account, ServiceId service,
                              const Decision& d) {
  const std::string who =
      account == kNoCountry ? std::string("the account") : std::string(country_code(account)) + " accounts";
  const std::string what =
      service < snap.policy.services.size() ? snap.policy.services[service].name : "?";
  const Rule* rule = d.rule == kNoRule ? nullptr : &snap.policy.rules[d.rule];
  switch (d.reason) {
    case DecisionReason::kAllowed:
      return "rule '" + rule->id + "' allows " + rule->allow_text + " for " + who + " (" + what +
             ", " + rule->window.describe() + "); in-country first, then nearest to the client";
    case DecisionReason::kDeniedByRule:
      return "rule '" + rule->id + "' denies " + who + " the " + what + " service: " +
             rule->deny_reason;
    case DecisionReason::kNoRule:
      return "no rule covers " + who + " for " + what +
             " at this time, and data never crosses a border no rule allows";
    case DecisionReason::kNoDataCenter:
      return "rule '" + rule->id + "' allows " + rule->allow_text + " for " + who + " (" + what +
             "), and no data centre there may receive it";
    case DecisionReason::kUnknownCountry:
      return "the account country could not be resolved (no known account id, no GeoIP country)";
    case DecisionReason::kUnknownService:
      return "the request matches no service of the policy";
    case DecisionReason::kNoConsent: {
      const ConsentId c = service < snap.policy.services.size() ? snap.policy.services[service].consent
                                                                : kNoConsent;
      return "the " + what + " service is opt-in: it needs the consent '" +
             (c == kNoConsent ? std::string("?") : snap.policy.consents[c]) +
             "', which the request does not carry, so its data goes nowhere";
    }
    case DecisionReason::kDirectoryUnavailable:
      return "the account directory cannot answer now, and the account country of a " + what +
             " request is never guessed (identity.directory_unavailable), so its data goes "
             "nowhere; retry later";
    case DecisionReason::kAllDown:
      return "no allowed data centre is up (allowed: " + snap.datacenters.names(d.allowed) +
             "); refusing rather than crossing a border the policy forbids";
  }
  return "";
}

}  // namespace regiongate
