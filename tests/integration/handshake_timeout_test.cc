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

class HandshakeTimeoutTest : public GatewayFixture {
 protected:
  // Connects, sends `bytes`, and reads until the gateway closes (10 s at
  // most). Returns the seconds it took and what was read: "closed S BYTES".
  std::string send_and_wait_for_close(const std::string& bytes) {
    const std::string port = base_.substr(base_.rfind(':') + 1);
    ProcessResult r = run_process(
        {"/usr/bin/python3", "-c",
         "import socket,sys,time\n"
         "s=socket.create_connection(('127.0.0.1'," + port + "),timeout=10)\n"
         "s.sendall(sys.argv[1].encode('latin-1'))\n"
         "t=time.time()\n"
         "n=0\n"
         "try:\n"
         "  while True:\n"
         "    b=s.recv(65536)\n"
         "    if not b: break\n"
         "    n+=len(b)\n"
         "  print('closed %.2f %d' % (time.time()-t, n))\n"
         "except socket.timeout:\n"
         "  print('open')\n",
         bytes});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
};

TEST_F(HandshakeTimeoutTest, ASilentOrHalfwayClientIsClosedAndCounted) {
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z",
                                        "  timeouts: {handshake: 300ms, idle: 60s}\n"));
  const std::regex closed(R"(closed (\d+\.\d+) 0\n)");
  std::smatch m;
  const std::string silent = send_and_wait_for_close("");
  ASSERT_TRUE(std::regex_search(silent, m, closed)) << silent;
  EXPECT_LT(std::stod(m[1]), 5.0);  // 0.3 s, not the 60 s idle timeout, nor never
  const std::string halfway = send_and_wait_for_close("PRI * HTTP/2.0\r\n");
  ASSERT_TRUE(std::regex_search(halfway, m, closed)) << halfway;
  EXPECT_LT(std::stod(m[1]), 5.0);

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
