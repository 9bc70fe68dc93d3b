// Floods one client sends to tie up a worker, each met with GOAWAY
// (ENHANCE_YOUR_CALM), counted by reason in
// regiongate_client_connection_errors_total, while a well-behaved client
// on another connection is served across it (h2_frames.h's Witness).
#include <gtest/gtest.h>
#include <signal.h>

#include <string>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/h2_frames.h"

namespace regiongate::testing {
namespace {

class FloodTest : public GatewayFixture {
 protected:
  void start(const std::string& extra_server = "") {
    ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
    ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z", extra_server));
    port_ = base_.substr(base_.rfind(':') + 1);
  }
  void TearDown() override {
    if (gateway_) {
      EXPECT_EQ(gateway_->stop(SIGTERM), 0) << gateway_->output();
    }
    GatewayFixture::TearDown();
  }
  // `n` streams, each opened and reset at once (RST_STREAM CANCEL).
  static nlohmann::json open_and_reset(int n) {
    nlohmann::json steps = preface_steps();
    for (int i = 0; i < n; ++i) {
      steps.push_back(get_step(2 * i + 1));
      steps.push_back({{"rst_stream", 8}, {"stream", 2 * i + 1}});
    }
    return steps;
  }
  double errors(const std::string& reason) {
    return metric_value(metrics(), "regiongate_client_connection_errors_total", {{"reason", reason}});
  }
  std::string port_;
};

// CVE-2023-44487: streams opened and reset as fast as the client can send
// them. Past http2.reset_burst (here 100) the connection goes.
TEST_F(FloodTest, RapidResetClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(start("  http2: {reset_burst: 100, reset_rate: 10}\n"));
  Witness witness(port_, dir_);
  ASSERT_TRUE(witness.started()) << witness.output();
  nlohmann::json r = run_frames(port_, open_and_reset(300), "close", dir_);
  const nlohmann::json* goaway = find_frame(r, "GOAWAY");
  ASSERT_TRUE(goaway) << r.dump().substr(0, 2000);
  EXPECT_EQ((*goaway)["error"], "ENHANCE_YOUR_CALM") << goaway->dump();
  // The streams it took before: at most the burst (and what one read of the
  // socket held past it), never all 300.
  EXPECT_LT((*goaway)["last_stream"].get<int>(), 2 * 300 - 1) << goaway->dump();
  EXPECT_EQ(errors("rapid-reset"), 1);
  witness.expect_still_served();
}

// A client that cancels what it no longer needs (a feed scrolled past) now
// and then is not a flood: under the burst, its connection stays.
TEST_F(FloodTest, ResetsWithinTheBudgetAreServed) {
  ASSERT_NO_FATAL_FAILURE(start("  http2: {reset_burst: 100, reset_rate: 10}\n"));
  nlohmann::json r = run_frames(port_, open_and_reset(60), "ping-ack", dir_);
  EXPECT_FALSE(find_frame(r, "GOAWAY")) << r.dump().substr(0, 2000);
  EXPECT_EQ(r["end"], "ping-ack") << r.dump().substr(0, 2000);
  EXPECT_EQ(errors("rapid-reset"), 0);
}

}  // namespace
}  // namespace regiongate::testing
