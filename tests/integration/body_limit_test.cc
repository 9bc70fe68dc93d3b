// requests.max_body: a request body past its service's limit gets 413
// (request-body-too-large) and reaches no data centre, whether the client
// declared its length or streams without one; a service with a limit of its
// own (max_body_by_service) takes more. The client is asked to stop
// sending (RST_STREAM NO_ERROR after the whole answer).
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/h2_frames.h"
#include "tests/integration/text_file.h"

namespace regiongate::testing {
namespace {

class BodyLimitTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    edit_text(dir_ / "regiongate.yaml", "doubled_slashes: merge",
              "doubled_slashes: merge\n  max_body: 1000\n  max_body_by_service: {cloud: 100000}");
    write_text(dir_ / "1000", std::string(1000, 'a'));
    write_text(dir_ / "1001", std::string(1001, 'a'));
    write_text(dir_ / "50000", std::string(50000, 'a'));
  }
  // POSTs the file `body` (its length declared) to `path`: "STATUS REASON"
  // (or the curl failure).
  std::string post(const std::string& path, const std::string& body) {
    std::string data = "@";
    data += (dir_ / body).string();
    std::vector<std::string> args = {"-o",
                                     "/dev/null",
                                     "-w",
                                     "%{http_code} %header{x-regiongate-reason}",
                                     "-H",
                                     "host: api.example.com",
                                     "-H",
                                     "x-account-id: in-asha",
                                     "--data-binary",
                                     data};
    ProcessResult r = curl(args, path);
    if (r.exit_code == 0) return r.out;
    std::string failed = "curl ";
    failed += std::to_string(r.exit_code);
    return failed + ": " + r.err;
  }
};

TEST_F(BodyLimitTest, ABodyPastItsServicesLimitIs413AndGoesNowhere) {
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  EXPECT_EQ(post("/shop/cart", "1000"), "200 ") << "at the limit: served";
  EXPECT_EQ(post("/shop/cart", "1001"), "413 request-body-too-large");
  // The cloud service takes up to 100,000 bytes.
  EXPECT_EQ(post("/cloud/photos", "50000").substr(0, 3), "404")
      << "past the limit check: the origin's";
  EXPECT_EQ(requests_seen_by("singapore"), 2);
  EXPECT_EQ(metric_value(metrics(), "regiongate_request_body_limit_total"), 1);
}

TEST_F(BodyLimitTest, AnUndeclaredLengthIsCountedAsItComes) {
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  // 64 KiB from stdin, no content-length: refused once 1,000 bytes are past.
  ProcessResult r =
      run_process({"/bin/sh", "-c",
                   "head -c 65536 /dev/zero | /usr/bin/curl -s -o /dev/null -w '%{http_code} "
                   "%header{x-regiongate-reason}' --http2-prior-knowledge -T - -X POST "
                   "-H 'host: api.example.com' -H 'x-account-id: in-asha' " +
                       base_ + "/shop/cart"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "413 request-body-too-large") << r.err;
  // Forwarded once decided (nothing said how long it would be), the origin
  // may have seen its start: its stream was cancelled at the 1,001st byte.
  EXPECT_LE(requests_seen_by("singapore"), 1);
  EXPECT_EQ(metric_value(metrics(), "regiongate_request_body_limit_total"), 1);
}

// A client that goes on sending after its 413, a whole stream window more,
// is asked to stop: RST_STREAM NO_ERROR, the connection kept.
TEST_F(BodyLimitTest, AClientThatSendsOnAfterIts413IsAskedToStop) {
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(
      start_gateway("2015-01-15T00:00:00Z", "  http2: {initial_window_size: 65536}\n"));
  nlohmann::json post = get_step(1, "/shop/cart", false);
  post["headers"][0][1] = "POST";
  nlohmann::json steps =
      then(preface_steps(),
           {post,
            {{"data", std::string(2000, 'x')}, {"stream", 1}},
            {{"wait_for", {{"type", "HEADERS"}, {"stream", 1}}}},
            {{"repeat", {{"data", std::string(16384, 'x')}, {"stream", 1}}}, {"times", 8}}});
  nlohmann::json r = run_frames(base_.substr(base_.rfind(':') + 1), steps, "ping-ack", dir_);
  const nlohmann::json* answer = find_frame(r, "HEADERS", 1);
  ASSERT_TRUE(answer) << r.dump().substr(0, 2000);
  EXPECT_EQ((*answer)["headers"][":status"], "413");
  const nlohmann::json* reset = find_frame(r, "RST_STREAM", 1);
  ASSERT_TRUE(reset) << r.dump().substr(0, 2000);
  EXPECT_EQ((*reset)["error"], "NO_ERROR");
  EXPECT_EQ(r["end"], "ping-ack") << r.dump().substr(0, 2000);
}

}  // namespace
}  // namespace regiongate::testing
