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
#include <sstream>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/h2_frames.h"

namespace regiongate::testing {
namespace {

constexpr const char* kInstant = "2015-01-15T00:00:00Z";

// One point of the RFC: what the client sends after its preface and SETTINGS,
// and what it must get. Exactly one of `connection_error` (a GOAWAY with
// this code, then the close), `stream_error` (RST_STREAM on `stream`, the
// connection going on) and `status` (a response on `stream`, the
// connection going on: nothing wrong, or the gateway's own answer) is set.
struct Case {
  std::string what;
  nlohmann::json steps;
  std::string connection_error = "";
  std::string stream_error = "";
  std::string status = "";
  int stream = 1;
};

class Rfc9113Test : public GatewayFixture {
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
    ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
    ASSERT_NO_FATAL_FAILURE(start_gateway(kInstant));
    port_ = base_.substr(base_.rfind(':') + 1);
  }
  nlohmann::json frames(const nlohmann::json& steps, const std::string& read = "close") {
    return run_frames(port_, steps, read, dir_);
  }
  // Runs every case on a connection of its own, a witness connection open across them all.
  void check_all(const std::vector<Case>& cases) {
    Witness witness(port_, dir_);
    ASSERT_TRUE(witness.started()) << witness.output();
    for (const Case& c : cases) check(c);
    EXPECT_NO_FATAL_FAILURE(witness.expect_still_served());
  }
  void check(const Case& c) {
    nlohmann::json steps = preface_steps();
    for (const nlohmann::json& s : c.steps) steps.push_back(s);
    // A response comes from the origin: it may come after the PING's answer.
    if (!c.status.empty()) steps.push_back({{"wait_for", {{"type", "HEADERS"}, {"stream", c.stream}}}});
    nlohmann::json r = frames(steps, c.connection_error.empty() ? "ping-ack" : "close");
    const std::string dump = c.what + ": " + r.dump().substr(0, 3000);
    const nlohmann::json* goaway = find_frame(r, "GOAWAY");
    if (!c.connection_error.empty()) {
      ASSERT_TRUE(goaway) << dump;
      EXPECT_EQ((*goaway)["error"], c.connection_error) << dump;
      EXPECT_EQ(r["end"], "closed") << dump;
      return;
    }
    EXPECT_FALSE(goaway) << dump;
    EXPECT_EQ(r["end"], "ping-ack") << dump;
    if (!c.stream_error.empty()) {
      const nlohmann::json* rst = find_frame(r, "RST_STREAM", c.stream);
      ASSERT_TRUE(rst) << dump;
      EXPECT_EQ((*rst)["error"], c.stream_error) << dump;
      EXPECT_FALSE(find_frame(r, "HEADERS", c.stream)) << dump;  // nothing of it was served
    } else {
      const nlohmann::json* response = find_frame(r, "HEADERS", c.stream);
      ASSERT_TRUE(response) << dump;
      EXPECT_EQ((*response)["headers"][":status"], c.status) << dump;
    }
  }
  std::string port_;
};

// A frame of `type` on `stream` with this payload (hex) and flags.
nlohmann::json raw_frame(int type, int stream, const std::string& payload = "", int flags = 0) {
  return {{"frame", {{"type", type}, {"flags", flags}, {"stream", stream}, {"payload", payload}}}};
}
nlohmann::json settings(std::initializer_list<std::pair<int, std::uint32_t>> entries) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [id, value] : entries) list.push_back(nlohmann::json::array({id, value}));
  return {{"settings", list}};
}
nlohmann::json window_update(int stream, std::uint32_t increment) {
  return {{"window_update", increment}, {"stream", stream}};
}
// A request on `stream` with these header fields, in this order.
nlohmann::json request(int stream, const std::vector<std::pair<std::string, std::string>>& fields,
                       bool end = true) {
  return {{"headers", header_list(fields)}, {"stream", stream}, {"end_stream", end}};
}
// The fields of a GET of /shop/cart for in-asha, with `extra` after them.
std::vector<std::pair<std::string, std::string>> get_fields(
    std::vector<std::pair<std::string, std::string>> extra = {}) {
  std::vector<std::pair<std::string, std::string>> f = {{":method", "GET"},
                                                        {":scheme", "http"},
                                                        {":authority", "api.example.com"},
                                                        {":path", "/shop/cart"},
                                                        {"x-account-id", "in-asha"}};
  f.insert(f.end(), extra.begin(), extra.end());
  return f;
}
const nlohmann::json kWaitSettings = {{"wait_for", {{"type", "SETTINGS"}}}};

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


