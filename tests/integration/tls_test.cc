// TLS on both sides: listeners with ALPN h2 and SNI, their certificates
// rotated by reload; origins verified against a CA. Certificates are made by
// the openssl command for each test.

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/python_peers.h"
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
  void start_tls_gateway() { start_tls_gateway_with({api_, cloud_}); }
  // The same with these certificates (the first the default).
  void start_tls_gateway_with(const std::vector<TestCertificate>& certificates) {
    std::string listener = "    - address: 127.0.0.1:0\n      tls:\n        certificates:\n";
    for (const TestCertificate& c : certificates) {
      listener += "          - {cert: " + c.cert + ", key: " + c.key + "}\n";
    }
    start_gateway("2015-01-15T00:00:00Z", listener);
    auto port = gateway_->wait_for(std::regex(R"(listening on tls 127\.0\.0\.1:(\d+))"));
    ASSERT_TRUE(port) << gateway_->output();
    tls_port_ = *port;
  }

  // The curl command line for `paths` over TLS, verifying against `ca` (the
  // test CA when empty), api.example.com resolved to loopback.
  std::vector<std::string> tls_curl_argv(const std::vector<std::string>& paths,
                                         const std::string& ca = "",
                                         const std::string& host = "api.example.com") {
    std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "-i", "--max-time", "10",
                                     "--cacert", ca.empty() ? certs_->ca() : ca, "--resolve",
                                     host + ":" + tls_port_ + ":127.0.0.1", "-H",
                                     "x-account-id: in-asha", "-w",
                                     "\nhttp_version=%{http_version} connects=%{num_connects}\n"};
    for (const std::string& p : paths) argv.push_back("https://" + host + ":" + tls_port_ + p);
    return argv;
  }
  // curl over TLS, verifying against the test CA, `host` resolved to loopback.
  ProcessResult tls_curl(const std::string& host, const std::string& path,
                         std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = tls_curl_argv({}, "", host);
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back("https://" + host + ":" + tls_port_ + path);
    return run_process(argv);
  }
  // A new handshake that trusts only `ca`, and the request on it: curl's exit
  // status (60: the certificate presented is not signed by `ca`).
  int new_handshake_trusting(const std::string& ca) {
    ProcessResult r = run_process(tls_curl_argv({"/shop/cart"}, ca));
    if (r.exit_code == 0) {
      EXPECT_NE(r.out.find("HTTP/2 200"), std::string::npos) << r.out;
    }
    return r.exit_code;
  }
  // The files a TLS listener is configured with, which a test replaces as an
  // operator does: complete new files renamed over them.
  TestCertificate live_files() const {
    return {(dir_ / "live.pem").string(), (dir_ / "live.key").string()};
  }
  void rename_over(const std::string& from_file, const std::string& to_file) {
    std::filesystem::copy_file(from_file, to_file + ".new",
                               std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(to_file + ".new", to_file);
  }
  void install(const TestCertificate& c) {
    rename_over(c.cert, live_files().cert);
    rename_over(c.key, live_files().key);
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

// Certificate rotation: the listener's files replaced by new ones signed by
// another CA, then SIGHUP. New handshakes get the new certificate; a
// connection opened before keeps its own and goes on serving requests.
TEST_F(TlsTest, AReloadRotatesTheCertificateForNewHandshakes) {
  TestCertificates next_ca(dir_ / "next-ca");
  const TestCertificate next = next_ca.issue("api-next", {"api.example.com"});
  install(api_);
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_tls_gateway_with({live_files()}));
  // A connection opened on the old certificate: the origin holds its first
  // request (held/) until SIGUSR1, then curl sends the second on it.
  BackgroundProcess open_connection(tls_curl_argv({"/shop/held/1", "/shop/cart"}));
  ASSERT_TRUE(wait_until([&] { return origin_requests(origin_log("singapore")).size() == 1; }))
      << open_connection.output();

  install(next);
  std::string line = reload_and_wait("reloaded ");
  EXPECT_NE(line.find("snapshot 2:"), std::string::npos) << line;
  EXPECT_NE(line.find("certificates of 1 TLS listener(s) loaded"), std::string::npos) << line;
  EXPECT_EQ(new_handshake_trusting(next_ca.ca()), 0);
  EXPECT_EQ(new_handshake_trusting(certs_->ca()), 60);  // not the old certificate any more

  ASSERT_EQ(kill(origins_["singapore"]->pid(), SIGUSR1), 0);
  EXPECT_EQ(open_connection.stop(0), 0) << open_connection.output();
  // Both answered, the second on the connection of the first (no new
  // connect), so with the old certificate, which curl verified against the old CA.
  const std::string out = open_connection.output();
  std::size_t answered = 0;
  for (auto at = out.find("HTTP/2 200"); at != std::string::npos; at = out.find("HTTP/2 200", at + 1)) {
    ++answered;
  }
  EXPECT_EQ(answered, 2u) << out;
  EXPECT_NE(out.find("http_version=2 connects=1"), std::string::npos) << out;
  EXPECT_NE(out.find("http_version=2 connects=0"), std::string::npos) << out;
  EXPECT_NE(out.find("\"path\": \"/shop/cart\""), std::string::npos) << out;
  EXPECT_EQ(gateway_->stop(SIGTERM), 0) << gateway_->output();
}

// A connection accepted before a reload whose handshake comes after it: the
// SSL was made from the old context, whose SNI callback runs then, so the
// old context must outlive the reload (ASan would see it freed). It
// handshakes with the certificate in force when it was accepted.
TEST_F(TlsTest, AHandshakeBegunBeforeAReloadFinishesOnTheOldCertificate) {
  TestCertificates next_ca(dir_ / "next-ca");
  const TestCertificate next = next_ca.issue("api-next", {"api.example.com"});
  install(api_);
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  // Two certificates: the SNI callback looks through the context's list.
  ASSERT_NO_FATAL_FAILURE(start_tls_gateway_with({live_files(), cloud_}));
  BackgroundProcess late({"/usr/bin/python3",
                          REGIONGATE_SOURCE_DIR "/tests/integration/late_handshake_client.py",
                          tls_port_, certs_->ca(), "api.example.com"});
  ASSERT_TRUE(late.wait_for(std::regex("connected"))) << late.output();
  // Accepted: the gateway holds the connection (the SSL is made at accept).
  ASSERT_TRUE(wait_until([&] {
    for (const SocketAddress& a : sockets_of(gateway_->pid(), SocketKind::kTcpEstablished)) {
      if (std::to_string(a.port) == tls_port_) return true;
    }
    return false;
  })) << gateway_->output();

  install(next);
  reload_and_wait("reloaded ");
  EXPECT_EQ(new_handshake_trusting(next_ca.ca()), 0);
  ASSERT_EQ(kill(late.pid(), SIGUSR1), 0);
  EXPECT_EQ(late.stop(0), 0) << late.output();
  EXPECT_NE(late.output().find("handshake h2 api\n"), std::string::npos) << late.output();
  EXPECT_EQ(gateway_->stop(SIGTERM), 0) << gateway_->output();
}

// A certificate that does not load, or a key that does not match it,
// rejects the whole reload, naming the file; the certificate in force goes
// on serving new handshakes.
TEST_F(TlsTest, ACertificateThatDoesNotLoadRejectsTheReload) {
  install(api_);
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_tls_gateway_with({live_files()}));
  const std::string broken = (dir_ / "broken.pem").string();
  std::ofstream(broken) << "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";

  rename_over(broken, live_files().cert);
  std::string line = reload_and_wait("reload rejected");
  EXPECT_NE(line.find("certificate or key does not load; snapshot 1 keeps serving"), std::string::npos)
      << line;
  EXPECT_NE(gateway_->output().find("cannot load certificate '" + live_files().cert + "'"),
            std::string::npos)
      << gateway_->output();
  EXPECT_EQ(new_handshake_trusting(certs_->ca()), 0);

  // A good certificate with another certificate's key.
  rename_over(api_.cert, live_files().cert);
  rename_over(cloud_.key, live_files().key);
  line = reload_and_wait("reload rejected");
  const std::string mismatch = "cannot load key '" + live_files().key + "' for certificate '" +
                              live_files().cert + "': ";
  const std::string out = gateway_->output();
  ASSERT_NE(out.find(mismatch), std::string::npos) << out;
  EXPECT_NE(out.find("key values mismatch", out.find(mismatch)), std::string::npos) << out;
  EXPECT_EQ(new_handshake_trusting(certs_->ca()), 0);

  // Mended: the next reload is snapshot 2.
  install(api_);
  line = reload_and_wait("reloaded ");
  EXPECT_NE(line.find("snapshot 2:"), std::string::npos) << line;
  EXPECT_EQ(new_handshake_trusting(certs_->ca()), 0);
  EXPECT_EQ(gateway_->stop(SIGTERM), 0) << gateway_->output();
}

