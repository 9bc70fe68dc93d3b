// The proxied request's state machine (proxy/client/proxied_request.h),
// from outside: a client reset in each state a reset can reach today
// leaves no origin stream open, one clean access-log line, and a gateway
// that stops cleanly (under ASan+UBSan, that is also "nothing leaked": a
// leak makes the exit status non-zero).
//
// kResolving and kDeciding complete within the call that enters them (every
// country source answers at once today), so a reset cannot arrive during
// them; kReceivingHeaders ends with the header block, before any reset can.

#include <gtest/gtest.h>

#include <signal.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/python_peers.h"

namespace regiongate::testing {
namespace {

class RequestStateTest : public GatewayFixture {
 protected:
  // Singapore's origin (the one the example sends Indian shop data to on
  // 2015-01-15); the other data centres stay dead.
  void start_singapore(const std::string& extra = "") {
    start_normalising_origin("singapore", extra);
  }
  void start(const std::string& extra_server = "") {
    ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z", extra_server, log_path()));
  }
  std::string log_path() const { return (dir_ / "access.log").string(); }
  nlohmann::json send(const std::vector<Request>& requests, const std::string& flag = "") {
    return send_requests(base_.substr(base_.rfind(':') + 1), requests, dir_, flag);
  }
  // A cached origin connection: later requests go straight to kForwarding.
  void warm_up() {
    nlohmann::json r = send({get_request("/shop/cart", "in-asha")});
    ASSERT_EQ(r.size(), 1u);
    ASSERT_EQ(r[0]["status"], 200) << r[0].dump();
  }
  // How many streams the origin saw reset with CANCEL.
  int origin_cancels() {
    std::string log = origin_log("singapore");
    int n = 0;
    for (std::size_t at = log.find(" CANCEL\n"); at != std::string::npos;
         at = log.find(" CANCEL\n", at + 1)) {
      ++n;
    }
    return n;
  }
  // Stops the gateway (flushing the log); its exit status says it stopped
  // cleanly (and, under ASan, leaked nothing).
  std::vector<nlohmann::json> stop_and_read_log() {
    EXPECT_EQ(gateway_->stop(SIGTERM), 0) << gateway_->output();
    std::ifstream in(log_path());
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }
  Request reset(Headers headers, const std::string& when, const std::string& body = "") {
    Request r(std::move(headers));
    r.reset = when;
    r.body = body;
    return r;
  }
};

// kConnecting: the data centre accepts TCP but its HTTP/2 never comes up, so
// the request waits on the connection. The reset takes it off; nothing of it
// was ever sent.
TEST_F(RequestStateTest, AResetWhileConnectingSendsNothing) {
  ASSERT_NO_FATAL_FAILURE(start_singapore("--silent"));
  ASSERT_NO_FATAL_FAILURE(start("  timeouts:\n    connect: 30s\n"));
  nlohmann::json r = send({reset(get_request("/shop/cart", "in-asha"), "at-once")});
  ASSERT_EQ(r.size(), 1u);
  ASSERT_TRUE(origins_["singapore"]->wait_for(std::regex("accepted"))) << origin_log("singapore");
  std::vector<nlohmann::json> lines = stop_and_read_log();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["outcome"], "reset") << lines[0].dump();
  EXPECT_EQ(lines[0]["status"], 0);
  EXPECT_EQ(lines[0]["service"], "shop");
  EXPECT_EQ(lines[0]["datacenter"], "singapore");  // it was waiting there
  EXPECT_TRUE(origin_requests(origin_log("singapore")).empty()) << origin_log("singapore");
}

// kForwarding, before the response: the origin has (or is about to have)
// the request and never answers. After the reset the origin holds no stream:
// every request it saw was cancelled.
TEST_F(RequestStateTest, AResetBeforeTheResponseCancelsTheOriginStream) {
  ASSERT_NO_FATAL_FAILURE(start_singapore());
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_NO_FATAL_FAILURE(warm_up());
  nlohmann::json r = send({reset(get_request("/shop/hang/1", "in-asha"), "at-once")});
  ASSERT_EQ(r.size(), 1u);
  // A request the gateway forwards and then cancels ends in "reset ... CANCEL".
  nlohmann::json after = send({get_request("/shop/cart", "in-asha")});
  ASSERT_EQ(after[0]["status"], 200);  // the origin connection is still good
  std::vector<nlohmann::json> lines = stop_and_read_log();
  std::size_t hung = 0;
  for (const nlohmann::json& seen : origin_requests(origin_log("singapore"))) {
    hung += seen["path"] == "/shop/hang/1";
  }
  // Either the cancel overtook the request inside the gateway (the origin
  // saw neither), or the origin saw the request and then its cancel.
  if (hung > 0) {
    ASSERT_TRUE(origins_["singapore"]->wait_for(std::regex(R"(reset \d+ CANCEL)")))
        << origin_log("singapore");
  }
  EXPECT_EQ(static_cast<int>(hung), origin_cancels()) << origin_log("singapore");
  ASSERT_EQ(lines.size(), 3u);
  std::size_t resets = 0;
  for (const nlohmann::json& line : lines) {
    if (line["outcome"] == "reset") {
      ++resets;
      EXPECT_EQ(line["status"], 0);
      EXPECT_EQ(line["datacenter"], "singapore");
    } else {
      EXPECT_EQ(line["outcome"], "complete");
      EXPECT_EQ(line["status"], 200);
    }
  }
  EXPECT_EQ(resets, 1u);
}

// kForwarding, mid-response: the phone has the headers and gives up on the
// body. The origin stream is cancelled.
TEST_F(RequestStateTest, AResetMidResponseCancelsTheOriginStream) {
  ASSERT_NO_FATAL_FAILURE(start_singapore());
  ASSERT_NO_FATAL_FAILURE(start());
  nlohmann::json r =
      send({reset(get_request("/shop/slow/download", "in-asha"), "after-response-headers")});
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["status"], 200);
  ASSERT_TRUE(origins_["singapore"]->wait_for(std::regex(R"(reset \d+ CANCEL)")))
      << origin_log("singapore");
  std::vector<nlohmann::json> lines = stop_and_read_log();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["outcome"], "reset");
  EXPECT_EQ(lines[0]["status"], 200);
  EXPECT_EQ(origin_cancels(), 1);
}

