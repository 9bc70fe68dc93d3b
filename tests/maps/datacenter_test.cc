#include "maps/datacenter.h"

#include <gtest/gtest.h>

namespace regiongate {
namespace {

struct Read {
  DataCenterMap map;
  Diagnostics diags;
};

Read read(std::string_view yaml) {
  Read r;
  auto node = load_yaml_text(yaml, "dc.yaml", r.diags);
  if (!node) return r;
  YamlContext ctx("dc.yaml", r.diags);
  r.map = read_datacenters(*node, "datacenters", ctx);
  return r;
}

TEST(DataCenters, ReadsEveryField) {
  Read r = read(R"(
mumbai:
  country: IN
  city: Mumbai
  latitude: 19.076
  longitude: 72.8777
  endpoints:
    - 127.0.0.1:8080
    - {address: "mumbai.example.net:443", tls: true, weight: 3}
    - {address: "[::1]:8443", tls: true, sni: origin.example.net}
)");
  ASSERT_FALSE(r.diags.has_errors()) << r.diags.format_all();
  ASSERT_EQ(r.map.size(), 1u);
  const DataCenter& dc = r.map.all[0];
  EXPECT_EQ(dc.id, "mumbai");
  EXPECT_EQ(country_code(dc.country), "IN");
  EXPECT_EQ(dc.city, "Mumbai");
  EXPECT_DOUBLE_EQ(dc.latitude, 19.076);
  ASSERT_EQ(dc.endpoints.size(), 3u);
  EXPECT_EQ(dc.endpoints[0].authority(), "127.0.0.1:8080");
  EXPECT_FALSE(dc.endpoints[0].tls);
  EXPECT_EQ(dc.endpoints[1].sni, "mumbai.example.net");  // defaults to the host name
  EXPECT_EQ(dc.endpoints[1].weight, 3u);
  EXPECT_EQ(dc.endpoints[2].host, "::1");
  EXPECT_EQ(dc.endpoints[2].authority(), "[::1]:8443");
  EXPECT_EQ(dc.endpoints[2].sni, "origin.example.net");
  EXPECT_EQ(dc.endpoints[0].pool_key, "h2://127.0.0.1:8080");
  EXPECT_EQ(dc.endpoints[2].pool_key, "h2s://[::1]:8443/origin.example.net");
  // Weights 1, 3, 1: endpoint 1 gets three turns of five, spread out.
  EXPECT_EQ(dc.endpoint_rotation, (std::vector<std::uint8_t>{1, 0, 1, 2, 1}));
  EXPECT_EQ(r.map.in_country(*country_from_code("IN")), dc_bit(0));
  EXPECT_EQ(r.map.find("mumbai"), 0);
  EXPECT_FALSE(r.map.find("beijing"));
}

TEST(DataCenters, EveryErrorHasAPlace) {
  Read r = read(R"(
Bad_Id:
  country: India
  latitude: 91
  longitude: abc
  endpoints: []
ok:
  country: SG
  latitude: 1
  longitude: 2
  colour: blue
  endpoints: ["nohost", "h:0", "::1:80", {address: "a:1", sni: x}, {address: "b:2", weight: 0}]
)");
  std::string all = r.diags.format_all();
  for (const char* want : {
           "dc.yaml:2:1: error: datacenters.Bad_Id: data centre id must be",
           "dc.yaml:3:12: error: datacenters.Bad_Id.country: unknown country code 'India'",
           "dc.yaml:4:13: error: datacenters.Bad_Id.latitude: must be between -90 and 90, not 91",
           "dc.yaml:5:14: error: datacenters.Bad_Id.longitude: not a number: 'abc'",
           "dc.yaml:6:14: error: datacenters.Bad_Id.endpoints: needs at least one endpoint",
           "dc.yaml:11:3: error: datacenters.ok: unknown key 'colour'",
           "endpoints[0]: endpoint must be host:port or [ipv6]:port, not 'nohost'",
           "endpoints[1]: endpoint must be host:port or [ipv6]:port, not 'h:0'",
           "endpoints[2]: endpoint must be host:port or [ipv6]:port, not '::1:80'",
           "endpoints[3].sni: sni needs tls: true",
           "endpoints[4].weight: must be between 1 and 1000, not 0",
       }) {
    EXPECT_NE(all.find(want), std::string::npos) << want << "\nin:\n" << all;
  }
}

TEST(DataCenters, HostPortParsing) {
  std::string host;
  std::uint16_t port = 0;
  EXPECT_TRUE(parse_host_port("example.com:443", &host, &port));
  EXPECT_EQ(host, "example.com");
  EXPECT_EQ(port, 443);
  EXPECT_TRUE(parse_host_port("[2001:db8::1]:8443", &host, &port));
  EXPECT_EQ(host, "2001:db8::1");
  for (const char* bad : {"", ":80", "host:", "host:65536", "host:-1", "[::1]", "[::1]80",
                          "[nothost]:80", "a b:80", "host:80x"}) {
    EXPECT_FALSE(parse_host_port(bad, &host, &port)) << bad;
  }
}

TEST(DataCenters, AtMost64) {
  std::string yaml;
  for (int i = 0; i < 65; ++i) {
    yaml += "dc" + std::to_string(i) +
            ": {country: US, latitude: 1, longitude: 1, endpoints: ['127.0.0.1:1']}\n";
  }
  Read r = read(yaml);
  EXPECT_NE(r.diags.format_all().find("at most 64 data centres"), std::string::npos);
}

}  // namespace
TEST(DataCenters, WeightedRotationSpreadsEachEndpointByItsWeight) {
  EXPECT_EQ(weighted_rotation({5, 1, 1}), (std::vector<std::uint8_t>{0, 0, 1, 0, 2, 0, 0}));
  EXPECT_EQ(weighted_rotation({1}), (std::vector<std::uint8_t>{0}));
  EXPECT_EQ(weighted_rotation({2, 2}), (std::vector<std::uint8_t>{0, 1}));  // divided by the gcd
  EXPECT_TRUE(weighted_rotation({}).empty());
  // 64 endpoints of weight 1000 and 999: every endpoint appears as often as its weight.
  std::vector<std::uint32_t> weights(64, 1000);
  weights[7] = 999;
  std::vector<std::uint8_t> order = weighted_rotation(weights);
  ASSERT_EQ(order.size(), 63u * 1000 + 999);
  std::vector<std::size_t> seen(64, 0);
  for (std::uint8_t i : order) ++seen[i];
  for (std::size_t i = 0; i < 64; ++i) EXPECT_EQ(seen[i], weights[i]) << i;
}

}  // namespace regiongate
