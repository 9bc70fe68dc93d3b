#include "maps/ip_network.h"

#include <gtest/gtest.h>

namespace regiongate {
namespace {

bool contains(const char* net, const char* addr) {
  return IpNetwork::parse(net)->contains(*IpAddress::parse(addr));
}

TEST(IpNetwork, Ipv4AndIpv6) {
  EXPECT_TRUE(contains("127.0.0.0/8", "127.4.0.10"));
  EXPECT_FALSE(contains("127.0.0.0/8", "128.0.0.1"));
  EXPECT_TRUE(contains("10.1.2.3", "10.1.2.3"));
  EXPECT_FALSE(contains("10.1.2.3", "10.1.2.4"));
  EXPECT_TRUE(contains("10.0.0.0/9", "10.127.255.255"));
  EXPECT_FALSE(contains("10.0.0.0/9", "10.128.0.0"));
  EXPECT_TRUE(contains("0.0.0.0/0", "8.8.8.8"));
  EXPECT_TRUE(contains("::1/128", "::1"));
  EXPECT_TRUE(contains("2001:db8::/32", "2001:db8:ffff::1"));
  EXPECT_FALSE(contains("2001:db8::/32", "2001:db9::1"));
  // An IPv4 network matches the IPv4-mapped IPv6 form of its addresses.
  EXPECT_TRUE(contains("192.168.0.0/16", "::ffff:192.168.1.1"));
  // Host bits in the network are ignored.
  EXPECT_TRUE(contains("10.1.2.3/8", "10.200.0.1"));
}

TEST(IpNetwork, RejectsMalformed) {
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "host",
                          "10.0.0.0/8/8", "1.2.3.4.5"}) {
    EXPECT_FALSE(IpNetwork::parse(bad)) << bad;
  }
}

TEST(IpAddress, RoundTrips) {
  EXPECT_EQ(IpAddress::parse("127.0.0.1")->to_string(), "127.0.0.1");
  EXPECT_EQ(IpAddress::parse("::ffff:127.0.0.1")->to_string(), "127.0.0.1");
  EXPECT_EQ(IpAddress::parse("2001:db8::1")->to_string(), "2001:db8::1");
  sockaddr_storage ss;
  IpAddress::parse("::1")->to_sockaddr(&ss);
  EXPECT_EQ(IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss))->to_string(), "::1");
}

}  // namespace
}  // namespace regiongate
