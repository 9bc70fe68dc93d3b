// server.limits: client connections per address and in total. Past a cap a
// new connection is closed as soon as it is accepted, counted by reason in
// regiongate_connections_refused_total; the connections already open are
// served on, and a client from another address still gets in.
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/h2_frames.h"

namespace regiongate::testing {
namespace {

class ConnectionLimitsTest : public GatewayFixture {
 protected:
  void start(const std::string& limits) {
    ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
    ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z", "  limits: " + limits + "\n"));
    port_ = base_.substr(base_.rfind(':') + 1);
  }
  // `n` connections from 127.0.0.1, each answered once and then held open.
  void hold(int n) {
    for (int i = 0; i < n; ++i) {
      held_.push_back(std::make_unique<Witness>(port_, dir_));
      ASSERT_TRUE(held_.back()->started()) << held_.back()->output();
    }
  }
  // A shop request from `address` (curl --interface): its status, 0 when
  // the connection was closed before any answer.
  int status_from(const std::string& address) {
    ProcessResult r = curl({"--interface", address, "-o", "/dev/null", "-w", "%{http_code}", "-H",
                            "host: api.example.com", "-H", "x-account-id: in-asha"},
                           "/shop/cart");
    return r.out.empty() ? 0 : std::stoi(r.out);
  }
  double refused(const std::string& reason) {
    return metric_value(metrics(), "regiongate_connections_refused_total", {{"reason", reason}});
  }
  std::string port_;
  std::vector<std::unique_ptr<Witness>> held_;
};

TEST_F(ConnectionLimitsTest, PerAddress) {
  ASSERT_NO_FATAL_FAILURE(start("{connections_per_address: 3}"));
  ASSERT_NO_FATAL_FAILURE(hold(3));
  EXPECT_EQ(status_from("127.0.0.1"), 0);  // the fourth from that address
  EXPECT_EQ(refused("per-address"), 1);
  EXPECT_EQ(status_from("127.0.0.2"), 200);  // another address
  // Those open are served on; once one has closed, the address has room again.
  held_.back()->expect_still_served();
  held_.pop_back();
  ASSERT_TRUE(
      wait_until([&] { return metric_value(metrics(), "regiongate_connections_open") <= 2; }));
  EXPECT_EQ(status_from("127.0.0.1"), 200);
  for (auto& w : held_) w->expect_still_served();
  EXPECT_EQ(refused("total"), 0);
}

TEST_F(ConnectionLimitsTest, InTotal) {
  ASSERT_NO_FATAL_FAILURE(start("{connections: 3}"));
  ASSERT_NO_FATAL_FAILURE(hold(3));
  EXPECT_EQ(status_from("127.0.0.2"), 0);  // whatever the address
  EXPECT_EQ(refused("total"), 1);
  held_.back()->expect_still_served();
  held_.pop_back();
  ASSERT_TRUE(
      wait_until([&] { return metric_value(metrics(), "regiongate_connections_open") <= 2; }));
  EXPECT_EQ(status_from("127.0.0.2"), 200);
  for (auto& w : held_) w->expect_still_served();
}

}  // namespace
}  // namespace regiongate::testing
