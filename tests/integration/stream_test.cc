// One stream's life through the gateway: trailers both ways, resets both
// ways, a request past the header limits reset alone, GOAWAY both ways (the
// gateway draining on SIGTERM; an origin draining on its own). Real nghttp,
// curl, nghttpd and nghttpx on loopback.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/integration/gateway_fixture.h"

namespace regiongate::testing {
namespace {

constexpr const char* kInstant = "2015-01-15T00:00:00Z";  // Indian data: Singapore, then Oregon
const std::vector<std::string> kIndianShopper = {"-H", "host: api.example.com", "-H",
                                                 "x-account-id: in-asha"};

class StreamTest : public GatewayFixture {
 protected:
  // A sparse file of `bytes` under the docroot, served at `path`.
  std::string make_file(const std::string& path, std::uintmax_t bytes) {
    std::filesystem::path p = docroot() / path.substr(1);
    std::ofstream(p).close();
    std::filesystem::resize_file(p, bytes);
    return path;
  }
  // nghttp (verbose: every frame) to the gateway as an Indian shopper.
  ProcessResult nghttp(std::vector<std::string> args, const std::vector<std::string>& paths) {
    std::vector<std::string> argv = {"/usr/bin/nghttp", "-v", "-n", "-t", "20",
                                     "-H", ":authority: api.example.com",
                                     "-H", "x-account-id: in-asha"};
    argv.insert(argv.end(), args.begin(), args.end());
    for (const std::string& p : paths) argv.push_back(base_ + p);
    return run_process(argv);
  }
  struct Download {
    std::unique_ptr<BackgroundProcess> curl;
    std::filesystem::path headers;  // the response headers, as curl receives them
  };
  // curl in the background, downloading `path` at `rate` bytes/s; prints
  // "done status size" when done. It writes the response headers to a file
  // as they arrive (-D), so the test can wait until the response is under way.
  Download slow_download(const std::string& path, const std::string& rate) {
    Download d;
    d.headers = dir_ / ("headers-" + std::to_string(++downloads_));
    std::vector<std::string> argv = {"/usr/bin/curl", "-s", "--http2-prior-knowledge",
                                     "--max-time", "20", "--limit-rate", rate, "-o", "/dev/null",
                                     "-w", "done %{http_code} %{size_download}\n"};
    argv.insert(argv.end(), {"-D", d.headers.string()});
    argv.insert(argv.end(), kIndianShopper.begin(), kIndianShopper.end());
    argv.push_back(base_ + path);
    d.curl = std::make_unique<BackgroundProcess>(argv);
    return d;
  }
  // True once curl has the response's headers (its body is then on the way,
  // through the gateway), false at the deadline.
  static bool response_started(const Download& d) {
    return wait_until([&] {
      std::ifstream in(d.headers);
      std::string text((std::istreambuf_iterator<char>(in)), {});
      return text.rfind("HTTP/2 200", 0) == 0 && text.find("\r\n\r\n") != std::string::npos;
    });
  }