// 6.5, 6.5.2: SETTINGS values out of range are connection errors; unknown
// settings are ignored.
TEST_F(Rfc9113Test, SettingsOutOfRange) {
  const nlohmann::json get1 = request(1, get_fields());
  check_all({
      {"SETTINGS_INITIAL_WINDOW_SIZE 2^31", {settings({{4, 0x80000000u}})}, "FLOW_CONTROL_ERROR"},
      {"SETTINGS_INITIAL_WINDOW_SIZE 2^31-1", {settings({{4, 0x7fffffffu}}), get1}, "", "", "200"},
      {"SETTINGS_MAX_FRAME_SIZE 2^14-1", {settings({{5, 16383}})}, "PROTOCOL_ERROR"},
      {"SETTINGS_MAX_FRAME_SIZE 2^24", {settings({{5, 1u << 24}})}, "PROTOCOL_ERROR"},
      {"SETTINGS_MAX_FRAME_SIZE 2^24-1", {settings({{5, (1u << 24) - 1}}), get1}, "", "", "200"},
      {"SETTINGS_ENABLE_PUSH 2", {settings({{2, 2}})}, "PROTOCOL_ERROR"},
      {"SETTINGS_ENABLE_PUSH 1 (a client may)", {settings({{2, 1}}), get1}, "", "", "200"},
      {"SETTINGS_ENABLE_CONNECT_PROTOCOL 2", {settings({{8, 2}})}, "PROTOCOL_ERROR"},
      {"an unknown setting", {settings({{0x99, 7}}), get1}, "", "", "200"},
      {"SETTINGS on stream 1", {raw_frame(4, 1)}, "PROTOCOL_ERROR"},
      {"SETTINGS of 5 bytes", {raw_frame(4, 0, "0004000000")}, "FRAME_SIZE_ERROR"},
      {"SETTINGS ACK with a payload", {raw_frame(4, 0, "000400000001", 1)}, "FRAME_SIZE_ERROR"},
  });
}

// 6: frames that belong to a stream, on stream 0, and frames that belong
// to the connection, on a stream; 5.1.1: a client's stream ids are odd;
// 8.4: a client cannot push.
TEST_F(Rfc9113Test, FramesOnTheWrongStream) {
  check_all({
      {"DATA on stream 0", {raw_frame(0, 0, "616263")}, "PROTOCOL_ERROR"},
      {"HEADERS on stream 0", {request(0, get_fields())}, "PROTOCOL_ERROR"},
      {"PRIORITY on stream 0", {raw_frame(2, 0, "000000010f")}, "PROTOCOL_ERROR"},
      {"RST_STREAM on stream 0", {raw_frame(3, 0, "00000008")}, "PROTOCOL_ERROR"},
      {"CONTINUATION on stream 0", {raw_frame(9, 0, "", 4)}, "PROTOCOL_ERROR"},
      {"PING on stream 1", {raw_frame(6, 1, "0000000000000000")}, "PROTOCOL_ERROR"},
      {"GOAWAY on stream 1", {raw_frame(7, 1, "0000000000000000")}, "PROTOCOL_ERROR"},
      {"HEADERS on stream 2 (even)", {request(2, get_fields())}, "PROTOCOL_ERROR"},
      {"PUSH_PROMISE from the client", {request(1, get_fields(), false),
                                        raw_frame(5, 1, "00000002", 4)}, "PROTOCOL_ERROR"},
  });
}

