// RFC 9113 on the client side, frame by frame: what the gateway answers to
// a client that breaks the protocol (a stream error, RST_STREAM, or a
// connection error, GOAWAY), and that another connection, open meanwhile,
// is served on as if nothing happened. The frames are raw
// (tests/integration/h2_frames.py): no client library would send them.
// docs/rfc9113.md lists each point and who handles it (nghttp2 or the
// gateway).

#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <regex>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/h2_frames.h"

namespace regiongate::testing {
namespace {

constexpr const char* kInstant = "2015-01-15T00:00:00Z";

class Rfc9113Test : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
    ASSERT_NO_FATAL_FAILURE(start_gateway(kInstant));
    port_ = base_.substr(base_.rfind(':') + 1);
  }
  nlohmann::json frames(const nlohmann::json& steps, const std::string& read = "close") {
    return run_frames(port_, steps, read, dir_);
  }
  std::string port_;
};

TEST_F(Rfc9113Test, FirstBytesThatAreNeitherThePrefaceNorHttp1GetGoawayProtocolError) {
  Witness witness(port_, dir_);
  ASSERT_TRUE(witness.started()) << witness.output();
  const char* not_http2[] = {
      "16030100c8010000c40303",                      // a TLS ClientHello on the cleartext port
      "000000040000000000",                          // SETTINGS without the preface
      "505249202a20485454502f322e300d0a0d0a58580d0a0d0a",  // PRI * HTTP/2.0 ... XX: a broken preface
      "474554202f20485454502f322e300d0a0d0a",        // GET / HTTP/2.0: not an HTTP/1.x line
  };
  for (const char* hex : not_http2) {
    nlohmann::json r = frames(nlohmann::json::array({nlohmann::json{{"hex", hex}}}));
    ASSERT_GE(r["frames"].size(), 2u) << hex << r.dump();
    // The server preface first (RFC 9113 3.4: SETTINGS is the first frame), then the GOAWAY.
    EXPECT_EQ(r["frames"][0]["type"], "SETTINGS") << hex << r.dump();
    const nlohmann::json* goaway = find_frame(r, "GOAWAY");
    ASSERT_TRUE(goaway) << hex << r.dump();
    EXPECT_EQ((*goaway)["error"], "PROTOCOL_ERROR") << r.dump();
    EXPECT_EQ((*goaway)["last_stream"], 0) << r.dump();
    EXPECT_EQ(r["end"], "closed") << hex << r.dump();
  }
  // An HTTP/1.x request line still gets the page that explains (and no binary before it).
  nlohmann::json h1 = raw_tcp(port_, "GET /shop/cart HTTP/1.1\r\nHost: api.example.com\r\n\r\n", false);
  EXPECT_EQ(h1["received"].get<std::string>().rfind("HTTP/1.1 505 ", 0), 0u) << h1.dump();
  EXPECT_TRUE(h1["closed"]) << h1.dump();

  nlohmann::json m = metrics();
  EXPECT_EQ(metric_value(m, "regiongate_client_connection_errors_total", {{"reason", "not-http2"}}), 4)
      << m.dump();
  EXPECT_EQ(metric_value(m, "regiongate_http1_refused_total"), 1) << m.dump();
  EXPECT_NO_FATAL_FAILURE(witness.expect_still_served());
}