 private:
  int downloads_ = 0;
};

TEST_F(StreamTest, TrailersPassThroughBothWays) {
  start_origin("singapore", {"--trailer", "x-response-sum: 42"});
  start_gateway(kInstant);
  std::ofstream(dir_ / "upload") << std::string(100000, 'u');
  ProcessResult r = nghttp({"-d", (dir_ / "upload").string(), "--trailer", "x-upload-sum: 7"},
                           {"/shop/cart"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find(":status: 200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x-response-sum: 42"), std::string::npos) << r.out;
  ASSERT_TRUE(origins_["singapore"]->wait_for(std::regex("x-upload-sum: 7")))
      << origin_log("singapore");
}

TEST_F(StreamTest, AClientThatGoesAwayCancelsTheOriginStream) {
  start_origin("singapore");
  start_gateway(kInstant);
  std::string big = make_file("/cloud/big", 64 << 20);
  // curl gives up after a second, mid-body: its connection closes.
  ProcessResult r = curl({"-H", "host: api.example.com", "-H", "x-account-id: in-asha",
                          "--limit-rate", "200K", "--max-time", "1", "-o", "/dev/null"},
                         big);
  EXPECT_EQ(r.exit_code, 28) << "curl should stop at its --max-time (28), mid-body: " << r.err;
  EXPECT_TRUE(origins_["singapore"]->wait_for(
      std::regex(R"(recv RST_STREAM[^\n]*\n[^\n]*error_code=CANCEL)")))
      << origin_log("singapore");
  // The pooled origin connection still serves.
  ProcessResult next = curl(kIndianShopper, "/shop/cart");
  EXPECT_EQ(next.exit_code, 0) << next.err;
  EXPECT_NE(next.out.find("HTTP/2 200"), std::string::npos) << next.out;
}

TEST_F(StreamTest, AnOriginThatDiesMidBodyResetsTheClientStream) {
  start_origin("singapore");
  start_origin("oregon");
  start_gateway(kInstant);
  std::string big = make_file("/cloud/big", 64 << 20);
  Download download = slow_download(big, "4M");  // 16 s for all of it
  ASSERT_TRUE(response_started(download)) << download.curl->output();
  stop_origin("singapore");  // SIGKILL mid-body
  // A truncated body is an error the client sees (curl: 92, HTTP/2 stream
  // error), never a clean end; it sees it once it has read what the socket
  // buffers already hold.
  int curl_exit = download.curl->stop(0, std::chrono::seconds(8));
  EXPECT_NE(curl_exit, 0) << download.curl->output();
  EXPECT_NE(curl_exit, -1) << "curl did not notice the reset";
  EXPECT_EQ(download.curl->output().find("done 200 67108864"), std::string::npos);
  // The gateway goes on: the next request fails over to the next allowed data centre.
  ProcessResult next = curl(kIndianShopper, "/shop/cart");
  EXPECT_EQ(next.exit_code, 0) << next.err;
  EXPECT_NE(next.out.find("x-regiongate-dc: oregon"), std::string::npos) << next.out;
}

TEST_F(StreamTest, ARequestPastTheHeaderLimitIsRefusedAlone) {
  start_origin("singapore");
  start_gateway(kInstant, "  http2: {max_header_list_size: 4096}\n");
  // Two streams on one connection; the second's :path alone is past the limit.
  ProcessResult r = nghttp({}, {"/shop/cart", "/shop/cart?" + std::string(6000, 'a')});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(":status: 200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(":status: 431"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x-regiongate-reason: request-headers-too-large"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("recv GOAWAY"), std::string::npos) << r.out;  // the connection lives
  EXPECT_EQ(requests_seen_by("singapore"), 1);
}

TEST_F(StreamTest, SigtermDrainsWithGoawayAndLetsRequestsFinish) {
  start_origin("singapore");
  start_gateway(kInstant);
  // About two seconds at this rate: more than the sockets' buffers hold, so
  // the gateway is still sending when it is told to stop.
  std::string file = make_file("/cloud/16m", 16 << 20);
  Download download = slow_download(file, "8M");
  ASSERT_TRUE(response_started(download)) << download.curl->output();
  auto stop_started = std::chrono::steady_clock::now();
  EXPECT_EQ(gateway_->stop(SIGTERM), 0) << gateway_->output();
  // It waited for the download rather than cutting it.
  EXPECT_GT(std::chrono::steady_clock::now() - stop_started, std::chrono::milliseconds(300));
  EXPECT_EQ(download.curl->stop(0), 0) << download.curl->output();
  EXPECT_NE(download.curl->output().find("done 200 16777216"), std::string::npos)
      << download.curl->output();
}

TEST_F(StreamTest, AnOriginsGoawayMovesNewRequestsToANewConnection) {
  // Singapore's endpoint is an nghttpx in front of nghttpd: nghttpx drains on
  // SIGQUIT (GOAWAY, in-flight streams finish) and a fresh one takes its port.
  // The listening socket is the test's own, handed to each nghttpx
  // (NGHTTPX_ACCEPT_1, as an nghttpx hands it to its successor), so the port
  // is never free in between.
  int backend = start_origin_on("backend", "127.0.0.1");
  ASSERT_NE(backend, 0);
  HeldSocket frontend;
  ASSERT_TRUE(frontend.ok() && frontend.listen()) << frontend.error();
  set_endpoint("singapore", frontend.authority());
  auto nghttpx = [&] {
    return std::make_unique<BackgroundProcess>(
        std::vector<std::string>{
            "/usr/bin/env", "NGHTTPX_ACCEPT_1=tcp," + std::to_string(frontend.fd()),
            "/usr/sbin/nghttpx", "--conf=/dev/null", "--workers=1", "--no-ocsp",
            "--frontend=127.0.0.1," + std::to_string(frontend.port()) + ";no-tls",
            "--backend=127.0.0.1," + std::to_string(backend) + ";;proto=h2",
            "--errorlog-file=/dev/stderr", "--accesslog-file=/dev/stdout"},
        std::vector<int>{frontend.fd()});
  };
  auto first = nghttpx();
  ASSERT_TRUE(first->wait_for(std::regex("Listening on 127.0.0.1"))) << first->output();
  start_gateway(kInstant);
  // About two seconds at this rate, far more than the sockets' buffers hold:
  // the stream is still open on the origin connection when nghttpx drains.
  std::string file = make_file("/cloud/16m", 16 << 20);
  Download download = slow_download(file, "8M");
  ASSERT_TRUE(response_started(download)) << download.curl->output();
  kill(first->pid(), SIGQUIT);
  ASSERT_TRUE(first->wait_for(std::regex("[Gg]raceful shutdown"))) << first->output();
  auto second = nghttpx();
  ASSERT_TRUE(second->wait_for(std::regex("Listening on 127.0.0.1"))) << second->output();
  // Oregon is down: only Singapore can serve these. Once the GOAWAY has
  // reached the gateway (a request may still beat it to the draining
  // connection, which serves it), new requests go to a new connection: the
  // new nghttpx's (its access log).
  const std::regex served_by_second(R"("GET /shop/cart HTTP/2[^"]*" 200 )");
  ProcessResult next;
  int sent = 0;
  bool moved = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!moved && std::chrono::steady_clock::now() < deadline) {
    next = curl(kIndianShopper, "/shop/cart");
    ++sent;
    if (next.exit_code != 0 || next.out.find("HTTP/2 200") == std::string::npos ||
        next.out.find("x-regiongate-dc: singapore") == std::string::npos) {
      break;
    }
    moved = std::regex_search(second->output(), served_by_second);
  }
  EXPECT_EQ(next.exit_code, 0) << next.err;
  EXPECT_NE(next.out.find("HTTP/2 200"), std::string::npos) << next.out << gateway_->output();
  EXPECT_NE(next.out.find("x-regiongate-dc: singapore"), std::string::npos) << next.out;
  EXPECT_TRUE(moved) << sent << " request(s), none through the new nghttpx:\n" << second->output();
  // The stream in flight on the draining connection finishes.
  EXPECT_EQ(download.curl->stop(0), 0) << download.curl->output();
  EXPECT_NE(download.curl->output().find("done 200 16777216"), std::string::npos)
      << download.curl->output();
}

// A connection that sends the preface and nothing else is closed with a
// GOAWAY after timeouts.idle, not kept forever.
TEST_F(StreamTest, AnIdleConnectionIsClosedWithGoaway) {
  start_gateway(kInstant, "  timeouts: {idle: 300ms}\n");
  int port = std::stoi(base_.substr(base_.rfind(':') + 1));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string preface = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
                              std::string("\0\0\0\4\0\0\0\0\0", 9);  // an empty SETTINGS
  ASSERT_EQ(write(fd, preface.data(), preface.size()), static_cast<ssize_t>(preface.size()));
  auto started = std::chrono::steady_clock::now();
  std::string received;
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() - started < std::chrono::seconds(5)) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) != 1) continue;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) closed = true;
    else received.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  EXPECT_TRUE(closed);
  EXPECT_GT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(250));
  // Frames: 9-byte headers; find a GOAWAY (type 7).
  bool goaway = false;
  for (std::size_t at = 0; at + 9 <= received.size();) {
    std::size_t length = (std::uint8_t(received[at]) << 16) | (std::uint8_t(received[at + 1]) << 8) |
                         std::uint8_t(received[at + 2]);
    if (received[at + 3] == 7) goaway = true;
    at += 9 + length;
  }
  EXPECT_TRUE(goaway) << received.size() << " bytes received";
}

}  // namespace
}  // namespace regiongate::testing
