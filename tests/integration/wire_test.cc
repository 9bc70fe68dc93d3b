// What goes over the wire in odd cases: the answer to an HTTP/1 client, and
// request trailers past the header limits. Real clients: a raw socket, and
// python3-h2 (tests/integration/h2_client.py).

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <regex>

#include "tests/integration/gateway_fixture.h"

namespace regiongate::testing {
namespace {

using WireTest = GatewayFixture;

// Sends `request` on a new TCP connection and reads until the gateway closes
// it (10 s deadline); empty on a connect or read failure.
std::string exchange(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      send(fd, request.data(), request.size(), 0) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return out;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return out;
}

TEST_F(WireTest, TheHttp1RefusalsContentLengthIsItsBody) {
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  int port = std::stoi(base_.substr(base_.rfind(':') + 1));
  std::string response = exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto split = response.find("\r\n\r\n");
  ASSERT_NE(split, std::string::npos) << response;
  std::smatch m;
  std::string head = response.substr(0, split);
  ASSERT_TRUE(std::regex_search(head, m, std::regex("\r\nContent-Length: (\\d+)"))) << head;
  EXPECT_EQ(std::stoul(m[1].str()), response.size() - split - 4) << response;
  EXPECT_EQ(head.rfind("HTTP/1.1 505 ", 0), 0u) << head;
  EXPECT_NE(head.find("X-Regiongate-Reason: http2-required"), std::string::npos) << head;
}

// Trailers are bounded in size like headers (server.http2.max_header_list_size,
// 64 KiB by default): past it the stream is reset, alone.
TEST_F(WireTest, OversizedRequestTrailersResetTheirStreamOnly) {
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  // [[name, value], ...], spelled out (a braced pair would read as an object).
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  auto pairs = [](const Pairs& list) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [n, v] : list) out.push_back(nlohmann::json::array({n, v}));
    return out;
  };
  const Pairs headers = {{":method", "POST"},
                         {":scheme", "http"},
                         {":authority", "api.example.com"},
                         {":path", "/shop/cart"},
                         {"x-account-id", "in-asha"}};
  Pairs big;
  for (int i = 0; i < 3; ++i) big.push_back({"x-pad-" + std::to_string(i), std::string(30000, 'a')});
  nlohmann::json requests = nlohmann::json::array();
  requests.push_back({{"headers", pairs(headers)}, {"trailers", pairs(big)}});
  requests.push_back({{"headers", pairs(headers)}, {"trailers", pairs({{"x-checksum", "1"}})}});
  std::string file = (dir_ / "requests.json").string();
  std::ofstream(file) << requests.dump();
  std::string port = base_.substr(base_.rfind(':') + 1);
  ProcessResult r = run_process({"/usr/bin/python3", REGIONGATE_SOURCE_DIR "/tests/integration/h2_client.py",
                                 port, file},
                                30);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  nlohmann::json results = nlohmann::json::parse(r.out);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0]["reset"].is_string()) << results[0].dump();
  EXPECT_TRUE(results[0]["status"].is_null()) << results[0].dump();
  EXPECT_EQ(results[1]["status"], 200) << results[1].dump();
}

// Fail closed: no allowed data centre up. The log line carries the reason
// the client got, not the decision's "allowed".
TEST_F(WireTest, AFailClosedRequestIsLoggedWithTheReasonItWasGiven) {
  const std::string log = (dir_ / "access.log").string();
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z", "", log));
  ProcessResult r = curl({"-H", "host: api.example.com", "-H", "x-account-id: in-asha"}, "/shop/cart");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("HTTP/2 503"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x-regiongate-reason: no-allowed-datacenter-up"), std::string::npos) << r.out;
  ASSERT_EQ(gateway_->stop(SIGTERM), 0);
  std::ifstream in(log);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["status"], 503);
  EXPECT_EQ(j["reason"], "no-allowed-datacenter-up");
  EXPECT_TRUE(j["datacenter"].is_null());
  EXPECT_EQ(j["service"], "shop");
}

// What the access log keeps of a request is the operator's choice: here the
// whole path and the account as an HMAC under the operator's key (checked
// against Python's hmac module, an independent implementation).
TEST_F(WireTest, TheAccessLogKeepsThePathAndAHashedAccountAsConfigured) {
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  const std::string log = (dir_ / "access.log").string();
  const std::string key = (dir_ / "log.key").string();
  std::ofstream(key) << "a secret of thirty-two bytes!!!!";
  ASSERT_NO_FATAL_FAILURE(start_gateway(
      "2015-01-15T00:00:00Z", "",
      "{file: " + log + ", path: full, account: hash, account_hash_key: " + key + "}"));
  ProcessResult r = curl({"-H", "host: api.example.com", "-H", "x-account-id: in-asha"},
                         "/shop/cart?coupon=xyz");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(gateway_->stop(SIGTERM), 0);
  std::ifstream in(log);
  std::string text;
  ASSERT_TRUE(std::getline(in, text));
  nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/shop/cart?coupon=xyz");
  ProcessResult expected = run_process(
      {"/usr/bin/python3", "-c",
       "import hmac,hashlib,sys; k=open(sys.argv[1],'rb').read(); "
       "print('hmac-sha256:'+hmac.new(k,b'in-asha',hashlib.sha256).hexdigest()[:32])",
       key});
  ASSERT_EQ(expected.exit_code, 0) << expected.err;
  EXPECT_EQ(j["account"], expected.out.substr(0, expected.out.find('\n')));
  EXPECT_EQ(text.find("in-asha"), std::string::npos) << text;  // the id itself is nowhere
}

}  // namespace
}  // namespace regiongate::testing