// Files that are not what they should be: each rejects the reload at once,
// says what is wrong, and the running certificates keep serving. A FIFO
// would block OpenSSL's open, and an encrypted key have OpenSSL ask for its
// pass phrase on the terminal of a gateway started from one; either would
// stop the reload thread for good (reload_and_wait's deadline is 10 s).
TEST_F(TlsTest, AFifoOrAnEncryptedKeyRejectsTheReloadWithoutWaiting) {
  install(api_);
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_tls_gateway_with({live_files()}));

  const std::string fifo = (dir_ / "fifo.pem").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::filesystem::rename(fifo, live_files().cert);
  std::string line = reload_and_wait("reload rejected");
  EXPECT_NE(line.find("snapshot 1 keeps serving"), std::string::npos) << line;
  EXPECT_NE(gateway_->output().find("cannot load certificate '" + live_files().cert +
                                    "': the certificate file is not a regular file (a FIFO)"),
            std::string::npos)
      << gateway_->output();
  EXPECT_EQ(new_handshake_trusting(certs_->ca()), 0);

  rename_over(api_.cert, live_files().cert);
  const std::string encrypted = (dir_ / "encrypted.key").string();
  ProcessResult made = run_process({"/usr/bin/openssl", "pkey", "-in", api_.key, "-aes256",
                                    "-passout", "pass:secret", "-out", encrypted});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  rename_over(encrypted, live_files().key);
  line = reload_and_wait("reload rejected");
  EXPECT_NE(gateway_->output().find("cannot load key '" + live_files().key + "' for certificate '" +
                                    live_files().cert + "': the key is encrypted"),
            std::string::npos)
      << gateway_->output();
  EXPECT_EQ(new_handshake_trusting(certs_->ca()), 0);

  install(api_);
  line = reload_and_wait("reloaded ");
  EXPECT_NE(line.find("snapshot 2:"), std::string::npos) << line;
  EXPECT_EQ(gateway_->stop(SIGTERM), 0) << gateway_->output();
}

}  // namespace
}  // namespace regiongate::testing