// 4.1, 4.2, 4.3, 5.5, 6.10: frame layout, sizes, header blocks.
TEST_F(Rfc9113Test, FrameLayoutAndHeaderBlocks) {
  const nlohmann::json get1 = request(1, get_fields());
  auto fields = get_fields();
  nlohmann::json first_half = request(1, {fields.begin(), fields.begin() + 3});
  first_half["end_headers"] = false;
  nlohmann::json unfinished = request(1, fields);
  unfinished["end_headers"] = false;
  check_all({
      {"an unknown frame type on stream 0 (ignored)", {raw_frame(0xfa, 0, "abcd"), get1}, "", "", "200"},
      {"an unknown frame type on stream 5 (ignored)", {raw_frame(0xfa, 5, "abcd"), get1}, "", "", "200"},
      {"a frame above SETTINGS_MAX_FRAME_SIZE (16384)",
       {raw_frame(0xfa, 0, std::string(2 * 16385, '0'))}, "FRAME_SIZE_ERROR"},
      {"PING of 7 bytes", {raw_frame(6, 0, "00000000000000")}, "FRAME_SIZE_ERROR"},
      {"WINDOW_UPDATE of 3 bytes", {raw_frame(8, 0, "000001")}, "FRAME_SIZE_ERROR"},
      {"RST_STREAM of 3 bytes", {request(1, fields, false), raw_frame(3, 1, "000008")}, "FRAME_SIZE_ERROR"},
      {"PRIORITY of 4 bytes", {raw_frame(2, 3, "00000001")}, "FRAME_SIZE_ERROR"},
      {"a header block HPACK cannot decode (index 63 of an empty table)",
       {raw_frame(1, 1, "bf", 5)}, "COMPRESSION_ERROR"},
      // RFC 7541 4.2, 6.3: the client's encoder may not grow our decoder's
      // table past our SETTINGS_HEADER_TABLE_SIZE (4096): an update to 8192.
      {"an HPACK table size update above SETTINGS_HEADER_TABLE_SIZE", {raw_frame(1, 1, "3fe13f", 5)},
       "COMPRESSION_ERROR"},
      // Its own table as large as it likes: our encoder keeps to 4096.
      {"SETTINGS_HEADER_TABLE_SIZE of 2^32-1", {settings({{1, 0xffffffff}}), get1}, "", "", "200"},
      {"a header block cut by another frame", {unfinished, {{"ping", "abcdefgh"}}}, "PROTOCOL_ERROR"},
      {"CONTINUATION with no HEADERS before it", {raw_frame(9, 1, "", 4)}, "PROTOCOL_ERROR"},
      {"HEADERS, then CONTINUATION (one header block)",
       {first_half, {{"continuation", header_list({fields.begin() + 3, fields.end()})},
                     {"stream", 1}}}, "", "", "200"},
      {"DATA padded beyond its length", {request(1, fields, false), raw_frame(0, 1, "0500", 0x8)},
       "PROTOCOL_ERROR"},
      {"a stream depending on itself (PRIORITY)", {raw_frame(2, 3, "000000030f")}, "PROTOCOL_ERROR"},
  });
}

// 5.1: frames a stream's state does not allow.
TEST_F(Rfc9113Test, FramesTheStreamStateDoesNotAllow) {
  nlohmann::json many = nlohmann::json::array({kWaitSettings});  // our SETTINGS, acknowledged
  for (int i = 0; i < 129; ++i) many.push_back(request(1 + 2 * i, get_fields(), false));
  check_all({
      {"DATA on an idle stream", {raw_frame(0, 1, "616263")}, "PROTOCOL_ERROR"},
      {"RST_STREAM on an idle stream", {raw_frame(3, 1, "00000008")}, "PROTOCOL_ERROR"},
      {"WINDOW_UPDATE on an idle stream", {window_update(1, 100)}, "PROTOCOL_ERROR"},
      {"DATA after the request's END_STREAM", {request(1, get_fields()), raw_frame(0, 1, "616263")},
       "STREAM_CLOSED"},
      {"DATA on a stream closed both ways",
       {request(1, get_fields()), {{"wait_for", {{"type", "DATA"}, {"stream", 1}}}},
        raw_frame(0, 1, "616263")}, "STREAM_CLOSED"},
      {"a stream past SETTINGS_MAX_CONCURRENT_STREAMS (128)", many, "PROTOCOL_ERROR"},
  });
}

// 6.9: WINDOW_UPDATE of 0, and windows past 2^31-1.
TEST_F(Rfc9113Test, FlowControlWindows) {
  const nlohmann::json open1 = request(1, get_fields(), false);
  check_all({
      {"WINDOW_UPDATE of 0 on the connection", {window_update(0, 0)}, "PROTOCOL_ERROR"},
      // A stream error by the RFC; nghttp2 makes it a connection error (5.4.1 allows it).
      {"WINDOW_UPDATE of 0 on a stream", {open1, window_update(1, 0)}, "PROTOCOL_ERROR"},
      {"the connection window past 2^31-1", {window_update(0, 0x7fffffff)}, "FLOW_CONTROL_ERROR"},
      {"a stream window past 2^31-1", {open1, window_update(1, 0x7fffffff)}, "", "FLOW_CONTROL_ERROR"},
      {"a stream window at 2^31-1",
       {open1, window_update(1, 0x7fffffff - 65535), {{"data", ""}, {"stream", 1}, {"end_stream", true}}},
       "", "", "200"},
      {"SETTINGS_INITIAL_WINDOW_SIZE pushing an open stream's window past 2^31-1 (6.9.2)",
       {open1, window_update(1, 0x7fffffff - 65535), settings({{4, 65536}})}, "FLOW_CONTROL_ERROR"},
  });
  // The last one is the gateway's: nghttp2 1.52 only resets the stream.
  nlohmann::json m = metrics();
  EXPECT_EQ(metric_value(m, "regiongate_client_connection_errors_total",
                         {{"reason", "initial-window-overflow"}}),
            1)
      << m.dump();
}

