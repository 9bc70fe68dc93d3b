// `regiongate serve` on loopback, driven by real HTTP/2 clients (curl, nghttp).

#include <signal.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/integration/background_process.h"
#include "tests/integration/gateway_fixture.h"
#include "tests/integration/run_process.h"

namespace regiongate::testing {
namespace {

const std::string kBinary = REGIONGATE_BINARY;

// The example configuration as it is (its server section aside), every data
// centre at an address that refuses connections (GatewayFixture's), no
// origin: every request here is answered by the gateway itself.
class ServeTest : public GatewayFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(GatewayFixture::SetUp());
    set_server_section(dir_ / "regiongate.yaml",
                       "server:\n  workers: 2\n  listen:\n    - address: 127.0.0.1:0\n");
    gateway_ = std::make_unique<BackgroundProcess>(std::vector<std::string>{
        kBinary, "serve", "--config", (dir_ / "regiongate.yaml").string(), "--now",
        "2015-01-15T00:00:00Z"});
    auto port = gateway_->wait_for(std::regex(R"(listening on cleartext 127\.0\.0\.1:(\d+))"));
    ASSERT_TRUE(port) << gateway_->output();
    base_ = "http://127.0.0.1:" + *port;
  }

  // curl; returns headers and body, having checked that it exited 0.
  ProcessResult curl(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-s", "-i", "--max-time", "10"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = run_process(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r;
  }
};

TEST_F(ServeTest, RefusesWith451AndAReasonWhenTheCountryIsUnknown) {
  ProcessResult r = curl({"--http2-prior-knowledge", "-H", "host: api.example.com",
                          base_ + "/shop/cart"});
  EXPECT_NE(r.out.find("HTTP/2 451"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x-regiongate-reason: unknown-account-country"), std::string::npos);
  EXPECT_NE(r.out.find("\"reason\":\"unknown-account-country\""), std::string::npos);
}

TEST_F(ServeTest, ClientSuppliedInternalHeadersAreIgnored) {
  // Claiming a country does not make it so: the account is still unknown.
  ProcessResult r = curl({"--http2-prior-knowledge", "-H", "host: api.example.com", "-H",
                          "x-regiongate-country: IN", "-H", "x-regiongate-dc: mumbai",
                          base_ + "/shop/cart"});
  EXPECT_NE(r.out.find("HTTP/2 451"), std::string::npos) << r.out;
  // Nor does x-forwarded-for from an untrusted peer move the phone to India.
  r = curl({"--http2-prior-knowledge", "-H", "host: api.example.com", "-H",
            "x-forwarded-for: 127.1.0.5", base_ + "/shop/cart"});
  EXPECT_NE(r.out.find("unknown-account-country"), std::string::npos) << r.out;
}

TEST_F(ServeTest, UnknownServicesGet404) {
  ProcessResult r = curl({"--http2-prior-knowledge", "-H", "x-account-id: in-asha",
                          base_ + "/nothing-here"});
  EXPECT_NE(r.out.find("HTTP/2 404"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x-regiongate-reason: unknown-service"), std::string::npos);
}

TEST_F(ServeTest, Http1ClientsGetAnExplainedRefusal) {
  ProcessResult r = curl({"--http1.1", base_ + "/"});
  EXPECT_NE(r.out.find("HTTP/1.1 505"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("regiongate speaks HTTP/2 only"), std::string::npos);
}

TEST_F(ServeTest, ManyStreamsOnOneConnection) {
  ProcessResult r = run_process({"/usr/bin/h2load", "-n", "500", "-c", "2", "-m", "20",
                                 "-H", "host: api.example.com", base_ + "/shop/x"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("500 done"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("500 4xx"), std::string::npos) << r.out;  // all 451
}

TEST_F(ServeTest, StopsCleanlyOnSigterm) {
  EXPECT_EQ(gateway_->stop(SIGTERM), 0) << gateway_->output();
  EXPECT_NE(gateway_->output().find("regiongate: stopping"), std::string::npos);
}

}  // namespace
}  // namespace regiongate::testing
