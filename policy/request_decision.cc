#include "policy/request_decision.h"

namespace regiongate {
namespace {

bool trusted(const IdentityConfig& identity, const IpAddress& a) {
  for (const IpNetwork& net : identity.trusted_proxies) {
    if (net.contains(a)) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

IpAddress client_address(const IdentityConfig& identity, const IpAddress& peer,
                         std::string_view forwarded_for, bool* from_forwarded) {
  *from_forwarded = false;
  if (forwarded_for.empty() || !trusted(identity, peer)) return peer;
  // Walk from the right: each hop appended the address it saw.
  std::string_view rest = forwarded_for;
  for (int hops = 0; !rest.empty() && hops < 32; ++hops) {
    auto comma = rest.rfind(',');
    std::string_view entry = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    auto address = IpAddress::parse(entry);
    if (!address) return peer;  // malformed: believe nothing in it
    if (!trusted(identity, *address)) {
      *from_forwarded = true;
      return *address;
    }
  }
  return peer;
}

ConsentMask granted_consents(const Policy& policy, const VerifiedToken* token) {
  ConsentMask granted = 0;
  if (!token) return granted;
  for (const std::string& name : token->consents) {
    if (ConsentId c = policy.find_consent(name); c != kNoConsent) granted |= consent_bit(c);
  }
  return granted;
}

Decision decide_resolved(const Snapshot& snap, ServiceId service, ResolvedCountry& who,
                         ConsentMask granted, UnixSeconds now, DataCenterMask healthy,
                         const DataCenterLatencies* latency) {
  if (who.account == kNoCountry && who.directory == DirectoryStatus::kUnavailable &&
      snap.identity.fallback_for(service) == DirectoryFallback::kGeoip && who.location != kNoCountry) {
    who.account = who.location;
    who.source = CountrySource::kGeoipFallback;
  }
  Decision d = snap.table.decide(who.account, service, granted, now, who.location, healthy, latency);
  // Only a decision that needed the country says the directory was down.
  if (d.reason == DecisionReason::kUnknownCountry && who.directory == DirectoryStatus::kUnavailable) {
    d.reason = DecisionReason::kDirectoryUnavailable;
  }
  return d;
}

RoutedRequest route_request(const Snapshot& snap, const RequestInput& in, TargetStorage& storage) {
  RoutedRequest out;
  if (in.header_fault != RequestFault::kNone) {
    out.target.fault = in.header_fault;
    return out;
  }
  out.target = canonical_target(in.target, snap.requests, storage);
  if (out.target.fault != RequestFault::kNone) return out;
  out.service = snap.classifier.classify(out.target.authority.host, out.target.path);
  out.client = client_address(snap.identity, in.peer, in.forwarded_for, &out.client_from_forwarded);
  RequestFacts facts;
  facts.account_id = in.account_id;
  if (in.token) {
    facts.token_country = in.token->country;
    facts.token_account_id = in.token->account_id;
  }
  facts.client = &out.client;
  if (!out.client_from_forwarded) facts.client_geoip = in.peer_geoip;
  facts.directory_answers = in.directory_answers;
  const AccountDirectory* directory = in.directory ? in.directory : snap.directory.get();
  out.country = resolve_country(snap.identity, directory, snap.geoip.get(), facts);
  const ConsentMask granted = granted_consents(snap.policy, in.token);
  out.decision = decide_resolved(snap, out.service, out.country, granted, in.now, in.healthy, in.latency);
  // Still asking: wait only when the answer can change the decision (an
  // unknown service or a missing consent is refused without it).
  out.waiting_for_directory = out.country.directory_pending() &&
                              out.decision.reason == DecisionReason::kUnknownCountry;
  return out;
}

}  // namespace regiongate
