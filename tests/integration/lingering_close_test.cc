// The gateway's last frames reach a client that is still sending. When the
// gateway ends a connection (a GOAWAY for a protocol error here) while the
// client's bytes are still coming, closing the socket with them unread
// makes the kernel send a RST, which throws away whatever the gateway had
// written and the client had not received yet: the GOAWAY. The gateway
// closes gracefully instead (flush, TLS close_notify, FIN, then reads and
// drops for a bounded time: a lingering close). Over cleartext and TLS,
// many times over, with raw frames (tests/integration/h2_frames.py).

#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/h2_frames.h"
#include "tests/integration/test_certs.h"

namespace regiongate::testing {
namespace {

constexpr const char* kInstant = "2015-01-15T00:00:00Z";

class LingeringCloseTest : public GatewayFixture {
 protected:
  // The gateway survived it all and stops cleanly (exit 0: in the
  // sanitizer build, no error or leak either).
  void TearDown() override {
    if (gateway_) {
      EXPECT_EQ(gateway_->stop(SIGTERM), 0) << gateway_->output();
    }
    GatewayFixture::TearDown();
  }
  void SetUp() override {
    GatewayFixture::SetUp();
    certs_ = std::make_unique<TestCertificates>(dir_ / "certs");
    api_ = certs_->issue("api", {"api.example.com"});
  }
  // The gateway with a cleartext and a TLS listener; `extra`: more of the server section.
  void start(const std::string& extra = "") {
    ASSERT_NO_FATAL_FAILURE(start_gateway(
        kInstant, "    - address: 127.0.0.1:0\n      tls:\n        certificates:\n"
                  "          - {cert: " + api_.cert + ", key: " + api_.key + "}\n" + extra));
    auto port = gateway_->wait_for(std::regex(R"(listening on tls 127\.0\.0\.1:(\d+))"));
    ASSERT_TRUE(port) << gateway_->output();
    tls_port_ = *port;
    port_ = base_.substr(base_.rfind(':') + 1);
  }
  // Runs `steps` over cleartext or TLS, then reads until the gateway
  // closes, sending a PING after each read (a client that keeps talking).
  nlohmann::json run(const nlohmann::json& steps, bool tls,
                     nlohmann::json options = nlohmann::json::object()) {
    options["send_while_reading"] = true;
    return run_frames(tls ? tls_port_ : port_, steps, "close", dir_,
                      tls ? std::vector<std::string>{certs_->ca(), "api.example.com"}
                          : std::vector<std::string>{},
                      options);
  }