// RFC 9113 5.1.1: a new stream's id must be above every id the client used.
// nghttp2 1.52 ignores a HEADERS frame on an id the client skipped (the
// connection answered a PING after it, and the stream, before this test
// was written); the gateway catches it from the frame header.
TEST_F(Rfc9113Test, AHeadersFrameOnAnIdTheClientSkippedIsAConnectionError) {
  Witness witness(port_, dir_);
  ASSERT_TRUE(witness.started()) << witness.output();
  const nlohmann::json wait3 = {{"wait_for", {{"type", "HEADERS"}, {"stream", 3}}}};
  // 3, then 1 (never used, and closed by the use of 3).
  nlohmann::json r = frames(then(preface_steps(), {get_step(3), wait3, get_step(1)}));
  const nlohmann::json* goaway = find_frame(r, "GOAWAY");
  ASSERT_TRUE(goaway) << r.dump();
  EXPECT_EQ((*goaway)["error"], "PROTOCOL_ERROR") << r.dump();
  EXPECT_EQ((*goaway)["last_stream"], 3) << r.dump();
  EXPECT_FALSE(find_frame(r, "HEADERS", 1)) << r.dump();
  EXPECT_EQ(r["end"], "closed") << r.dump();
  // 1, 7, then 5 (skipped between them).
  r = frames(then(preface_steps(), {get_step(1), get_step(7), get_step(5)}));
  goaway = find_frame(r, "GOAWAY");
  ASSERT_TRUE(goaway) << r.dump();
  EXPECT_EQ((*goaway)["error"], "PROTOCOL_ERROR") << r.dump();
  EXPECT_EQ((*goaway)["last_stream"], 7) << r.dump();
  EXPECT_FALSE(find_frame(r, "HEADERS", 5)) << r.dump();

  nlohmann::json m = metrics();
  EXPECT_EQ(metric_value(m, "regiongate_client_connection_errors_total",
                         {{"reason", "stream-id-went-back"}}),
            2)
      << m.dump();
  EXPECT_NO_FATAL_FAILURE(witness.expect_still_served());
}

// What must not be taken for it: trailers (a HEADERS frame on an id used
// before) on a stream the gateway has reset meanwhile (here for a
// connection-specific header, RFC 9113 8.2.2) are ignored (5.1), and the
// connection goes on.
TEST_F(Rfc9113Test, TrailersOnAStreamTheGatewayResetAreIgnored) {
  nlohmann::json bad = get_step(1, "/shop/cart", false);
  bad["headers"].push_back({"connection", "keep-alive"});
  nlohmann::json r = frames(
      then(preface_steps(),
           {bad, {{"data", "body"}, {"stream", 1}},
            {{"headers", header_list({{"x-checksum", "1"}})}, {"stream", 1}, {"end_stream", true}},
            get_step(3), {{"wait_for", {{"type", "HEADERS"}, {"stream", 3}}}}}),
      "ping-ack");
  const nlohmann::json* rst = find_frame(r, "RST_STREAM", 1);
  ASSERT_TRUE(rst) << r.dump();
  EXPECT_EQ((*rst)["error"], "PROTOCOL_ERROR") << r.dump();
  EXPECT_EQ((*find_frame(r, "HEADERS", 3))["headers"][":status"], "200") << r.dump();
  EXPECT_FALSE(find_frame(r, "GOAWAY")) << r.dump();
  EXPECT_EQ(r["end"], "ping-ack") << r.dump();
}

// A HEADERS frame on an id the client used and closed (its request ended,
// and so did the response): nghttp2 answers STREAM_CLOSED (5.1) while it
// remembers the stream, that is among the last max_concurrent_streams
// (128) streams closed.
TEST_F(Rfc9113Test, AHeadersFrameOnAStreamTheClientClosedIsStreamClosed) {
  nlohmann::json r = frames(then(preface_steps(),
                                 {get_step(1), {{"wait_for", {{"type", "DATA"}, {"stream", 1}}}},
                                  get_step(3), {{"wait_for", {{"type", "DATA"}, {"stream", 3}}}},
                                  get_step(1)}));
  const nlohmann::json* goaway = find_frame(r, "GOAWAY");
  ASSERT_TRUE(goaway) << r.dump();
  EXPECT_EQ((*goaway)["error"], "STREAM_CLOSED") << r.dump();
  EXPECT_EQ((*goaway)["last_stream"], 3) << r.dump();
}

}  // namespace
}  // namespace regiongate::testing
