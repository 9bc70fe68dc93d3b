#pragma once
// A gateway on loopback with real origins: copies examples/ to a temp dir,
// points every data centre at an address of its own that refuses
// connections (a bound, non-listening socket the test holds until
// TearDown), starts nghttpd (Debian's nghttp2-server) on a port of its own
// (port 0, read back from /proc) as the origin of the data centres a test
// asks for and points their endpoints there, and starts `regiongate serve`
// in front, all stopped by PID at the end. No port is ever found by binding
// a socket and closing it (tests/integration/ports.h).
//
// The gateway reads the endpoints once: start origins (and call
// set_endpoint) before start_gateway.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/background_process.h"
#include "tests/integration/ports.h"
#include "tests/integration/run_process.h"
#include "tests/integration/wait_until.h"

namespace regiongate::testing {

class GatewayFixture : public ::testing::Test {
 protected:
  static constexpr const char* kDataCenters[] = {"beijing",    "singapore", "oregon",
                                                 "california", "mumbai",    "sao-paulo"};

  void SetUp() override;
  void TearDown() override;

  // Starts an nghttpd origin for `dc`, serving `docroot()` (verbose, so the
  // test can read which requests and headers reached it), on a port of its
  // own, and points `dc`'s endpoint at it (ports_[dc] is then that port).
  void start_origin(const std::string& dc, const std::vector<std::string>& extra_args = {});
  // An nghttpd origin named `name` bound to one address, on `port` (0: a
  // port of its own). Returns the port it listens on (0, with a test
  // failure, when it does not). A test may run several on one port at
  // different loopback addresses, as DNS records do: the port of a socket
  // the test holds on 127.0.0.1 (a data centre's, or hold_dead_port()'s) is
  // one no other test is given.
  int start_origin_on(const std::string& name, const std::string& address, int port = 0);
  // A normalising python3-h2 origin (python_peers.h) for `dc`, on a port it
  // chose, its endpoint pointed at it. `extra`: "--silent", or nothing.
  void start_normalising_origin(const std::string& dc, const std::string& extra = "");
  // Points `dc`'s endpoint at `authority` ("name.test:port") instead (the
  // text replaces "127.0.0.1:<ports_[dc]>" in datacenters.yaml, so it may
  // be a list of endpoints).
  void set_endpoint(const std::string& dc, const std::string& authority);
  // The same as start_origin over TLS with this certificate.
  void start_tls_origin(const std::string& dc, const std::string& cert, const std::string& key);
  // Holds one more address that refuses connections, for the rest of the
  // test: a bound, non-listening socket on `address`:`port` (0: a port the
  // kernel chooses). Returns its port; 0 when it cannot be bound (the port
  // is taken), without a test failure: the caller decides.
  int hold_dead_port(const std::string& address = "127.0.0.1", int port = 0);
  // Kills `dc`'s origin (SIGKILL, waited for) and holds its port at once,
  // dead, for the rest of the test, when it can be bound. Freed, the port could be given to an
  // origin another test starts, and this test's gateway would reach that
  // one: seen when StreamTest.AnOriginThatDiesMidBody... ran beside
  // StreamTest.ARequestPastTheHeaderLimit..., and each saw the other's.
  void stop_origin(const std::string& dc);
  // Starts the gateway, pinned at `now`, with `extra_server` appended to the
  // server section.
  // `now` empty: the system clock.
  void start_gateway(const std::string& now, const std::string& extra_server = "",
                     const std::string& access_log = "off");

  // curl with HTTP/2 prior knowledge to the gateway; -i output. The caller
  // checks exit_code.
  ProcessResult curl(const std::vector<std::string>& args, const std::string& path);
  // curl (HTTP/1.1) to the gateway's admin listener (always on, on a port
  // of its own); -i output. The caller checks exit_code.
  ProcessResult admin(const std::string& path, const std::vector<std::string>& args = {});
  // /metrics as parsed by the Prometheus client's parser (read_metrics.py:
  // {family: {type, help, samples: [{name, labels, value}]}}); a test
  // failure when it does not parse.
  nlohmann::json metrics();
  // Raw bytes to 127.0.0.1:`port` (raw_tcp.py): {closed, seconds, received}.
  // `half_close`: shut the sending side after them.
  nlohmann::json raw_tcp(const std::string& port, const std::string& bytes, bool half_close);
  // SIGHUP to the gateway, then waits (10 s at most) for one more line of
  // its output matching "regiongate: " + `outcome_regex` (how a reload
  // ended: "reloaded ", "reload rejected"), and returns that line ("" with
  // a test failure when none comes).
  std::string reload_and_wait(const std::string& outcome_regex);
  // How many requests the origin of `dc` has received so far.
  int requests_seen_by(const std::string& dc);
  std::string origin_log(const std::string& dc);

  std::filesystem::path dir_;
  std::filesystem::path docroot() const { return dir_ / "docroot"; }
  // The port of each data centre's endpoint on 127.0.0.1: its held dead
  // socket's, until start_origin or start_tls_origin gives it the origin's.
  std::map<std::string, int> ports_;
  std::map<std::string, std::unique_ptr<BackgroundProcess>> origins_;
  std::unique_ptr<BackgroundProcess> gateway_;
  // Its worker threads (1: every connection shares one loop and one origin pool).
  int workers_ = 2;
  // Run before the gateway's own command line ({"/usr/bin/prlimit", ...}).
  std::vector<std::string> gateway_prefix_;
  std::string base_;
  std::string admin_base_;  // "http://127.0.0.1:<admin port>"

 private:
  void launch_nghttpd(const std::string& name, const std::string& address, int port,
                      const std::vector<std::string>& args, int* listening);
  void move_endpoint(const std::string& dc, int port);
  std::vector<std::unique_ptr<HeldSocket>> held_;  // closed in TearDown
};

// The sum of the samples named `sample` ("regiongate_requests_total",
// "regiongate_request_duration_seconds_count") whose labels include every
// one of `labels`; 0 when none.
double metric_value(const nlohmann::json& metrics, const std::string& sample,
                    const std::map<std::string, std::string>& labels = {});

// Replaces the `server:` section at the end of a copied configuration.
void set_server_section(const std::filesystem::path& config, const std::string& section);

}  // namespace regiongate::testing
