#pragma once
// What the gateway decides for one request, from what the request says:
// the service (host and path), the account country (account header, client
// address) and the residency decision. Pure: no I/O, no allocation.

#include <string_view>

#include "maps/ip_network.h"
#include "policy/snapshot.h"

namespace regiongate {

struct RequestFacts;

struct RoutedRequest {
  ServiceId service = kNoService;
  ResolvedCountry country;
  IpAddress client;  // the address the decision used (peer, or x-forwarded-for from a trusted proxy)
  bool client_from_forwarded = false;
  Decision decision;
};

struct RequestInput {
  std::string_view authority;
  std::string_view path;
  std::string_view account_id;       // the configured account header, or empty
  std::string_view forwarded_for;     // x-forwarded-for as received, or empty
  IpAddress peer;                     // the TCP peer
  const GeoipResult* peer_geoip = nullptr;  // GeoIP of `peer` in this snapshot's database, if known
  UnixSeconds now = 0;
  DataCenterMask healthy = ~DataCenterMask{0};
};

RoutedRequest route_request(const Snapshot& snapshot, const RequestInput& input);

// The client address to believe: the peer, unless the peer is a trusted
// proxy, in which case the right-most x-forwarded-for entry that is not
// itself a trusted proxy (entries to its left can be forged by the client).
IpAddress client_address(const IdentityConfig& identity, const IpAddress& peer,
                         std::string_view forwarded_for, bool* from_forwarded);

}  // namespace regiongate
