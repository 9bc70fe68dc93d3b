// Floods one client sends to tie up a worker, each met with GOAWAY
// (ENHANCE_YOUR_CALM), counted by reason in
// regiongate_client_connection_errors_total, while a well-behaved client
// on another connection is served across it (h2_frames.h's Witness).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
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
  // A GET on `stream` whose header block decodes to 12 MB from 7 kB: 3,000
  // references to a 4,000-byte entry of the dynamic table.
  // `name`: the bomb's header, which the gateway may forward, keep for
  // itself (host) or drop (x-regiongate-*).
  static nlohmann::json hpack_bomb(int stream, const std::string& name = "x-bomb",
                                   int refs = 3000) {
    nlohmann::json bomb = get_step(stream);
    bomb["hpack_bomb"] = bomb["headers"];
    bomb.erase("headers");
    bomb["name"] = name;
    bomb["size"] = 4000;
    bomb["refs"] = refs;
    return bomb;
  }
  double errors(const std::string& reason) {
    return metric_value(metrics(), "regiongate_client_connection_errors_total",
                        {{"reason", reason}});
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
  std::unique_ptr<BackgroundProcess> slow =
      start_frames(port_, then(preface_steps(), {open_block, {{"pause", true}}}), "close", dir_);
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

// A HEADERS frame over max_concurrent_streams, sent before the client has
// acknowledged the gateway's SETTINGS, is refused (RST_STREAM
// REFUSED_STREAM) and its block decoded unseen: nghttp2 then reports no
// end of it. With END_HEADERS the block ends with that frame, so a client
// that sends one and then stays quiet past request_headers is not a slow
// header: its connection stays.
TEST_F(FloodTest, ARefusedCompleteHeaderBlockIsNotASlowHeader) {
  ASSERT_NO_FATAL_FAILURE(
      start("  http2: {max_concurrent_streams: 1}\n  timeouts: {request_headers: 1s}\n"));
  // Stream 1 stays open (an upload not ended); stream 3 is one too many.
  // Nothing is read before the pause: reading would acknowledge the
  // SETTINGS, a frame that ends any block.
  std::unique_ptr<BackgroundProcess> client = start_frames(
      port_,
      then(preface_steps(), {get_step(1, "/shop/cart", false), get_step(3), {{"pause", true}}}),
      "ping-ack", dir_);
  ASSERT_TRUE(client->wait_for(std::regex("paused"))) << client->output();
  // Twice request_headers of quiet: no slow-headers close meanwhile.
  EXPECT_FALSE(wait_until([&] { return errors("slow-headers") > 0; }, std::chrono::seconds(2)));
  ASSERT_EQ(client->stop(SIGUSR1, std::chrono::seconds(15)), 0) << client->output();
  const nlohmann::json r = last_json_line(client->output());
  const nlohmann::json* refused = find_frame(r, "RST_STREAM", 3);
  ASSERT_TRUE(refused) << r.dump().substr(0, 2000);
  EXPECT_EQ((*refused)["error"], "REFUSED_STREAM") << refused->dump();
  EXPECT_FALSE(find_frame(r, "GOAWAY")) << r.dump().substr(0, 2000);
  EXPECT_EQ(r["end"], "ping-ack") << r.dump().substr(0, 2000);
}

// Frames that do no work, each kind sent alone past http2.control_burst
// (here 100, 10 a second): the connection goes, counted by the kind.
TEST_F(FloodTest, EachControlFrameFloodClosesTheConnection) {
  ASSERT_NO_FATAL_FAILURE(start("  http2: {control_burst: 100, control_rate: 10}\n"));
  Witness witness(port_, dir_);
  ASSERT_TRUE(witness.started()) << witness.output();
  const nlohmann::json open_upload = get_step(1, "/shop/cart", false);
  const struct {
    std::string reason;
    nlohmann::json before, frame;
  } floods[] = {
      {"ping-flood", {}, {{"ping", "abcdefgh"}}},
      {"settings-flood", {}, {{"settings", nlohmann::json::array()}}},
      {"priority-flood", {}, {{"priority", 0}, {"stream", 3}}},
      {"window-update-flood", {}, {{"window_update", 1}, {"stream", 0}}},
      {"empty-data-flood", open_upload, {{"data", ""}, {"stream", 1}}},
  };
  for (const auto& flood : floods) {
    SCOPED_TRACE(flood.reason);
    nlohmann::json steps = preface_steps();
    if (!flood.before.is_null()) steps.push_back(flood.before);
    steps.push_back({{"repeat", flood.frame}, {"times", 400}});
    nlohmann::json r = run_frames(port_, steps, "close", dir_);
    const nlohmann::json* goaway = find_frame(r, "GOAWAY");
    ASSERT_TRUE(goaway) << r.dump().substr(0, 2000);
    EXPECT_EQ((*goaway)["error"], "ENHANCE_YOUR_CALM") << goaway->dump();
    EXPECT_EQ(errors(flood.reason), 1);
  }
  witness.expect_still_served();
}

// Some of every kind, under the burst all together: served.
TEST_F(FloodTest, ControlFramesWithinTheBudgetAreServed) {
  ASSERT_NO_FATAL_FAILURE(start("  http2: {control_burst: 100, control_rate: 10}\n"));
  nlohmann::json steps = then(preface_steps(), {get_step(1, "/shop/cart", false)});
  for (const nlohmann::json& frame :
       {nlohmann::json{{"ping", "abcdefgh"}}, nlohmann::json{{"settings", nlohmann::json::array()}},
        nlohmann::json{{"priority", 0}, {"stream", 3}},
        nlohmann::json{{"window_update", 1}, {"stream", 0}},
        nlohmann::json{{"data", ""}, {"stream", 1}}}) {
    steps.push_back({{"repeat", frame}, {"times", 15}});
  }
  nlohmann::json r = run_frames(port_, steps, "ping-ack", dir_);
  EXPECT_FALSE(find_frame(r, "GOAWAY")) << r.dump().substr(0, 2000);
  EXPECT_EQ(r["end"], "ping-ack") << r.dump().substr(0, 2000);
}

// A download through small windows makes the client send a WINDOW_UPDATE
// for every few frames, hundreds of them: each earned by the DATA sent, so
// none is taken from a control budget of 10.
TEST_F(FloodTest, WindowUpdatesEarnedByADownloadAreServed) {
  std::filesystem::path big = docroot() / "cloud" / "8m";
  std::ofstream(big).close();
  std::filesystem::resize_file(big, 8 << 20);
  ASSERT_NO_FATAL_FAILURE(start("  http2: {control_burst: 10, control_rate: 1}\n"));
  // -w/-W 16: 64 KiB windows, a WINDOW_UPDATE each half of one (about 500).
  ProcessResult got = run_process(
      {"/usr/bin/nghttp", "-n", "-s", "-w", "16", "-W", "16", "-H", ":authority: api.example.com",
       "-H", "x-account-id: in-asha", base_ + "/cloud/8m"},
      30);
  EXPECT_EQ(got.exit_code, 0) << got.out << got.err;
  EXPECT_NE(got.out.find("8M"), std::string::npos) << got.out;  // nghttp -s: the size received
  EXPECT_EQ(errors("window-update-flood"), 0);
}

// HPACK bombs: a few bytes of references to a big dynamic-table entry that
// decode to megabytes. nghttp2 would decode the rest of each block after
// the header limits reset its stream (a client sending them kept a worker
// at 97%): a block past the limits that uses one entry twice closes the
// connection at once, its decoding stopped.
TEST_F(FloodTest, AnHpackBombClosesTheConnectionAtOnce) {
  ASSERT_NO_FATAL_FAILURE(start());
  Witness witness(port_, dir_);
  ASSERT_TRUE(witness.started()) << witness.output();
  nlohmann::json steps = preface_steps();
  for (int i = 0; i < 100; ++i) steps.push_back(hpack_bomb(2 * i + 1));
  nlohmann::json r = run_frames(port_, steps, "close", dir_);
  const nlohmann::json* goaway = find_frame(r, "GOAWAY");
  ASSERT_TRUE(goaway) << r.dump().substr(0, 2000);
  EXPECT_EQ((*goaway)["error"], "ENHANCE_YOUR_CALM") << goaway->dump();
  EXPECT_LE((*goaway)["last_stream"].get<int>(), 1) << goaway->dump();
  EXPECT_EQ(errors("hpack-bomb"), 1);
  witness.expect_still_served();
}

// Whatever the gateway does with the bomb's header, forward it, keep it
// for the decision, or drop it, the block is counted to its end: the
// connection goes at once, not a stream reset at a time.
TEST_F(FloodTest, AnHpackBombOfAHeaderNotForwardedClosesTheConnectionToo) {
  ASSERT_NO_FATAL_FAILURE(start());
  double bombs = 0;
  for (const std::string name : {"x-regiongate-country", "x-forwarded-for", "cookie"}) {
    for (int refs : {3000, 200}) {  // past the field count; past the size alone
      SCOPED_TRACE(name + " x" + std::to_string(refs));
      nlohmann::json steps = preface_steps();
      for (int i = 0; i < 5; ++i) steps.push_back(hpack_bomb(2 * i + 1, name, refs));
      nlohmann::json r = run_frames(port_, steps, "close", dir_);
      const nlohmann::json* goaway = find_frame(r, "GOAWAY");
      ASSERT_TRUE(goaway) << r.dump().substr(0, 2000);
      EXPECT_EQ((*goaway)["error"], "ENHANCE_YOUR_CALM") << goaway->dump();
      EXPECT_LE((*goaway)["last_stream"].get<int>(), 1) << goaway->dump();
      EXPECT_FALSE(find_frame(r, "HEADERS", 1)) << r.dump().substr(0, 2000);
      EXPECT_EQ(errors("hpack-bomb"), ++bombs);
    }
  }
}

// A bomb that nghttp2 itself finds malformed at its first reference (a
// second host, a pseudo-header after the others) has its stream reset
// there, and the rest of the block decoded unseen: its bytes pay the reset
// budget (a token a KiB; here about 8 a bomb), so the connection goes after
// about 25, not 200.
TEST_F(FloodTest, AnHpackBombNghttp2FindsMalformedSpendsTheBudgetByItsSize) {
  ASSERT_NO_FATAL_FAILURE(start());
  double closed = 0;
  for (const std::string name : {"host", ":path"}) {
    SCOPED_TRACE(name);
    nlohmann::json steps = preface_steps();
    for (int i = 0; i < 60; ++i) steps.push_back(hpack_bomb(2 * i + 1, name));
    nlohmann::json r = run_frames(port_, steps, "close", dir_);
    const nlohmann::json* goaway = find_frame(r, "GOAWAY");
    ASSERT_TRUE(goaway) << r.dump().substr(0, 2000);
    EXPECT_EQ((*goaway)["error"], "ENHANCE_YOUR_CALM") << goaway->dump();
    EXPECT_LT((*goaway)["last_stream"].get<int>(), 2 * 30) << goaway->dump();
    EXPECT_TRUE(find_frame(r, "RST_STREAM", 1)) << r.dump().substr(0, 2000);
    EXPECT_EQ(errors("stream-errors"), ++closed);
  }
}

// A header list that is merely too large (a big cookie, every field new)
// costs its stream only (431, with the reason), and spends the reset budget ten tokens a stream:
// past http2.reset_burst (here 200) the connection goes.
TEST_F(FloodTest, LargeHeaderListsAreRefusedThenSpendTheBudget) {
  ASSERT_NO_FATAL_FAILURE(start("  http2: {max_header_list_size: 4096, reset_burst: 200, reset_rate: 1}\n"));
  auto large = [](int stream) {
    nlohmann::json get = get_step(stream);
    get["headers"].push_back({"cookie", std::string(5000, 'c')});
    return get;
  };
  nlohmann::json few = preface_steps();
  for (int i = 0; i < 5; ++i) few.push_back(large(2 * i + 1));
  few.push_back(get_step(11));
  few.push_back({{"wait_for", {{"type", "HEADERS"}, {"stream", 11}}}});
  nlohmann::json r = run_frames(port_, few, "ping-ack", dir_);
  for (int i = 0; i < 5; ++i) {
    const nlohmann::json* refused = find_frame(r, "HEADERS", 2 * i + 1);
    ASSERT_TRUE(refused) << i << r.dump().substr(0, 2000);
    EXPECT_EQ((*refused)["headers"][":status"], "431") << refused->dump();
    EXPECT_EQ((*refused)["headers"]["x-regiongate-reason"], "request-headers-too-large");
  }
  EXPECT_FALSE(find_frame(r, "GOAWAY")) << r.dump().substr(0, 2000);
  EXPECT_EQ(r["end"], "ping-ack") << r.dump().substr(0, 2000);

  nlohmann::json many = preface_steps();
  for (int i = 0; i < 30; ++i) many.push_back(large(2 * i + 1));
  r = run_frames(port_, many, "close", dir_);
  const nlohmann::json* goaway = find_frame(r, "GOAWAY");
  ASSERT_TRUE(goaway) << r.dump().substr(0, 2000);
  EXPECT_EQ((*goaway)["error"], "ENHANCE_YOUR_CALM") << goaway->dump();
  EXPECT_EQ(errors("stream-errors"), 1);
  EXPECT_EQ(errors("hpack-bomb"), 0);
}

// Trailers past the size come when the request is forwarded already: the
// stream is cancelled, alone, and the connection goes on.
TEST_F(FloodTest, TrailersPastTheLimitCancelTheirStreamAlone) {
  ASSERT_NO_FATAL_FAILURE(start("  http2: {max_header_list_size: 4096}\n"));
  nlohmann::json steps = preface_steps();
  steps.push_back(get_step(1, "/shop/upload", false));
  steps.push_back({{"data", "ab"}, {"stream", 1}});
  nlohmann::json trailer = nlohmann::json::array({nlohmann::json::array({"x-sum", std::string(5000, 's')})});
  steps.push_back({{"headers", trailer},
                   {"stream", 1},
                   {"end_stream", true}});
  steps.push_back(get_step(3));
  steps.push_back({{"wait_for", {{"type", "HEADERS"}, {"stream", 3}}}});
  nlohmann::json r = run_frames(port_, steps, "ping-ack", dir_);
  const nlohmann::json* reset = find_frame(r, "RST_STREAM", 1);
  ASSERT_TRUE(reset) << r.dump().substr(0, 2000);
  EXPECT_EQ((*reset)["error"], "CANCEL") << reset->dump();
  const nlohmann::json* served = find_frame(r, "HEADERS", 3);
  ASSERT_TRUE(served) << r.dump().substr(0, 2000);
  EXPECT_EQ((*served)["headers"][":status"], "200") << served->dump();
  EXPECT_FALSE(find_frame(r, "GOAWAY")) << r.dump().substr(0, 2000);
  EXPECT_EQ(r["end"], "ping-ack") << r.dump().substr(0, 2000);
  EXPECT_EQ(metric_value(metrics(), "regiongate_header_limit_resets_total"), 1);
}

// Malformed requests (nghttp2's own stream errors) count the same way.
TEST_F(FloodTest, MalformedRequestsPastTheResetBudgetCloseTheConnection) {
  ASSERT_NO_FATAL_FAILURE(start("  http2: {reset_burst: 20, reset_rate: 1}\n"));
  nlohmann::json steps = preface_steps();
  for (int i = 0; i < 60; ++i) {
    nlohmann::json bad = get_step(2 * i + 1);
    bad["headers"].push_back({"X-Upper-Case", "1"});  // RFC 9113 8.2: a malformed request
    steps.push_back(bad);
  }
  nlohmann::json r = run_frames(port_, steps, "close", dir_);
  const nlohmann::json* goaway = find_frame(r, "GOAWAY");
  ASSERT_TRUE(goaway) << r.dump().substr(0, 2000);
  EXPECT_EQ((*goaway)["error"], "ENHANCE_YOUR_CALM") << goaway->dump();
  EXPECT_EQ(errors("stream-errors"), 1);
}

}  // namespace
}  // namespace regiongate::testing
