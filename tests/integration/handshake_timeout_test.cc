// A client that connects and never completes its HTTP/2 preface (silent,
// or stopping halfway) is closed after timeouts.handshake: nothing can be
// sent to it before its preface, so neither a GOAWAY nor the idle timeout
// would ever end it, and such connections would pile up until the
// gateway ran out of file descriptors. Clients that do speak are served.

#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <regex>

#include "tests/integration/gateway_fixture.h"

namespace regiongate::testing {
namespace {

class HandshakeTimeoutTest : public GatewayFixture {};

TEST_F(HandshakeTimeoutTest, ASilentOrHalfwayClientIsClosedAndCounted) {
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z",
                                        "  timeouts: {handshake: 300ms, idle: 60s}\n"));
  const std::string port = base_.substr(base_.rfind(':') + 1);
  for (const char* bytes : {"", "PRI * HTTP/2.0\r\n"}) {
    nlohmann::json r = raw_tcp(port, bytes, false);
    EXPECT_TRUE(r["closed"]) << bytes << r.dump();
    EXPECT_EQ(r["received"], "") << r.dump();
    EXPECT_LT(r["seconds"].get<double>(), 5.0) << r.dump();  // 0.3 s, not the 60 s idle timeout, nor never
  }

  // A client that speaks is served, and not counted.
  ProcessResult r = curl({"-H", "host: api.example.com"}, "/nowhere");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("HTTP/2 404"), std::string::npos) << r.out;
  nlohmann::json m2 = metrics();
  EXPECT_EQ(metric_value(m2, "regiongate_handshake_timeouts_total"), 2) << m2.dump();
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

}  // namespace
}  // namespace regiongate::testing
