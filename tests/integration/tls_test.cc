// TLS on both sides: listeners with ALPN h2 and SNI, origins verified
// against a CA. Certificates are made by the openssl command for each test.

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/test_certs.h"

namespace regiongate::testing {
namespace {

class TlsTest : public GatewayFixture {
 protected:
  void SetUp() override {
    GatewayFixture::SetUp();
    certs_ = std::make_unique<TestCertificates>(dir_ / "certs");
    api_ = certs_->issue("api", {"api.example.com"});
    cloud_ = certs_->issue("cloud", {"*.cloud.example.com"});
    origin_ = certs_->issue("origin", {"origin.example.net", "IP:127.0.0.1"});
  }

  // Adds a TLS listener (api first: the default) and starts the gateway.
  void start_tls_gateway(const std::string& extra = "") {
    start_gateway("2015-01-15T00:00:00Z",
                  "    - address: 127.0.0.1:0\n      tls:\n        certificates:\n"
                  "          - {cert: " + api_.cert + ", key: " + api_.key + "}\n"
                  "          - {cert: " + cloud_.cert + ", key: " + cloud_.key + "}\n" + extra);
    auto port = gateway_->wait_for(std::regex(R"(listening on tls 127\.0\.0\.1:(\d+))"));
    ASSERT_TRUE(port) << gateway_->output();
    tls_port_ = *port;
  }

  // curl over TLS, verifying against the test CA, `host` resolved to loopback.
  ProcessResult tls_curl(const std::string& host, const std::string& path,
                         std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "-i", "--max-time", "10",
                                     "--cacert", certs_->ca(), "--resolve",
                                     host + ":" + tls_port_ + ":127.0.0.1", "-H",
                                     "x-account-id: in-asha", "-w", "\nhttp_version=%{http_version}\n"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("https://" + host + ":" + tls_port_ + path);
    return run_process(argv);
  }

  // Points singapore at a TLS endpoint with this SNI name.
  void singapore_over_tls(const std::string& sni) {
    std::ifstream in(dir_ / "datacenters.yaml");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    std::string plain = "127.0.0.1:" + std::to_string(ports_["singapore"]);
    text = std::regex_replace(text, std::regex("- " + plain),
                              "- {address: \"" + plain + "\", tls: true, sni: " + sni + "}");
    std::ofstream(dir_ / "datacenters.yaml") << text;
  }

  std::unique_ptr<TestCertificates> certs_;
  TestCertificate api_, cloud_, origin_;
  std::string tls_port_;
};

TEST_F(TlsTest, ServesHttp2OverTlsAndPicksTheCertificateBySni) {
  start_origin("singapore");
  start_tls_gateway();
  ProcessResult api = tls_curl("api.example.com", "/shop/cart");
  EXPECT_EQ(api.exit_code, 0) << api.err;
  EXPECT_NE(api.out.find("HTTP/2 200"), std::string::npos) << api.out;
  EXPECT_NE(api.out.find("http_version=2"), std::string::npos) << api.out;
  EXPECT_NE(api.out.find("x-regiongate-dc: singapore"), std::string::npos) << api.out;
  // A name only the second certificate covers: curl verifies it, so a wrong
  // certificate would fail the handshake.
  ProcessResult cloud = tls_curl("photos.cloud.example.com", "/cloud/none");
  EXPECT_EQ(cloud.exit_code, 0) << cloud.err;
  EXPECT_NE(cloud.out.find("x-regiongate-dc: singapore"), std::string::npos) << cloud.out;
}

TEST_F(TlsTest, RefusesClientsThatDoNotSpeakHttp2) {
  start_origin("singapore");
  start_tls_gateway();
  // ALPN offering only http/1.1: refused in the handshake.
  ProcessResult h1 = tls_curl("api.example.com", "/shop/cart", {"--http1.1"});
  EXPECT_EQ(h1.exit_code, 35) << "a failed handshake (35): " << h1.out << h1.err;
  EXPECT_NE(h1.err.find("no application protocol"), std::string::npos) << h1.err;
  // No ALPN at all: the handshake succeeds and the answer says why not.
  ProcessResult none = tls_curl("api.example.com", "/shop/cart", {"--http1.1", "--no-alpn"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_NE(none.out.find("HTTP/1.1 505"), std::string::npos) << none.out << none.err;
}

TEST_F(TlsTest, ForwardsToVerifiedTlsOrigins) {
  start_tls_origin("singapore", origin_.cert, origin_.key);
  singapore_over_tls("origin.example.net");
  start_gateway("2015-01-15T00:00:00Z", "  origin: {ca_file: " + certs_->ca() + "}\n");
  ProcessResult r = curl({"-H", "host: api.example.com", "-H", "x-account-id: in-asha"},
                         "/shop/cart");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("HTTP/2 200"), std::string::npos) << r.out << gateway_->output();
  EXPECT_NE(r.out.find("the cart"), std::string::npos) << r.out;
}

TEST_F(TlsTest, AnOriginThatFailsVerificationIsNotUsed) {
  start_tls_origin("singapore", origin_.cert, origin_.key);
  singapore_over_tls("origin.example.net");
  // Trusting only an unrelated CA: the handshake fails, and with no other
  // allowed data centre up the request fails closed.
  start_gateway("2015-01-15T00:00:00Z", "  origin: {ca_file: " + certs_->other_ca() + "}\n");
  ProcessResult r = curl({"-H", "host: api.example.com", "-H", "x-account-id: in-asha"},
                         "/shop/cart");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("HTTP/2 503"), std::string::npos) << r.out;
  EXPECT_EQ(requests_seen_by("singapore"), 0);
}

}  // namespace
}  // namespace regiongate::testing