// 8.1, 8.2, 8.3: malformed requests are stream errors (PROTOCOL_ERROR), and
// a malformed header block reaches no origin.
TEST_F(Rfc9113Test, MalformedRequestsAreResetAlone) {
  using Fields = std::vector<std::pair<std::string, std::string>>;
  auto without = [](const std::string& name) {
    Fields f = get_fields();
    std::erase_if(f, [&](const auto& p) { return p.first == name; });
    return f;
  };
  auto with = [](const std::string& name, const std::string& value) {
    Fields f = get_fields();
    for (auto& [n, v] : f) {
      if (n == name) v = value;
    }
    return f;
  };
  Fields twice = get_fields();
  twice.insert(twice.begin() + 4, {":path", "/shop/cart"});  // among the pseudo-headers
  Fields post = with(":method", "POST");
  post.push_back({"content-length", "4"});
  check_all({
      {"an upper-case field name", {request(1, get_fields({{"X-Trace", "1"}}))}, "", "PROTOCOL_ERROR"},
      {"a field name with a space", {request(1, get_fields({{"x trace", "1"}}))}, "", "PROTOCOL_ERROR"},
      {"a field value with a NUL", {request(1, get_fields({{"x-trace", std::string("a\0b", 3)}}))},
       "", "PROTOCOL_ERROR"},
      {"a field value with a LF", {request(1, get_fields({{"x-trace", "a\nb"}}))}, "", "PROTOCOL_ERROR"},
      {"a field value with leading white space", {request(1, get_fields({{"x-trace", " a"}}))},
       "", "PROTOCOL_ERROR"},
      {"connection", {request(1, get_fields({{"connection", "keep-alive"}}))}, "", "PROTOCOL_ERROR"},
      {"keep-alive", {request(1, get_fields({{"keep-alive", "timeout=5"}}))}, "", "PROTOCOL_ERROR"},
      {"proxy-connection", {request(1, get_fields({{"proxy-connection", "keep-alive"}}))}, "",
       "PROTOCOL_ERROR"},
      {"transfer-encoding", {request(1, get_fields({{"transfer-encoding", "chunked"}}))}, "",
       "PROTOCOL_ERROR"},
      {"upgrade", {request(1, get_fields({{"upgrade", "h2c"}}))}, "", "PROTOCOL_ERROR"},
      {"te other than trailers", {request(1, get_fields({{"te", "gzip"}}))}, "", "PROTOCOL_ERROR"},
      {"te: trailers (allowed)", {request(1, get_fields({{"te", "trailers"}}))}, "", "", "200"},
      {"a pseudo-header after a regular field",
       {request(1, {{":method", "GET"}, {"x-account-id", "in-asha"}, {":scheme", "http"},
                    {":authority", "api.example.com"}, {":path", "/shop/cart"}})},
       "", "PROTOCOL_ERROR"},
      {"no :path", {request(1, without(":path"))}, "", "PROTOCOL_ERROR"},
      {"no :method", {request(1, without(":method"))}, "", "PROTOCOL_ERROR"},
      {"no :scheme", {request(1, without(":scheme"))}, "", "PROTOCOL_ERROR"},
      {"an empty :path", {request(1, with(":path", ""))}, "", "PROTOCOL_ERROR"},
      {"a second :path", {request(1, twice)}, "", "PROTOCOL_ERROR"},
      {"an unknown pseudo-header", {request(1, {{":method", "GET"}, {":scheme", "http"}, {":foo", "1"},
                                                {":authority", "api.example.com"}, {":path", "/"}})},
       "", "PROTOCOL_ERROR"},
      {":status in a request", {request(1, {{":status", "200"}, {":method", "GET"}, {":scheme", "http"},
                                            {":authority", "api.example.com"}, {":path", "/"}})},
       "", "PROTOCOL_ERROR"},
      {":path * for GET", {request(1, with(":path", "*"))}, "", "PROTOCOL_ERROR"},
      {"content-length above the body", {request(1, get_fields({{"content-length", "5"}}))}, "",
       "PROTOCOL_ERROR"},
      {"content-length below the body",
       {request(1, post, false), {{"data", "abcdef"}, {"stream", 1}, {"end_stream", true}}},
       "", "PROTOCOL_ERROR"},
      {"trailers without END_STREAM",
       {request(1, get_fields(), false), {{"data", "ab"}, {"stream", 1}},
        {{"headers", header_list({{"x-sum", "1"}})}, {"stream", 1}}},
       "", "PROTOCOL_ERROR"},
      {"a pseudo-header in trailers",
       {request(1, get_fields(), false),
        {{"headers", header_list({{":path", "/"}})}, {"stream", 1}, {"end_stream", true}}},
       "", "PROTOCOL_ERROR"},
      {"a :path that is not origin-form", {request(1, with(":path", "shop/cart"))}, "",
       "PROTOCOL_ERROR"},
  });
  // No request whose header block was malformed reached the origin (those
  // whose headers were right and whose body or trailers were not may have:
  // they are forwarded before the rest comes, and cut when it does).
  ASSERT_TRUE(wait_until([&] { return origin_log("singapore").find("te: trailers") != std::string::npos; }))
      << origin_log("singapore");
  // nghttpd -v prints each header field it received as "recv (stream_id=N) name: value".
  std::vector<std::string> fields;
  std::istringstream lines(origin_log("singapore"));
  for (std::string line; std::getline(lines, line);) {
    auto at = line.find("recv (stream_id=");
    if (at != std::string::npos) fields.push_back(line.substr(line.find(") ", at) + 2));
  }
  for (const std::string& f : fields) {
    for (const char* bad : {"x-trace", "X-Trace", "x trace", "keep-alive", "proxy-connection",
                            "transfer-encoding", "upgrade", "te: gzip", ":foo", ":path: shop/cart",
                            ":path: *", ":status"}) {
      EXPECT_NE(f.rfind(bad, 0), 0u) << bad << " reached the origin: " << f;
    }
  }
}

