// Stopping under load (SIGTERM): the gateway closes its listeners at once,
// lets every request in flight on every connection finish, and exits 0.
// The origin holds the requests (normalising_origin.py's held/) until the
// test has seen the drain begin, so nothing here depends on timing.

#include <gtest/gtest.h>

#include <signal.h>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/python_peers.h"

namespace regiongate::testing {
namespace {

using DrainTest = GatewayFixture;

TEST_F(DrainTest, SigtermUnderLoadFinishesEveryRequestInFlight) {
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore"));
  // Longer than this test could take: the requests end by being answered,
  // never by the drain deadline.
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z", "  timeouts: {drain: 60s}\n"));
  // 4 connections with 50 requests each, all sent at once.
  constexpr std::size_t kInFlight = 200;
  BackgroundProcess load({"/usr/bin/h2load", "-n", "200", "-c", "4", "-m", "50", "-H",
                          ":authority: api.example.com", "-H", "x-account-id: in-asha",
                          base_ + "/shop/held/x"});
  auto held = [&] { return origin_requests(origin_log("singapore")).size(); };
  ASSERT_TRUE(wait_until([&] { return held() == kInFlight; }))
      << held() << " held\n" << load.output() << gateway_->output();

  ASSERT_EQ(kill(gateway_->pid(), SIGTERM), 0);
  // Every worker closes its listeners: none is left, and a new connection is
  // refused (curl: 7, "couldn't connect") while the requests are in flight.
  EXPECT_TRUE(wait_until(
      [&] { return sockets_of(gateway_->pid(), SocketKind::kTcpListening).empty(); }));
  ProcessResult refused = curl({"-H", "host: api.example.com", "-H", "x-account-id: in-asha"},
                               "/shop/cart");
  EXPECT_EQ(refused.exit_code, 7) << refused.out << refused.err;
  EXPECT_TRUE(process_running(gateway_->pid())) << gateway_->output();
  EXPECT_EQ(load.output().find("succeeded,"), std::string::npos) << load.output();

  // The origin answers: every request in flight completes with 200.
  ASSERT_EQ(kill(origins_["singapore"]->pid(), SIGUSR1), 0);
  // h2load ends by itself (stop(0) only waits), with its own exit status.
  EXPECT_EQ(load.stop(0, std::chrono::seconds(30)), 0) << load.output();
  EXPECT_NE(load.output().find("200 succeeded, 0 failed, 0 errored"), std::string::npos)
      << load.output();
  EXPECT_NE(load.output().find("status codes: 200 2xx, 0 3xx, 0 4xx, 0 5xx"), std::string::npos)
      << load.output();
  // The gateway ends by itself once drained (stop(0) only waits), with 0.
  EXPECT_EQ(gateway_->stop(0), 0) << gateway_->output();
}

}  // namespace
}  // namespace regiongate::testing
