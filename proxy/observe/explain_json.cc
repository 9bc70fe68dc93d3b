#include "proxy/observe/explain_json.h"

#include "policy/explain.h"
#include "policy/request_decision.h"

namespace regiongate {
namespace {

nlohmann::ordered_json country_or_null(CountryId c) {
  if (c == kNoCountry) return nullptr;
  return std::string(country_code(c));
}

const char* directory_status_name(DirectoryStatus s) {
  switch (s) {
    case DirectoryStatus::kFound: return "found";
    case DirectoryStatus::kNotFound: return "not-found";
    case DirectoryStatus::kPending: return "pending";
    case DirectoryStatus::kUnavailable: return "unavailable";
  }
  return "?";
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Resolves the account country and client location the way the gateway does.
bool resolve(const Snapshot& snap, const ExplainQuery& q, ResolvedCountry* out,
             std::string* error) {
  std::optional<IpAddress> client;
  if (q.ip) {
    client = IpAddress::parse(*q.ip);
    if (!client) {
      *error = "not an IP address: '" + *q.ip + "'";
      return false;
    }
  }
  RequestFacts facts;
  if (q.account) facts.account_id = *q.account;
  if (client) facts.client = &*client;
  const AccountDirectory* directory = q.directory ? q.directory : snap.directory.get();
  *out = resolve_country(snap.identity, directory, snap.geoip.get(), facts);
  if (q.country) {
    auto c = country_from_code_any_case(*q.country);
    if (!c) {
      *error = "not an ISO 3166-1 alpha-2 country code: '" + *q.country + "'";
      return false;
    }
    out->account = *c;
    out->source = CountrySource::kGiven;
  }
  return true;
}

// The target as given and as the gateway would classify and forward it:
// the same canonical_target() the data path calls.
nlohmann::ordered_json explain_target(const ExplainQuery& q, const CanonicalTarget& t) {
  nlohmann::ordered_json target;
  target["raw"] = {{"authority", *q.host}, {"path", q.path}};
  if (t.fault != RequestFault::kNone) {
    target["fault"] = std::string(fault_code(t.fault));
  } else {
    target["canonical"] = {{"authority", std::string(t.authority.authority)},
                           {"path", std::string(t.path)}};
  }
  return target;
}

nlohmann::ordered_json refused_target(const ExplainQuery& q, const CanonicalTarget& t) {
  // The gateway resolves no account country for a request it cannot read.
  nlohmann::ordered_json j;
  j["country"] = nullptr;
  j["country_source"] = "none";
  j["target"] = explain_target(q, t);
  j["service"] = nullptr;
  j["at"] = format_rfc3339(q.at);
  j["rule"] = nullptr;
  j["candidates"] = nlohmann::ordered_json::array();
  j["datacenter"] = nullptr;
  j["datacenter_country"] = nullptr;
  j["status"] = 400;
  j["reason_code"] = std::string(fault_code(t.fault));
  j["reason"] = std::string(fault_reason(t.fault)) + "; nothing is decided or forwarded";
  return j;
}

}  // namespace

std::optional<nlohmann::ordered_json> explain_request(const Snapshot& snap, const ExplainQuery& q,
                                                      std::string* error) {
  ResolvedCountry who;
  if (!resolve(snap, q, &who, error)) return std::nullopt;
  ServiceId service = kNoService;
  CanonicalTarget target;
  TargetStorage storage;
  if (q.service) {
    service = snap.policy.find_service(*q.service);
    if (service == kNoService) {
      *error = "unknown service '" + *q.service + "'";
      return std::nullopt;
    }
  } else if (q.host) {
    target = canonical_target({"GET", "https", *q.host, "", q.path}, snap.requests, storage);
    if (target.fault != RequestFault::kNone) return refused_target(q, target);
    service = snap.classifier.classify(target.authority.host, target.path);
  }
  ConsentMask granted = 0;
  for (const std::string& name : q.consents) {
    const ConsentId c = snap.policy.find_consent(name);
    if (c == kNoConsent) {
      // A typo would explain a refusal the gateway would not make.
      *error = "unknown consent '" + name + "' (the policy's: " +
               (snap.policy.consents.empty() ? std::string("none") : join_names(snap.policy.consents)) +
               ")";
      return std::nullopt;
    }
    granted |= consent_bit(c);
  }
  Decision d = decide_resolved(snap, service, who, granted, q.at, q.healthy,
                               q.latency ? &*q.latency : nullptr);

  nlohmann::ordered_json j;
  j["country"] = country_or_null(who.account);
  j["country_source"] = std::string(source_name(who.source));
  if (q.account) j["account"] = *q.account;
  j["client_location"] = country_or_null(who.location);
  nlohmann::ordered_json lookups = nlohmann::ordered_json::object();
  if (who.directory_asked) lookups["directory"] = directory_status_name(who.directory);
  if (who.geoip_asked) lookups["geoip"] = geoip_status_name(who.geoip);
  j["lookups"] = lookups;
  if (q.host) j["target"] = explain_target(q, target);
  j["service"] = service == kNoService ? nlohmann::ordered_json(nullptr)
                                       : nlohmann::ordered_json(snap.policy.services[service].name);
  if (service != kNoService && snap.policy.services[service].consent != kNoConsent) {
    j["consent_needed"] = snap.policy.consents[snap.policy.services[service].consent];
  }
  j["consents"] = q.consents;
  j["at"] = format_rfc3339(q.at);
  if (d.rule != kNoRule) {
    const Rule& r = snap.policy.rules[d.rule];
    j["rule"] = r.id;
    j["rule_source"] = r.mark.file + ':' + std::to_string(r.mark.line);
  } else {
    j["rule"] = nullptr;
  }
  nlohmann::ordered_json candidates = nlohmann::ordered_json::array();
  for (std::uint8_t i = 0; i < d.candidate_count; ++i) {
    candidates.push_back(snap.datacenters.all[d.candidates[i]].id);
  }
  j["candidates"] = candidates;
  if (q.latency) {
    // What the order was made of: each candidate's round trip (null: not measured).
    j["nearest"] = "latency";
    nlohmann::ordered_json round_trips = nlohmann::ordered_json::object();
    for (std::uint8_t i = 0; i < d.candidate_count; ++i) {
      const std::uint32_t us = q.latency->us[d.candidates[i]];
      round_trips[snap.datacenters.all[d.candidates[i]].id] =
          us == 0 ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(us / 1000.0);
    }
    j["round_trips_ms"] = round_trips;
  }
  if (d.chosen != kNoDataCenterIndex) {
    const DataCenter& dc = snap.datacenters.all[d.chosen];
    j["datacenter"] = dc.id;
    j["datacenter_country"] = std::string(country_code(dc.country));
  } else {
    j["datacenter"] = nullptr;
    j["datacenter_country"] = nullptr;
  }
  j["status"] = d.status();
  j["reason_code"] = std::string(reason_code(d.reason));
  j["reason"] = describe_decision(snap, who.account, service, d);
  return j;
}

}  // namespace regiongate