// 6.8: the client's GOAWAY (NO_ERROR) ends the connection once its streams
// are done: the response on the stream it opened still comes, then the
// gateway's FIN (a graceful close, not a reset), and no GOAWAY of its own.
TEST_F(Rfc9113Test, AClientsGoawayLetsItsStreamsFinishThenTheConnectionCloses) {
  nlohmann::json r = frames(then(preface_steps(), {get_step(1), {{"goaway", 0}, {"last_stream", 0}}}));
  const nlohmann::json* response = find_frame(r, "HEADERS", 1);
  ASSERT_TRUE(response) << r.dump();
  EXPECT_EQ((*response)["headers"][":status"], "200") << r.dump();
  EXPECT_TRUE(find_frame(r, "DATA", 1)) << r.dump();
  EXPECT_FALSE(find_frame(r, "GOAWAY")) << r.dump();
  EXPECT_EQ(r["end"], "closed") << r.dump();
}

// 8.5: CONNECT is well-formed with :authority alone, and not served
// (the gateway's 400); with :scheme or :path, or without :authority, it is
// malformed; extended CONNECT (RFC 8441) needs SETTINGS_ENABLE_CONNECT_PROTOCOL,
// which the gateway does not send.
TEST_F(Rfc9113Test, Connect) {
  check_all({
      {"CONNECT with :authority", {request(1, {{":method", "CONNECT"}, {":authority", "api.example.com:443"}})},
       "", "", "400"},
      {"CONNECT with :path", {request(1, {{":method", "CONNECT"}, {":authority", "api.example.com:443"},
                                          {":path", "/"}})}, "", "PROTOCOL_ERROR"},
      {"CONNECT with :scheme", {request(1, {{":method", "CONNECT"}, {":scheme", "https"},
                                            {":authority", "api.example.com:443"}})}, "", "PROTOCOL_ERROR"},
      {"CONNECT without :authority", {request(1, {{":method", "CONNECT"}})}, "", "PROTOCOL_ERROR"},
      {"extended CONNECT (:protocol)",
       {request(1, {{":method", "CONNECT"}, {":protocol", "websocket"}, {":scheme", "https"},
                    {":authority", "api.example.com"}, {":path", "/chat"}})}, "", "PROTOCOL_ERROR"},
  });
}

}  // namespace
}  // namespace regiongate::testing
