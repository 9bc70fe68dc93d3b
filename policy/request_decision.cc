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
  out.country = resolve_country(snap.identity, snap.directory.get(), snap.geoip.get(), facts);
  out.decision = snap.table.decide(out.country.account, out.service,
                                   granted_consents(snap.policy, in.token), in.now,
                                   out.country.location, in.healthy, in.latency);
  return out;
}

}  // namespace regiongate
