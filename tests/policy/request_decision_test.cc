#include "policy/request_decision.h"

#include <gtest/gtest.h>

#include "tests/policy/example_snapshot.h"

namespace regiongate {
namespace {

const Snapshot& example() { return example_snapshot(); }

IdentityConfig trusting(std::initializer_list<const char*> nets) {
  IdentityConfig id;
  for (const char* n : nets) id.trusted_proxies.push_back(*IpNetwork::parse(n));
  return id;
}

TEST(ClientAddress, ForwardedForIsBelievedOnlyFromTrustedProxies) {
  bool fwd = false;
  IpAddress peer = *IpAddress::parse("127.0.0.1");
  IdentityConfig none = trusting({});
  EXPECT_EQ(client_address(none, peer, "127.4.0.1", &fwd).to_string(), "127.0.0.1");
  EXPECT_FALSE(fwd);
  IdentityConfig lb = trusting({"127.0.0.0/24", "10.0.0.0/8"});
  EXPECT_EQ(client_address(lb, peer, "127.4.0.1", &fwd).to_string(), "127.4.0.1");
  EXPECT_TRUE(fwd);
  // The client can prepend anything; the right-most untrusted hop counts.
  EXPECT_EQ(client_address(lb, peer, "127.2.0.1, 127.4.0.1, 10.1.1.1", &fwd).to_string(),
            "127.4.0.1");
  // Garbage means nothing in the header is believed.
  EXPECT_EQ(client_address(lb, peer, "127.2.0.1, bogus", &fwd).to_string(), "127.0.0.1");
  EXPECT_FALSE(fwd);
  // Only trusted hops: the peer.
  EXPECT_EQ(client_address(lb, peer, "10.0.0.1", &fwd).to_string(), "127.0.0.1");
}

// The gateway hands in the peer's GeoIP once per connection: it is used for
// the peer and never for an address taken from x-forwarded-for.
TEST(RouteRequest, UsesTheGivenPeerGeoipOnlyForThePeer) {
  RequestInput in;
  TargetStorage storage;
  in.target.authority = "api.example.com";
  in.target.path = "/cloud/photos";
  in.peer = *IpAddress::parse("127.0.0.1");  // unknown to the demo database
  in.now = *parse_rfc3339("2015-01-15T00:00:00Z");
  GeoipResult brazil{GeoipStatus::kFound, *country_from_code("BR")};
  in.peer_geoip = &brazil;
  RoutedRequest r = route_request(example(), in, storage);
  EXPECT_EQ(country_code(r.country.location), "BR");
  EXPECT_EQ(country_code(r.country.account), "BR");  // GeoIP is a country source here

  Snapshot trusting_lb = example();
  trusting_lb.identity = trusting({"127.0.0.0/24"});
  in.forwarded_for = "127.4.0.9";  // a phone in the US, behind a trusted proxy
  r = route_request(trusting_lb, in, storage);
  EXPECT_TRUE(r.client_from_forwarded);
  EXPECT_EQ(country_code(r.country.location), "US");
}

TEST(RouteRequest, TheStory) {
  RequestInput in;
  TargetStorage storage;
  in.target.authority = "api.example.com";
  in.target.path = "/cloud/photos";
  in.account_id = "in-ravi";
  in.peer = *IpAddress::parse("127.4.0.9");  // a phone in the US
  in.now = *parse_rfc3339("2015-01-15T00:00:00Z");
  RoutedRequest r = route_request(example(), in, storage);
  EXPECT_EQ(example().policy.services[r.service].name, "cloud");
  EXPECT_EQ(country_code(r.country.account), "IN");
  EXPECT_EQ(r.country.source, CountrySource::kDirectory);
  EXPECT_EQ(country_code(r.country.location), "US");
  EXPECT_EQ(example().datacenters.all[r.decision.chosen].id, "oregon");

  in.account_id = "";
  in.peer = *IpAddress::parse("127.0.0.1");  // unknown place, no account
  EXPECT_EQ(route_request(example(), in, storage).decision.status(), 451);
  in.target.authority = "www.example.org";
  EXPECT_EQ(route_request(example(), in, storage).decision.status(), 404);
}

// The story: an Indian account's /cloud/../shop/cart on 2014-12-15
// is shop (which may no longer go to Beijing), not cloud (which still must).
TEST(RouteRequest, ClassifiesTheCanonicalPathNotTheRawOne) {
  RequestInput in;
  TargetStorage storage;
  in.target.authority = "API.example.com.";
  in.target.scheme = "https";
  in.account_id = "in-ravi";
  in.peer = *IpAddress::parse("127.4.0.9");
  in.now = *parse_rfc3339("2014-12-15T00:00:00Z");
  for (const char* path : {"/cloud/../shop/cart", "/cloud/%2e%2e/shop/cart", "/cloud/%2E./shop/cart",
                           "/x/./../%73hop/cart", "//shop//cart", "/cloud/photos/../../shop/cart"}) {
    in.target.path = path;
    RoutedRequest r = route_request(example(), in, storage);
    ASSERT_EQ(r.target.fault, RequestFault::kNone) << path;
    EXPECT_EQ(r.target.path, "/shop/cart") << path;
    EXPECT_EQ(r.target.authority.authority, "api.example.com") << path;
    EXPECT_EQ(example().policy.services[r.service].name, "shop") << path;
    EXPECT_NE(example().datacenters.all[r.decision.chosen].id, "beijing") << path;
  }
  in.target.path = "/cloud/photos";
  RoutedRequest r = route_request(example(), in, storage);
  EXPECT_EQ(example().datacenters.all[r.decision.chosen].id, "beijing");  // cloud is still there
}

TEST(RouteRequest, RefusesWhatCannotBeReadOneWay) {
  RequestInput in;
  TargetStorage storage;
  in.target.authority = "api.example.com";
  in.account_id = "in-ravi";
  in.peer = *IpAddress::parse("127.4.0.9");
  in.now = *parse_rfc3339("2014-12-15T00:00:00Z");
  in.target.path = "/cloud%2f..%2fshop/cart";
  EXPECT_EQ(route_request(example(), in, storage).target.fault, RequestFault::kEncodedSlash);
  in.target.path = "/shop/cart";
  in.target.host_header = "shop.example.com";
  EXPECT_EQ(route_request(example(), in, storage).target.fault, RequestFault::kHostMismatch);
  in.target.host_header = "API.example.com";  // the same host, spelled otherwise
  EXPECT_EQ(route_request(example(), in, storage).target.fault, RequestFault::kNone);
  in.target.authority = "";  // no :authority: the host header is the authority
  in.target.host_header = "shop.example.com";
  RoutedRequest r = route_request(example(), in, storage);
  EXPECT_EQ(r.target.authority.host, "shop.example.com");
  EXPECT_EQ(example().policy.services[r.service].name, "shop");
  in.header_fault = RequestFault::kDuplicateHeader;
  r = route_request(example(), in, storage);
  EXPECT_EQ(r.target.fault, RequestFault::kDuplicateHeader);
  EXPECT_EQ(r.service, kNoService);
}

}  // namespace
}  // namespace regiongate
