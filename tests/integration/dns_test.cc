// Data-centre endpoints named by DNS: regiongate resolves them with c-ares
// against a real DNS server (dnsmasq on a loopback port, started here), tries
// every address of a name, follows a record that changes while it runs, and
// fails over (only to allowed data centres) when a name does not resolve.

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "tests/integration/gateway_fixture.h"
#include "tests/proxy/dns/dns_test_server.h"

namespace regiongate::testing {
namespace {

const std::vector<std::string> kIndianShopper = {"-H", "host: api.example.com", "-H",
                                                 "x-account-id: in-asha"};
constexpr const char* kInstant = "2015-01-15T00:00:00Z";  // Indian data: Singapore, then Oregon

class DnsTest : public GatewayFixture {
 protected:
  // Singapore's endpoint becomes sg.origin.test on port(), answered by
  // `dns_` from `hosts`; the gateway asks only that server. port() is that
  // of a socket this test holds on 127.0.0.1 (Singapore's dead address,
  // unless that port is taken on one of `dead`), so no other test is given
  // it; the origins bind it on other loopback addresses. Each address of
  // `dead` is held on port() too (bound, never listening): connecting there
  // is refused.
  void start_dns(const std::string& hosts, const std::vector<std::string>& dead = {}) {
    port_ = ports_.at("singapore");
    bool held = false;
    for (int attempt = 0; attempt < 20 && !held; ++attempt) {
      held = true;
      for (const std::string& address : dead) held = held && hold_dead_port(address, port_) != 0;
      if (!held) port_ = hold_dead_port();  // taken there by someone else: another port
    }
    ASSERT_TRUE(held) << "cannot hold port " << port_ << " on every dead address";
    dns_ = std::make_unique<DnsTestServer>(hosts, /*ttl=*/1);
    ASSERT_TRUE(dns_->ok()) << dns_->error();
    set_endpoint("singapore", "sg.origin.test:" + std::to_string(port()));
  }
  void start_gateway_with_dns() {
    start_gateway(kInstant, "  dns:\n    servers: [" + dns_->address() +
                                "]\n    timeout: 500ms\n    min_ttl: 1s\n    max_ttl: 1s\n");
  }
  int port() const { return port_; }
  bool served_by_singapore() {
    ProcessResult r = curl(kIndianShopper, "/shop/cart");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.find("HTTP/2 200") != std::string::npos &&
           r.out.find("x-regiongate-dc: singapore") != std::string::npos;
  }
  // True when every connection the origin `name` has had (nghttpd numbers
  // them [id=N]) has received a GOAWAY: the gateway has retired them all.
  bool every_connection_sent_goaway(const std::string& name) {
    std::string log = origin_log(name);
    std::set<std::string> connections, goaways;
    std::regex line(R"(\[id=(\d+)\][^\n]*)");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), line); it != std::sregex_iterator();
         ++it) {
      connections.insert((*it)[1].str());
      if (it->str().find("recv GOAWAY") != std::string::npos) goaways.insert((*it)[1].str());
    }
    return !connections.empty() && connections == goaways;
  }

  std::unique_ptr<DnsTestServer> dns_;
  int port_ = 0;
};

TEST_F(DnsTest, ResolvesAnEndpointName) {
  ASSERT_NO_FATAL_FAILURE(start_dns("127.0.0.2 sg.origin.test\n"));
  ASSERT_NE(start_origin_on("sg-a", "127.0.0.2", port()), 0);
  ASSERT_NO_FATAL_FAILURE(start_gateway_with_dns());
  EXPECT_TRUE(served_by_singapore()) << gateway_->output();
  EXPECT_EQ(requests_seen_by("sg-a"), 1);
}

// One of the name's two addresses refuses connections. Whichever order the
// resolver sorts them in, the request is served; the two tests put the dead
// address in each family, so one of them always tries it first.
TEST_F(DnsTest, TriesEveryAddressWhenIpv6IsDead) {
  ASSERT_NO_FATAL_FAILURE(start_dns("::1 sg.origin.test\n127.0.0.2 sg.origin.test\n", {"::1"}));
  ASSERT_NE(start_origin_on("sg-v4", "127.0.0.2", port()), 0);
  ASSERT_NO_FATAL_FAILURE(start_gateway_with_dns());
  EXPECT_TRUE(served_by_singapore()) << gateway_->output();
  EXPECT_EQ(requests_seen_by("sg-v4"), 1);
}