  std::unique_ptr<TestCertificates> certs_;
  TestCertificate api_;
  std::string port_, tls_port_;
};

// DATA on stream 0: a connection error (RFC 9113 6.1), PROTOCOL_ERROR.
const nlohmann::json kDataOnStreamZero = {{"frame", {{"type", 0}, {"stream", 0}, {"payload", "616263"}}}};

// The GOAWAY came, with its code, and then the gateway's FIN (not a reset).
void expect_goaway_then_fin(const nlohmann::json& r, const std::string& what) {
  const nlohmann::json* goaway = find_frame(r, "GOAWAY");
  ASSERT_TRUE(goaway) << what << ": " << r.dump().substr(0, 2000);
  EXPECT_EQ((*goaway)["error"], "PROTOCOL_ERROR") << what << ": " << r.dump().substr(0, 2000);
  EXPECT_EQ(r["end"], "closed") << what << ": " << r.dump().substr(0, 2000);
}

TEST_F(LingeringCloseTest, AGoawayReachesAClientThatKeepsSendingAfterItsError) {
  ASSERT_NO_FATAL_FAILURE(start());
  nlohmann::json steps = then(preface_steps(), {kDataOnStreamZero, {{"flood", 256 * 1024}}});
  int runs = 0;
  for (bool tls : {false, true}) {
    for (int i = 0; i < 25; ++i, ++runs) {
      nlohmann::json r = run(steps, tls);
      ASSERT_NO_FATAL_FAILURE(expect_goaway_then_fin(
          r, std::string(tls ? "TLS" : "cleartext") + " run " + std::to_string(i)));
    }
  }
  nlohmann::json m = metrics();
  EXPECT_EQ(metric_value(m, "regiongate_lingering_closes_total"), runs) << m.dump();
}

// The GOAWAY behind a response the client is slow to read: with its receive
// buffer full (a small SO_RCVBUF, a large HTTP/2 window, a big download),
// what the gateway writes waits in its own socket, undelivered, which is
// what a RST throws away. The client then reads everything, talking all the
// while; the GOAWAY comes after the DATA that was ahead of it.
TEST_F(LingeringCloseTest, AGoawayQueuedBehindDataTheClientIsSlowToReadStillArrives) {
  start_origin("singapore");
  {
    std::filesystem::path big = docroot() / "cloud" / "big";
    std::ofstream(big).close();
    std::filesystem::resize_file(big, 64 << 20);
  }
  ASSERT_NO_FATAL_FAILURE(start());
  nlohmann::json steps = then(
      preface_steps(),
      {{{"settings", {{4, 0x7fffffff}}}},  // SETTINGS_INITIAL_WINDOW_SIZE: as large as can be
       {{"window_update", 0x7fffffff - 65535}, {"stream", 0}},
       get_step(1, "/cloud/big"),
       {{"wait_for", {{"type", "HEADERS"}, {"stream", 1}}}},
       {{"fill", 16384}},  // and no more coming
       kDataOnStreamZero,
       {{"flood", 16 * 1024}}});
  for (bool tls : {false, true}) {
    for (int i = 0; i < 5; ++i) {
      nlohmann::json r = run(steps, tls, {{"rcvbuf", 65536}});
      ASSERT_NO_FATAL_FAILURE(expect_goaway_then_fin(
          r, std::string(tls ? "TLS" : "cleartext") + " run " + std::to_string(i)));
      EXPECT_TRUE(find_frame(r, "DATA", 1)) << r.dump().substr(0, 2000);
    }
  }
}

// A client that neither closes nor stops sending is not waited for beyond
// the bounds: timeouts.linger after the GOAWAY, or timeouts.linger_bytes of
// what it sends meanwhile, whichever comes first. Each is counted.
TEST_F(LingeringCloseTest, ALingeringCloseEndsAtItsTimeAndItsByteBound) {
  ASSERT_NO_FATAL_FAILURE(start("  timeouts: {linger: 300ms, linger_bytes: 65536}\n"));
  for (bool tls : {false, true}) {
    // It reads the GOAWAY and the FIN, and goes on sending (a PING every 20 ms) without closing.
    nlohmann::json r = run(then(preface_steps(), {kDataOnStreamZero}), tls,
                           {{"after_fin", "send-until-reset"}});
    ASSERT_NO_FATAL_FAILURE(expect_goaway_then_fin(r, tls ? "TLS" : "cleartext"));
    ASSERT_TRUE(r["reset_after"].is_number()) << r.dump();
    EXPECT_GT(r["reset_after"].get<double>(), 0.2) << r.dump();  // lingered: 0.3 s
    EXPECT_LT(r["reset_after"].get<double>(), 3.0) << r.dump();  // and no longer
    // It sends 1 MiB after its error, past linger_bytes: closed then (the
    // RST may cut what it had not read; the bound is the operator's choice).
    r = run(then(preface_steps(), {kDataOnStreamZero, {{"flood", 1 << 20}}}), tls);
    EXPECT_TRUE(r["end"] == "closed" || r["end"] == "reset") << r.dump();
  }
  nlohmann::json m = metrics();
  EXPECT_EQ(metric_value(m, "regiongate_lingering_closes_total", {{"end", "timeout"}}), 2) << m.dump();
  EXPECT_EQ(metric_value(m, "regiongate_lingering_closes_total", {{"end", "bytes"}}), 2) << m.dump();
}

}  // namespace
}  // namespace regiongate::testing
