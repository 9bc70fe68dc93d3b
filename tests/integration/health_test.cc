// Health checks through the real gateway: a hung data centre (SIGSTOP: the
// kernel still accepts its connections, nothing answers) is taken out of
// service within a few health intervals and traffic moves to the next
// allowed data centre, never to a forbidden one; when it answers again,
// traffic comes back after `rise` good probes, not on the first request.

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>
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

// A data centre killed under load: the requests in flight on its
// connections may fail (they are counted, and bounded by the load's
// concurrency), the rest move to the next allowed data centre at once,
// nothing reaches the forbidden one, and traffic comes back only after
// `rise` good probes of the restarted origin. Read through /metrics.
TEST_F(HealthTest, ADataCentreKilledUnderLoadFailsOverWithFewCountedErrors) {
  std::ofstream(docroot() / "healthz") << "ok\n";
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_origin("oregon"));
  ASSERT_NO_FATAL_FAILURE(start_origin("beijing"));  // forbidden for Indian shop data
  ASSERT_NO_FATAL_FAILURE(start_gateway(
      "2015-01-15T00:00:00Z",
      "  health: {path: /healthz, interval: 200ms, timeout: 300ms, rise: 3, fall: 2}\n"));
  const int singapore_port = ports_["singapore"];
  // About 8 s of load: 4 connections × 4 streams, 1,000 requests a second.
  constexpr int kConcurrency = 4 * 4;
  BackgroundProcess load({"/usr/bin/h2load", "-n", "8000", "-c", "4", "-m", "4", "--rps", "250",
                          "-H", ":authority: api.example.com", "-H", "x-account-id: in-asha",
                          base_ + "/shop/cart"});
  auto served_by = [&](const nlohmann::json& m, const std::string& dc) {
    return metric_value(m, "regiongate_requests_total", {{"datacenter", dc}, {"status", "200"}});
  };
  nlohmann::json m;
  ASSERT_TRUE(wait_until([&] { return served_by(m = metrics(), "singapore") >= 1000; },
                         std::chrono::seconds(20), std::chrono::milliseconds(20)))
      << m.dump() << load.output();

  // Killed: its connections close, new connects are refused.
  const double oregon_before = served_by(m, "oregon");
  stop_origin("singapore");  // SIGKILL by PID, waited for
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return served_by(m = metrics(), "oregon") > oregon_before; },
                         std::chrono::seconds(10), std::chrono::milliseconds(5)))
      << m.dump();
  const auto failover = std::chrono::steady_clock::now() - killed_at;
  // And out of service (fall: 2 failures) within a few intervals.
  ASSERT_TRUE(wait_until([&] {
    return metric_value(m = metrics(), "regiongate_datacenter_healthy", {{"datacenter", "singapore"}}) == 0;
  })) << m.dump();
  const auto ejected = std::chrono::steady_clock::now() - killed_at;
  // A few intervals (200 ms) and reads of /metrics (about 0.1 s each): 0.2 to
  // 0.5 s here; bounded loosely for slower machines.
  EXPECT_LT(failover, std::chrono::seconds(5));
  EXPECT_LT(ejected, std::chrono::seconds(5));

  // Back, on the same port: only probes until `rise` of them passed.
  ASSERT_GT(start_origin_on("singapore", "127.0.0.1", singapore_port), 0);
  const double singapore_before = served_by(m, "singapore");
  ASSERT_TRUE(wait_until([&] { return served_by(m = metrics(), "singapore") > singapore_before + 200; },
                         std::chrono::seconds(10), std::chrono::milliseconds(20)))
      << m.dump();
  auto summary = load.wait_for(std::regex(R"((\d+) succeeded, (\d+) failed, (\d+) errored)"),
                               std::chrono::seconds(60));
  ASSERT_TRUE(summary) << load.output();
  // h2load ends by itself once its summary is out: wait for that (a
  // SIGTERM while it still prints would be its exit status, not ours).
  EXPECT_EQ(load.stop(0, std::chrono::seconds(30)), 0) << load.output();
  m = metrics();

  // What failed: only what was in flight when the data centre died, each
  // one counted by the gateway as the client saw it.
  const double total = metric_value(m, "regiongate_requests_total");
  const double ok = metric_value(m, "regiongate_requests_total", {{"status", "200"}});
  const double errors = total - ok;
  std::smatch counts;
  const std::string out = load.output();
  ASSERT_TRUE(std::regex_search(out, counts, std::regex(R"(status codes: (\d+) 2xx)"))) << out;
  EXPECT_EQ(std::stod(counts[1]), ok) << out << m.dump();
  EXPECT_EQ(total, 8000) << out;  // every request decided and counted once
  EXPECT_LE(errors, kConcurrency) << out << m.dump();
  EXPECT_EQ(served_by(m, "beijing"), 0);
  EXPECT_EQ(metric_value(m, "regiongate_requests_total", {{"datacenter", "beijing"}}), 0);
  std::cout << "[ measured ] failover after " << std::chrono::duration<double, std::milli>(failover).count()
            << " ms, out of service after " << std::chrono::duration<double, std::milli>(ejected).count()
            << " ms, " << errors << " of " << total << " requests failed; failovers counted: "
            << metric_value(m, "regiongate_failovers_total") << "\n";
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);

  // The restarted origin's first requests were probes: `rise` (3) of them
  // at least before any request of Asha's.
  std::vector<std::string> paths;
  const std::string log = origin_log("singapore");
  const std::regex path_line(R"(:path: (\S+))");
  for (std::sregex_iterator it(log.begin(), log.end(), path_line), end; it != end; ++it) {
    paths.push_back((*it)[1]);
  }
  ASSERT_GT(paths.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(paths[i], "/healthz") << i;
  // The forbidden data centre saw only probes.
  const std::string beijing = origin_log("beijing");
  for (std::sregex_iterator it(beijing.begin(), beijing.end(), path_line), end; it != end; ++it) {
    EXPECT_EQ((*it)[1], "/healthz");
  }
}

}  // namespace
}  // namespace regiongate::testing
