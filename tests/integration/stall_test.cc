// A client that never reads (its receive window shut, RFC 9113 §6.9) costs
// only its own streams. Its downloads share the worker's pooled connection
// to the data centre with everyone else's; the gateway gives that
// connection's window back as soon as bytes are buffered, so other clients
// download on at full speed, and each stalled stream holds at most one
// stream window. After timeouts.stall without the client taking a byte,
// the stalled streams are reset on both sides and counted.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <regex>
#include <string>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/h2_frames.h"
#include "tests/integration/text_file.h"

namespace regiongate::testing {
namespace {

constexpr int kStalledStreams = 50;  // under nghttpd's 100 streams: one origin connection

class StallTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    workers_ = 1;  // one origin pool: the stalled streams and the witness share its connection
    write_text(docroot() / "shop" / "big", std::string(1 << 20, 'b'));
  }

  // One connection with SETTINGS_INITIAL_WINDOW_SIZE 0 asking for the big
  // file on `streams` streams, then holding them, reading nothing.
  std::unique_ptr<BackgroundProcess> start_stalled_reader(int streams = kStalledStreams) {
    nlohmann::json steps = then(preface_steps(), {{{"settings", {{4, 0}}}}});
    for (int i = 0; i < streams; ++i) steps.push_back(get_step(2 * i + 1, "/shop/big"));
    steps.push_back({{"pause", true}});
    return start_frames(base_.substr(base_.rfind(':') + 1), steps, "ping-ack", dir_);
  }

  // Downloads the big file on a connection of its own; its seconds (-1
  // when it did not come whole with a 200).
  double download() {
    ProcessResult r = curl({"-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}",
                            "-H", "host: api.example.com", "-H", "x-account-id: in-asha"},
                           "/shop/big");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    int status = 0;
    long size = 0;
    double seconds = -1;
    if (std::sscanf(r.out.c_str(), "%d %ld %lf", &status, &size, &seconds) != 3 || status != 200 ||
        size != (1 << 20)) {
      ADD_FAILURE() << "download: " << r.out;
      return -1;
    }
    return seconds;
  }

  double counter(const std::string& name) { return metric_value(metrics(), name); }
};

TEST_F(StallTest, AReaderThatNeverReadsStallsOnlyItsOwnStreams) {
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  const double baseline = download();
  ASSERT_GT(baseline, 0);

  std::unique_ptr<BackgroundProcess> stalled = start_stalled_reader();
  ASSERT_TRUE(stalled->wait_for(std::regex("paused"))) << stalled->output();
  // Every stalled stream reached the origin and got its response started:
  // their bytes (50 MiB, three times the origin connection's 16 MiB window)
  // are the gateway's to hold now.
  ASSERT_TRUE(wait_until([&] { return requests_seen_by("singapore") >= kStalledStreams + 1; }))
      << requests_seen_by("singapore");

  // Another client, same data centre, same worker, same origin connection:
  // before the connection's window was kept apart, it got its headers and
  // never its body.
  for (int i = 0; i < 3; ++i) {
    const double seconds = download();
    ASSERT_GT(seconds, 0);
    EXPECT_LT(seconds, std::max(2.0, 10 * baseline)) << "baseline " << baseline << " s";
  }
  EXPECT_EQ(counter("regiongate_stalled_responses_total"), 0);  // not yet: timeouts.stall is 30 s
  stalled->stop(SIGKILL);
}

// What one client connection that reads nothing makes the gateway hold is
// bounded by the connection, not only per stream: its requests' origin
// streams share http2.connection_window_size beyond a base window each.
// 100 streams of 1 MiB used to hold 100 MiB; now at most 16 MiB + 100 x
// 64 KiB. Meanwhile another client downloads through the same data centre.
TEST_F(StallTest, AClientThatReadsNothingHoldsAtMostItsConnectionsShare) {
  constexpr int kStreams = 100;
  constexpr double kWindow = 16 << 20;  // http2.connection_window_size, the default
  constexpr double kBase = 65535;       // OriginSession::kBaseStreamWindow
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  const double baseline = download();
  ASSERT_GT(baseline, 0);
  std::unique_ptr<BackgroundProcess> stalled = start_stalled_reader(kStreams);
  ASSERT_TRUE(stalled->wait_for(std::regex("paused"))) << stalled->output();
  ASSERT_TRUE(wait_until([&] { return requests_seen_by("singapore") >= kStreams + 1; }))
      << requests_seen_by("singapore");
  // The first requests got a whole stream window each, up to the share.
  ASSERT_TRUE(wait_until([&] { return counter("regiongate_response_bytes_held") >= kWindow; }))
      << counter("regiongate_response_bytes_held");
  double slowest = 0;
  for (int i = 0; i < 3; ++i) {
    const double seconds = download();
    ASSERT_GT(seconds, 0);
    slowest = std::max(slowest, seconds);
  }
  EXPECT_LT(slowest, std::max(2.0, 10 * baseline)) << "baseline " << baseline << " s";
  const double held = counter("regiongate_response_bytes_held");
  EXPECT_LE(held, kWindow + kStreams * kBase);
  std::cout << "held for a client reading nothing on " << kStreams << " streams: " << held
            << " bytes; another client's 1 MiB download " << baseline << " s alone, " << slowest
            << " s at worst meanwhile\n";
  stalled->stop(SIGKILL);
  // Its buffers go with it.
  EXPECT_TRUE(wait_until([&] { return counter("regiongate_response_bytes_held") == 0; }))
      << counter("regiongate_response_bytes_held");
}

TEST_F(StallTest, StalledResponsesAreResetAfterTheStallTimeout) {
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z", "  timeouts: {stall: 1s}\n"));
  std::unique_ptr<BackgroundProcess> stalled = start_stalled_reader();
  ASSERT_TRUE(stalled->wait_for(std::regex("paused"))) << stalled->output();
  ASSERT_TRUE(wait_until([&] { return counter("regiongate_stalled_responses_total") >= kStalledStreams; },
                         std::chrono::seconds(15)))
      << metrics().dump();
  // The client was told: each stream got RST_STREAM CANCEL (read once the
  // script goes on, up to the ACK of its PING).
  ASSERT_EQ(stalled->stop(SIGUSR1, std::chrono::seconds(20)), 0) << stalled->output();
  const std::string out = stalled->output();
  std::size_t resets = 0;
  for (std::size_t at = out.find("\"RST_STREAM\""); at != std::string::npos;
       at = out.find("\"RST_STREAM\"", at + 1)) {
    ++resets;
  }
  EXPECT_EQ(resets, static_cast<std::size_t>(kStalledStreams)) << out.substr(0, 2000);
  EXPECT_NE(out.find("CANCEL"), std::string::npos) << out.substr(0, 2000);
  // Nothing is held for them any more, and the gateway serves on.
  EXPECT_EQ(counter("regiongate_streams_open"), 0);
  EXPECT_GT(download(), 0);
}

}  // namespace
}  // namespace regiongate::testing
