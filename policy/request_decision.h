#pragma once
// What the gateway decides for one request, from what the request says: its
// canonical target (or why it has none), the service (host and path), the
// account country (account header, client address) and the residency
// decision. Pure: no I/O; no allocation unless the target must be rewritten
// into its canonical form (into the caller's TargetStorage).

#include <string_view>

#include "maps/ip_network.h"
#include "policy/snapshot.h"

namespace regiongate {

struct RequestFacts;

struct RoutedRequest {
  // What is classified and forwarded. When target.fault is set, the request
  // is refused (400) and nothing else here is filled in.
  CanonicalTarget target;
  ServiceId service = kNoService;
  ResolvedCountry country;
  // The directory said kPending for country.directory_id and the decision
  // needs its answer: nothing is decided yet. Route again with the answer
  // (RequestInput::directory_answers).
  bool waiting_for_directory = false;
  IpAddress client;  // the address the decision used (peer, or x-forwarded-for from a trusted proxy)
  bool client_from_forwarded = false;
  Decision decision;
};

struct RequestInput {
  RawTarget target;                   // :method, :scheme, :authority, host, :path as received
  // A fault the caller found in the headers that feed the decision (an
  // account header twice, say): refused before anything is decided.
  RequestFault header_fault = RequestFault::kNone;
  std::string_view account_id;       // the configured account header, or empty
  std::string_view forwarded_for;     // x-forwarded-for as received, or empty
  IpAddress peer;                     // the TCP peer
  const GeoipResult* peer_geoip = nullptr;  // GeoIP of `peer` in this snapshot's database, if known
  // The request's verified token, or null: its country claim and account id
  // are sources of the account country (identity.order), and its consents
  // are the only ones the request has (an opt-in service needs its own).
  const VerifiedToken* token = nullptr;
  // The account directory to ask instead of the snapshot's (a worker's
  // asynchronous backend, which may answer kPending), or null.
  const AccountDirectory* directory = nullptr;
  // Its answers to the lookups it said kPending for, once it has answered.
  std::span<const DirectoryAnswer> directory_answers;
  UnixSeconds now = 0;
  DataCenterMask healthy = ~DataCenterMask{0};
  // Measured round trips (server.health.nearest: latency), or null: by distance.
  const DataCenterLatencies* latency = nullptr;
};

// The canonical forms are written into `storage` when they differ from the
// input; the result's views point into it or into the input.
RoutedRequest route_request(const Snapshot& snapshot, const RequestInput& input,
                            TargetStorage& storage);

// The decision for a resolved account country, as the gateway makes it
// (route_request, explain): a directory that could not answer leaves the
// country to the service's directory_unavailable (GeoIP of the client, as
// CountrySource::kGeoipFallback, or a 503), and a decision that needs no
// country (an unknown service, a missing consent) is made without one.
// `who` may be changed (the fallback).
Decision decide_resolved(const Snapshot& snapshot, ServiceId service, ResolvedCountry& who,
                         ConsentMask granted, UnixSeconds now, DataCenterMask healthy,
                         const DataCenterLatencies* latency);

// The policy's consents among those `token` carries (names it does not use
// are ignored).
ConsentMask granted_consents(const Policy& policy, const VerifiedToken* token);

// The client address to believe: the peer, unless the peer is a trusted
// proxy, in which case the right-most x-forwarded-for entry that is not
// itself a trusted proxy (entries to its left can be forged by the client).
IpAddress client_address(const IdentityConfig& identity, const IpAddress& peer,
                         std::string_view forwarded_for, bool* from_forwarded);

}  // namespace regiongate
