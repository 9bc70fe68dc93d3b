// The health board's round-trip averages and what a snapshot's view makes
// of them: a data centre is as near as its best endpoint that is up.

#include <gtest/gtest.h>

#include "proxy/origin/health_board.h"

namespace regiongate {
namespace {

OriginEndpoint endpoint(std::uint16_t port) {
  OriginEndpoint e;
  e.host = "127.0.0.1";
  e.port = port;
  e.pool_key = "h2://127.0.0.1:" + std::to_string(port);
  return e;
}

DataCenter datacenter(const std::string& id, std::vector<OriginEndpoint> endpoints) {
  DataCenter dc;
  dc.id = id;
  dc.endpoints = std::move(endpoints);
  return dc;
}

DataCenterMap two_datacenters() {
  DataCenterMap dcs;
  dcs.all.push_back(datacenter("near", {endpoint(1), endpoint(2)}));
  dcs.all.push_back(datacenter("far", {endpoint(3)}));
  return dcs;
}

TEST(HealthBoard, TheRoundTripAverageStartsAtTheFirstSampleAndMovesAQuarterOfTheWay) {
  HealthBoard board(1, 2);
  EndpointHealth& e = board.entry("near", two_datacenters().all[0].endpoints[0]);
  EXPECT_EQ(e.rtt_ewma_us.load(), 0u);
  board.probe_result(e, true, 1000);
  EXPECT_EQ(e.rtt_ewma_us.load(), 1000u);
  board.probe_result(e, true, 5000);
  EXPECT_EQ(e.rtt_ewma_us.load(), 2000u);
  board.probe_result(e, true, 1000);
  EXPECT_EQ(e.rtt_ewma_us.load(), 1750u);
  board.probe_result(e, false, 900000);  // failures do not feed it
  EXPECT_EQ(e.rtt_ewma_us.load(), 1750u);
  for (int i = 0; i < 40; ++i) board.probe_result(e, true, 80000);
  EXPECT_NEAR(e.rtt_ewma_us.load(), 80000u, 100);

  // A round trip under a microsecond still counts as measured (0 means none).
  EndpointHealth& quick = board.entry("near", two_datacenters().all[0].endpoints[1]);
  board.probe_result(quick, true, 0);
  EXPECT_EQ(quick.rtt_ewma_us.load(), 1u);
}

TEST(HealthView, ADataCentreIsAsNearAsItsBestEndpointThatIsUp) {
  const DataCenterMap dcs = two_datacenters();
  HealthBoard board(1, 1);
  HealthView view(board, dcs);
  std::uint32_t us[2] = {7, 7};
  view.round_trips(us);
  EXPECT_EQ(us[0], 0u);  // nothing measured yet
  EXPECT_EQ(us[1], 0u);

  EndpointHealth& slow = board.entry("near", dcs.all[0].endpoints[0]);
  EndpointHealth& fast = board.entry("near", dcs.all[0].endpoints[1]);
  EndpointHealth& far = board.entry("far", dcs.all[1].endpoints[0]);
  board.probe_result(slow, true, 9000);
  board.probe_result(fast, true, 3000);
  board.probe_result(far, true, 50000);
  view.round_trips(us);
  EXPECT_EQ(us[0], 3000u);
  EXPECT_EQ(us[1], 50000u);

  board.probe_result(fast, false, 0);  // fall 1: down, its average no longer counts
  view.round_trips(us);
  EXPECT_EQ(us[0], 9000u);
  board.request_failed(far);  // down by a request: the data centre has no measurement left
  view.round_trips(us);
  EXPECT_EQ(us[1], 0u);
}

}  // namespace
}  // namespace regiongate
