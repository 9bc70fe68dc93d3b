#pragma once
// A gateway on loopback with real origins: copies examples/ to a temp dir,
// points every data centre at its own free loopback port, starts nghttpd
// (Debian's nghttp2-server) as the origin of the data centres a test asks
// for, and `regiongate serve` in front, all stopped by PID at the end.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/background_process.h"
#include "tests/integration/run_process.h"

namespace regiongate::testing {

class GatewayFixture : public ::testing::Test {
 protected:
  static constexpr const char* kDataCenters[] = {"beijing",    "singapore", "oregon",
                                                 "california", "mumbai",    "sao-paulo"};

  void SetUp() override;
  void TearDown() override;

  // Starts an nghttpd origin for `dc`, serving `docroot()` (verbose, so the
  // test can read which requests and headers reached it).
  void start_origin(const std::string& dc, const std::vector<std::string>& extra_args = {});
  // An nghttpd origin named `name` bound to one address (a test may run
  // several on one port at different loopback addresses, as DNS records do).
  void start_origin_on(const std::string& name, const std::string& address, int port);
  // Points `dc`'s endpoint at `authority` ("name.test:port") instead.
  void set_endpoint(const std::string& dc, const std::string& authority);
  // The same over TLS with this certificate.
  void start_tls_origin(const std::string& dc, const std::string& cert, const std::string& key);
  // Starts the gateway, pinned at `now`, with `extra_server` appended to the
  // server section.
  void start_gateway(const std::string& now, const std::string& extra_server = "",
                     const std::string& access_log = "off");

  // curl with HTTP/2 prior knowledge to the gateway; -i output.
  ProcessResult curl(const std::vector<std::string>& args, const std::string& path);
  // How many requests the origin of `dc` has received so far.
  int requests_seen_by(const std::string& dc);
  std::string origin_log(const std::string& dc);

  std::filesystem::path dir_;
  std::filesystem::path docroot() const { return dir_ / "docroot"; }
  std::map<std::string, int> ports_;
  std::map<std::string, std::unique_ptr<BackgroundProcess>> origins_;
  std::unique_ptr<BackgroundProcess> gateway_;
  std::string base_;
};

// A free TCP port on 127.0.0.1 (bound once and released).
int free_port();
// Replaces the `server:` section at the end of a copied configuration.
void set_server_section(const std::filesystem::path& config, const std::string& section);

}  // namespace regiongate::testing