// kForwarding, mid-upload: the request body has begun and the client resets.
// The origin never gets a complete request, and its stream is cancelled if
// it had one.
TEST_F(RequestStateTest, AResetMidUploadCancelsTheOriginStream) {
  ASSERT_NO_FATAL_FAILURE(start_singapore());
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_NO_FATAL_FAILURE(warm_up());
  Headers post = get_request("/shop/upload", "in-asha");
  post[0].second = "POST";
  nlohmann::json r = send({reset(post, "at-once", std::string(1000, 'x'))});
  ASSERT_EQ(r.size(), 1u);
  nlohmann::json after = send({get_request("/shop/cart", "in-asha")});
  ASSERT_EQ(after[0]["status"], 200);
  std::vector<nlohmann::json> lines = stop_and_read_log();
  for (const nlohmann::json& seen : origin_requests(origin_log("singapore"))) {
    EXPECT_NE(seen["path"], "/shop/upload");  // never complete at the origin
  }
  ASSERT_EQ(lines.size(), 3u);
  std::size_t resets = 0;
  for (const nlohmann::json& line : lines) {
    if (line["outcome"] != "reset") continue;
    ++resets;
    EXPECT_EQ(line["status"], 0);
    EXPECT_LE(line["bytes_in"].get<int>(), 1000);
  }
  EXPECT_EQ(resets, 1u);
}

// kResponding: the gateway answers itself (451: nobody knows the account's
// country) and the client resets. Nothing reaches a data centre; the line
// has the status the gateway chose and its reason.
TEST_F(RequestStateTest, AResetWhileTheGatewayAnswersIsLoggedWithItsAnswer) {
  ASSERT_NO_FATAL_FAILURE(start_singapore());
  ASSERT_NO_FATAL_FAILURE(start());
  nlohmann::json r = send({reset(get_request("/shop/cart", "nobody"), "at-once")});
  ASSERT_EQ(r.size(), 1u);
  std::vector<nlohmann::json> lines = stop_and_read_log();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["status"], 451);
  EXPECT_EQ(lines[0]["reason"], "unknown-account-country");
  EXPECT_TRUE(lines[0]["outcome"] == "reset" || lines[0]["outcome"] == "complete") << lines[0];
  EXPECT_TRUE(origin_requests(origin_log("singapore")).empty());
}

}  // namespace
}  // namespace regiongate::testing