TEST_F(DnsTest, TriesEveryAddressWhenIpv4IsDead) {
  ASSERT_NO_FATAL_FAILURE(
      start_dns("::1 sg.origin.test\n127.0.0.3 sg.origin.test\n", {"127.0.0.3"}));
  ASSERT_NE(start_origin_on("sg-v6", "::1", port()), 0);
  ASSERT_NO_FATAL_FAILURE(start_gateway_with_dns());
  EXPECT_TRUE(served_by_singapore()) << gateway_->output();
  EXPECT_EQ(requests_seen_by("sg-v6"), 1);
}

TEST_F(DnsTest, FollowsARecordThatChangesWhileRunning) {
  ASSERT_NO_FATAL_FAILURE(start_dns("127.0.0.2 sg.origin.test\n"));
  ASSERT_NE(start_origin_on("old", "127.0.0.2", port()), 0);
  ASSERT_NE(start_origin_on("new", "127.0.0.4", port()), 0);
  ASSERT_NO_FATAL_FAILURE(start_gateway_with_dns());
  ASSERT_TRUE(served_by_singapore()) << gateway_->output();
  ASSERT_EQ(requests_seen_by("old"), 1);

  ASSERT_TRUE(dns_->replace_hosts("127.0.0.4 sg.origin.test\n"));
  // The old answer lives one second (its TTL); dnsmasq rereads on SIGHUP.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (requests_seen_by("new") == 0 && std::chrono::steady_clock::now() < deadline) {
    EXPECT_TRUE(served_by_singapore());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_GT(requests_seen_by("new"), 0) << gateway_->output();
  // Each origin connection asks again when its answer expires (each worker
  // has its own resolver) and, finding its address gone, is retired with a
  // GOAWAY. Once every connection to the old address has been, only the new
  // address gets requests.
  ASSERT_TRUE(wait_until([&] { return every_connection_sent_goaway("old"); })) << origin_log("old");
  int old_count = requests_seen_by("old");
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(served_by_singapore());
  EXPECT_EQ(requests_seen_by("old"), old_count);
}

// A record that does not change: the answer expires every second and is
// asked again (between any two requests here, dnsmasq answers it at least
// once more), but the origin connections stay: one per worker (2), which
// nghttpd numbers [id=1] and [id=2].
TEST_F(DnsTest, AnUnchangedRecordKeepsTheConnection) {
  ASSERT_NO_FATAL_FAILURE(start_dns("127.0.0.2 sg.origin.test\n"));
  ASSERT_NE(start_origin_on("sg-a", "127.0.0.2", port()), 0);
  ASSERT_NO_FATAL_FAILURE(start_gateway_with_dns());
  for (int i = 0; i < 6; ++i) {
    EXPECT_TRUE(served_by_singapore());
    int asked = dns_->queries("sg.origin.test");
    EXPECT_TRUE(wait_until([&] { return dns_->queries("sg.origin.test") > asked; }))
        << "not asked again after request " << i;
  }
  EXPECT_EQ(requests_seen_by("sg-a"), 6);
  std::string log = origin_log("sg-a");
  EXPECT_EQ(log.find("[id=3]"), std::string::npos) << log;
}

TEST_F(DnsTest, AnUnknownNameFailsOverToTheNextAllowedDataCentre) {
  ASSERT_NO_FATAL_FAILURE(start_dns("127.0.0.2 other.origin.test\n"));  // sg.origin.test: NXDOMAIN
  ASSERT_NO_FATAL_FAILURE(start_origin("oregon"));
  // Up, but forbidden for Indian data on this date.
  ASSERT_NO_FATAL_FAILURE(start_origin("beijing"));
  ASSERT_NO_FATAL_FAILURE(start_gateway_with_dns());
  ProcessResult r = curl(kIndianShopper, "/shop/cart");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("HTTP/2 200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x-regiongate-dc: oregon"), std::string::npos) << r.out;
  EXPECT_EQ(requests_seen_by("beijing"), 0);
}

TEST_F(DnsTest, ADeadDnsServerFailsClosed) {
  ASSERT_NO_FATAL_FAILURE(start_dns("127.0.0.2 sg.origin.test\n"));
  ASSERT_NO_FATAL_FAILURE(start_origin("beijing"));  // up, but forbidden
  ASSERT_NO_FATAL_FAILURE(start_gateway_with_dns());
  // Nothing answers for sg.origin.test now; Oregon is down too.
  ASSERT_TRUE(dns_->stop()) << dns_->error();
  ProcessResult r = curl(kIndianShopper, "/shop/cart");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("HTTP/2 503"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x-regiongate-reason: no-allowed-datacenter-up"), std::string::npos);
  EXPECT_EQ(requests_seen_by("beijing"), 0);
}

}  // namespace
}  // namespace regiongate::testing
