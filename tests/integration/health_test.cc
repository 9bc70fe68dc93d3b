// Health checks through the real gateway: a hung data centre (SIGSTOP: the
// kernel still accepts its connections, nothing answers) is taken out of
// service within a few health intervals and traffic moves to the next
// allowed data centre, never to a forbidden one; when it answers again,
// traffic comes back after `rise` good probes, not on the first request.

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <regex>
#include <thread>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/python_peers.h"

namespace regiongate::testing {
namespace {

class HealthTest : public GatewayFixture {
 protected:
  // Where Asha's shop request went ("" when it failed or timed out).
  std::string asha_shop_dc() {
    ProcessResult r = curl({"--max-time", "5", "-H", "host: api.example.com", "-H",
                            "x-account-id: in-asha"},
                           "/shop/cart");
    std::smatch m;
    if (r.exit_code != 0 || !std::regex_search(r.out, m, std::regex("x-regiongate-dc: ([a-z-]+)"))) {
      return "";
    }
    return m[1].str();
  }
  // Asks until the answer is `want` (10 s at most); how many asks it took.
  int ask_until(const std::string& want) {
    int asks = 0;
    if (wait_until([&] { return ++asks, asha_shop_dc() == want; }, std::chrono::seconds(10),
                   std::chrono::milliseconds(50))) {
      return asks;
    }
    ADD_FAILURE() << "traffic never went to " << want << "\n" << gateway_->output();
    return -1;
  }
};

TEST_F(HealthTest, AHungDataCentreIsTakenOutAndBroughtBackByProbes) {
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("oregon"));
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("beijing"));  // forbidden for Indian shop data
  ASSERT_NO_FATAL_FAILURE(start_gateway(
      "2015-01-15T00:00:00Z",
      "  health: {path: /healthz, interval: 200ms, timeout: 300ms, rise: 5, fall: 2}\n"
      "  timeouts:\n    response_headers: 2s\n"));
  EXPECT_EQ(asha_shop_dc(), "singapore");

  // Hung: connections are accepted by the kernel and never answered.
  ASSERT_EQ(kill(origins_["singapore"]->pid(), SIGSTOP), 0);
  const auto hung_at = std::chrono::steady_clock::now();
  EXPECT_GT(ask_until("oregon"), 0);
  const auto moved_after = std::chrono::steady_clock::now() - hung_at;
  // Two failed probes (fall) of 300 ms each, a tick apart, and a request at
  // most: well under the 30 s a request alone would have waited.
  EXPECT_LT(moved_after, std::chrono::seconds(5));
  for (int i = 0; i < 5; ++i) EXPECT_EQ(asha_shop_dc(), "oregon");

  // Answering again: back after `rise` (5) good probes a tick apart, about
  // a second; not on the first request after it answers.
  ASSERT_EQ(kill(origins_["singapore"]->pid(), SIGCONT), 0);
  EXPECT_EQ(asha_shop_dc(), "oregon");
  EXPECT_GT(ask_until("singapore"), 1);
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
  // Every request the beijing origin saw was a probe of its own health.
  for (const nlohmann::json& r : origin_requests(origin_log("beijing"))) {
    EXPECT_EQ(r["path"], "/healthz") << r.dump();
  }
}

// Nothing allowed is up: 503, never a forbidden data centre.
TEST_F(HealthTest, WhenNoAllowedDataCentreIsHealthyTheAnswerIs503) {
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("beijing"));
  ASSERT_NO_FATAL_FAILURE(start_gateway(
      "2015-01-15T00:00:00Z", "  health: {interval: 200ms, timeout: 300ms, rise: 2, fall: 2}\n"));
  EXPECT_EQ(asha_shop_dc(), "singapore");
  ASSERT_EQ(kill(origins_["singapore"]->pid(), SIGSTOP), 0);
  // Oregon and California are dead too (nothing listens): wait for the 503.
  ProcessResult r;
  wait_until(
      [&] {
        r = curl({"--max-time", "5", "-H", "host: api.example.com", "-H", "x-account-id: in-asha"},
                 "/shop/cart");
        return r.out.find("HTTP/2 503") != std::string::npos;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(50));
  EXPECT_NE(r.out.find("x-regiongate-reason: no-allowed-datacenter-up"), std::string::npos)
      << r.out;
  ASSERT_EQ(kill(origins_["singapore"]->pid(), SIGCONT), 0);
  for (const nlohmann::json& seen : origin_requests(origin_log("beijing"))) {
    EXPECT_EQ(seen["path"], "/healthz") << seen.dump();
  }
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

}  // namespace
}  // namespace regiongate::testing
