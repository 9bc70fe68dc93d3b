// "Nearest" by measured latency through the real gateway. Asha's shop data
// (IN, 2015-01-15) may live in SG or the US: Singapore is the nearest on the
// map but answers everything 60 ms late, Oregon is farther and answers at
// once, Beijing is forbidden and fast. With `nearest: latency` her requests
// go to Oregon, with `nearest: distance` to Singapore; Beijing only ever
// sees health probes either way.

#include <gtest/gtest.h>

#include <signal.h>

#include <string>
#include <vector>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/python_peers.h"

namespace regiongate::testing {
namespace {

class NearestLatencyTest : public GatewayFixture {
 protected:
  void start(const std::string& nearest) {
    ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore", "--delay=60"));
    ASSERT_NO_FATAL_FAILURE(start_normalising_origin("oregon"));
    ASSERT_NO_FATAL_FAILURE(start_normalising_origin("beijing"));
    ASSERT_NO_FATAL_FAILURE(start_gateway(
        "2015-01-15T00:00:00Z",
        "  health: {interval: 100ms, timeout: 1s, rise: 1, fall: 2, nearest: " + nearest + "}\n"));
    // Probes of one endpoint go one at a time: a third one received by the
    // slow data centre means two answered, so both are measured (the fast
    // one long before).
    ASSERT_TRUE(wait_until([&] { return paths_seen_by("singapore", "/healthz") >= 3; }))
        << origin_log("singapore") << gateway_->output();
  }

  // Asha's shop requests, on one connection; where each was served.
  std::vector<std::string> send_asha(int n) {
    std::vector<Request> requests;
    for (int i = 0; i < n; ++i) requests.emplace_back(get_request("/shop/cart", "in-asha"));
    nlohmann::json results = send_requests(base_.substr(base_.rfind(':') + 1), requests, dir_);
    std::vector<std::string> dcs;
    for (const nlohmann::json& r : results) {
      EXPECT_EQ(r["status"], 200) << r.dump();
      dcs.push_back(r["headers"].value("x-regiongate-dc", ""));
    }
    return dcs;
  }

  // How many requests for `path` the origin of `dc` has received.
  int paths_seen_by(const std::string& dc, const std::string& path) {
    int n = 0;
    for (const nlohmann::json& r : origin_requests(origin_log(dc))) n += r["path"] == path;
    return n;
  }

  void expect_only_probes(const std::string& dc) {
    for (const nlohmann::json& r : origin_requests(origin_log(dc))) {
      EXPECT_EQ(r["path"], "/healthz") << dc << " got " << r.dump();
    }
  }
};

TEST_F(NearestLatencyTest, WithLatencyTheFasterAllowedDataCentreServes) {
  ASSERT_NO_FATAL_FAILURE(start("latency"));
  for (const std::string& dc : send_asha(20)) EXPECT_EQ(dc, "oregon");
  EXPECT_EQ(paths_seen_by("oregon", "/shop/cart"), 20);
  // The admin listener's explain orders as the requests were: by round trip.
  ProcessResult e = admin("/explain?account=in-asha&host=api.example.com&path=/shop/cart");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  nlohmann::json live = nlohmann::json::parse(e.out.substr(e.out.find("\r\n\r\n") + 4));
  EXPECT_EQ(live["datacenter"], "oregon") << live.dump();
  EXPECT_EQ(live["nearest"], "latency") << live.dump();
  expect_only_probes("singapore");
  expect_only_probes("beijing");
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

TEST_F(NearestLatencyTest, WithDistanceTheNearerAllowedDataCentreServes) {
  ASSERT_NO_FATAL_FAILURE(start("distance"));
  for (const std::string& dc : send_asha(20)) EXPECT_EQ(dc, "singapore");
  EXPECT_EQ(paths_seen_by("singapore", "/shop/cart"), 20);
  expect_only_probes("oregon");
  expect_only_probes("beijing");
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

}  // namespace
}  // namespace regiongate::testing
