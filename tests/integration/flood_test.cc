// Floods one client sends to tie up a worker, each met with GOAWAY
// (ENHANCE_YOUR_CALM), counted by reason in
// regiongate_client_connection_errors_total, while a well-behaved client
// on another connection is served across it (h2_frames.h's Witness).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <regex>
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

// A slowloris: a HEADERS frame without END_HEADERS, and then nothing. The
// open block holds the connection (RFC 9113 §6.10); after
// timeouts.request_headers the connection goes.
TEST_F(FloodTest, AHeaderBlockLeftOpenClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(start("  timeouts: {request_headers: 1s}\n"));
  Witness witness(port_, dir_);
  ASSERT_TRUE(witness.started()) << witness.output();
  nlohmann::json open_block = get_step(1);
  open_block["end_headers"] = false;
  std::unique_ptr<BackgroundProcess> slow = start_frames(port_, then(preface_steps(), {open_block, {{"pause", true}}}), "close", dir_);
  ASSERT_TRUE(slow->wait_for(std::regex("paused"))) << slow->output();
  ASSERT_TRUE(wait_until([&] { return errors("slow-headers") == 1; }, std::chrono::seconds(10)))
      << metrics().dump();
  ASSERT_EQ(slow->stop(SIGUSR1, std::chrono::seconds(15)), 0) << slow->output();
  EXPECT_NE(slow->output().find("ENHANCE_YOUR_CALM"), std::string::npos) << slow->output();
  witness.expect_still_served();
}

// A request whose headers are complete, on a connection that then stays
// quiet past request_headers, is not a slow header: the connection stays.
TEST_F(FloodTest, AQuietConnectionAfterCompleteHeadersStays) {
  ASSERT_NO_FATAL_FAILURE(start("  timeouts: {request_headers: 1s}\n"));
  Witness quiet(port_, dir_);  // its first request answered, then quiet
  ASSERT_TRUE(quiet.started()) << quiet.output();
  // Twice request_headers of quiet: no slow-headers close meanwhile.
  EXPECT_FALSE(wait_until([&] { return errors("slow-headers") > 0; }, std::chrono::seconds(2)));
  quiet.expect_still_served();
}

}  // namespace
}  // namespace regiongate::testing
