#include "tests/integration/gateway_fixture.h"

#include "tests/integration/python_peers.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <thread>

namespace regiongate::testing {

void set_server_section(const std::filesystem::path& config, const std::string& section) {
  std::ifstream in(config);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  in.close();
  // examples/regiongate.yaml ends with its server section.
  auto at = text.find("\nserver:");
  if (at != std::string::npos) text.resize(at + 1);
  std::ofstream(config) << text << section;
}

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

// The lines of `text` that match `pattern`.
std::vector<std::string> lines_matching(const std::string& text, const std::regex& pattern) {
  std::vector<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), pattern), end; it != end; ++it) {
    out.push_back(it->str());
  }
  return out;
}

// Replaces "127.0.0.1:<from>" (the whole port) with `to` in datacenters.yaml.
void replace_endpoint(const std::filesystem::path& dcs_file, int from, const std::string& to) {
  std::string dcs = read_file(dcs_file);
  dcs = std::regex_replace(dcs, std::regex("127\\.0\\.0\\.1:" + std::to_string(from) + "\\b"), to);
  std::ofstream(dcs_file) << dcs;
}

}  // namespace

void GatewayFixture::SetUp() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  dir_ = std::filesystem::temp_directory_path() /
         ("regiongate-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir_);
  std::filesystem::copy(REGIONGATE_SOURCE_DIR "/examples", dir_,
                        std::filesystem::copy_options::recursive);
  // Every data centre at an address of its own that refuses connections
  // until a test starts its origin (which then gets a port of its own).
  std::string dcs = read_file(dir_ / "datacenters.yaml");
  for (int i = 0; i < 6; ++i) {
    int port = hold_dead_port();
    ASSERT_NE(port, 0) << "cannot hold a port on 127.0.0.1";
    ports_[kDataCenters[i]] = port;
    dcs =
        std::regex_replace(dcs, std::regex("127\\.0\\.0\\.1:1810" + std::to_string(i + 1) + "\\b"),
                           "127.0.0.1:" + std::to_string(port));
  }
  std::ofstream(dir_ / "datacenters.yaml") << dcs;
  std::filesystem::create_directories(docroot() / "shop");
  std::filesystem::create_directories(docroot() / "cloud");
  std::ofstream(docroot() / "shop" / "cart") << "the cart\n";
}

void GatewayFixture::TearDown() {
  gateway_.reset();
  origins_.clear();
  held_.clear();
  std::filesystem::remove_all(dir_);
}

int GatewayFixture::hold_dead_port(const std::string& address, int port) {
  auto socket = std::make_unique<HeldSocket>(address, port);
  if (!socket->ok()) return 0;
  int got = socket->port();
  held_.push_back(std::move(socket));
  return got;
}

void GatewayFixture::stop_origin(const std::string& dc) {
  origins_.erase(dc);
  // When it cannot be bound, something holds it still: the test's own dead
  // socket (an origin started on a held port) or the kernel, for a while.
  auto socket = std::make_unique<HeldSocket>("127.0.0.1", ports_.at(dc), SOCK_STREAM, true);
  if (socket->ok()) held_.push_back(std::move(socket));
}

// Starts nghttpd as origins_[name] on `address`:`port` and waits until the
// kernel says that this very process listens there (a port of 0: wherever
// it got); *listening is that port, 0 with a failure otherwise.
void GatewayFixture::launch_nghttpd(const std::string& name, const std::string& address, int port,
                                    const std::vector<std::string>& args, int* listening) {
  *listening = 0;
  std::vector<std::string> argv = {"/usr/sbin/nghttpd", "-v", "--address=" + address, "-d",
                                   docroot().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  // The port comes after the options (and before a TLS key and certificate).
  auto at = std::find(argv.begin(), argv.end(), std::string("{port}"));
  if (at != argv.end()) {
    *at = std::to_string(port);
  } else {
    argv.push_back(std::to_string(port));
  }
  origins_[name] = std::make_unique<BackgroundProcess>(argv);
  int got = wait_for_socket(origins_[name]->pid(), SocketKind::kTcpListening, address, port);
  ASSERT_NE(got, 0) << "nghttpd " << name << " does not listen on " << authority(address, port)
                    << ": " << origins_[name]->output();
  *listening = got;
}

void GatewayFixture::move_endpoint(const std::string& dc, int port) {
  replace_endpoint(dir_ / "datacenters.yaml", ports_.at(dc), "127.0.0.1:" + std::to_string(port));
  ports_[dc] = port;
}

void GatewayFixture::start_origin(const std::string& dc, const std::vector<std::string>& extra_args) {
  ASSERT_FALSE(gateway_) << "start_origin(" << dc << ") after start_gateway: the gateway has "
                         << "read the endpoints already";
  ASSERT_TRUE(ports_.count(dc)) << dc;
  // Bound to 127.0.0.1 only: a wildcard bind would also take ::1 on this
  // port, which a test running in parallel may use as a dead address.
  std::vector<std::string> args = {"--no-tls"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  int port = 0;
  ASSERT_NO_FATAL_FAILURE(launch_nghttpd(dc, "127.0.0.1", 0, args, &port));
  move_endpoint(dc, port);
}

int GatewayFixture::start_origin_on(const std::string& name, const std::string& address, int port) {
  int listening = 0;
  launch_nghttpd(name, address, port, {"--no-tls"}, &listening);
  return listening;
}

void GatewayFixture::start_normalising_origin(const std::string& dc, const std::string& extra) {
  std::string port;
  origins_[dc] = start_python_origin(dc, &port, extra);
  ASSERT_FALSE(port.empty());
  set_endpoint(dc, "127.0.0.1:" + port);
}

void GatewayFixture::set_endpoint(const std::string& dc, const std::string& authority) {
  ASSERT_FALSE(gateway_) << "set_endpoint(" << dc << ") after start_gateway: the gateway has "
                         << "read the endpoints already";
  replace_endpoint(dir_ / "datacenters.yaml", ports_.at(dc), authority);
}

void GatewayFixture::start_tls_origin(const std::string& dc, const std::string& cert,
                                      const std::string& key) {
  ASSERT_FALSE(gateway_) << "start_tls_origin(" << dc << ") after start_gateway: the gateway "
                         << "has read the endpoints already";
  ASSERT_TRUE(ports_.count(dc)) << dc;
  int port = 0;
  ASSERT_NO_FATAL_FAILURE(launch_nghttpd(dc, "127.0.0.1", 0, {"{port}", key, cert}, &port));
  move_endpoint(dc, port);
}

void GatewayFixture::start_gateway(const std::string& now, const std::string& extra_server,
                                   const std::string& access_log) {
  set_server_section(dir_ / "regiongate.yaml",
                     "server:\n  workers: " + std::to_string(workers_) + "\n  access_log: " + access_log +
                         "\n  admin: {address: \"127.0.0.1:0\"}\n"
                         "  listen:\n    - address: 127.0.0.1:0\n" + extra_server);
  std::vector<std::string> argv = {REGIONGATE_BINARY, "serve", "--config",
                                   (dir_ / "regiongate.yaml").string()};
  if (!now.empty()) argv.insert(argv.end(), {"--now", now});  // empty: the system clock
  argv.insert(argv.begin(), gateway_prefix_.begin(), gateway_prefix_.end());
  gateway_ = std::make_unique<BackgroundProcess>(argv);
  auto port = gateway_->wait_for(std::regex(R"(listening on cleartext 127\.0\.0\.1:(\d+))"));
  ASSERT_TRUE(port) << gateway_->output();
  base_ = "http://127.0.0.1:" + *port;
  auto admin_port = gateway_->wait_for(std::regex(R"(admin listening on 127\.0\.0\.1:(\d+))"));
  ASSERT_TRUE(admin_port) << gateway_->output();
  admin_base_ = "http://127.0.0.1:" + *admin_port;
}

ProcessResult GatewayFixture::admin(const std::string& path, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-s", "-i", "--max-time", "20"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(admin_base_ + path);
  return run_process(argv);
}

nlohmann::json GatewayFixture::metrics() {
  ProcessResult r = run_process({"/usr/bin/python3", REGIONGATE_SOURCE_DIR "/tests/integration/read_metrics.py",
                                 admin_base_ + "/metrics"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  if (r.exit_code != 0) return nlohmann::json::object();
  return nlohmann::json::parse(r.out);
}

nlohmann::json GatewayFixture::raw_tcp(const std::string& port, const std::string& bytes,
                                       bool half_close) {
  std::vector<std::string> argv = {"/usr/bin/python3",
                                   REGIONGATE_SOURCE_DIR "/tests/integration/raw_tcp.py", port, bytes};
  if (half_close) argv.push_back("--half-close");
  ProcessResult r = run_process(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return {{"closed", false}, {"seconds", 0}, {"received", ""}};
  return nlohmann::json::parse(r.out);
}

double metric_value(const nlohmann::json& metrics, const std::string& sample,
                    const std::map<std::string, std::string>& labels) {
  double sum = 0;
  for (const auto& [name, family] : metrics.items()) {
    for (const auto& s : family["samples"]) {
      if (s["name"] != sample) continue;
      bool match = true;
      for (const auto& [k, v] : labels) {
        if (!s["labels"].contains(k) || s["labels"][k] != v) match = false;
      }
      if (match) sum += s["value"].get<double>();
    }
  }
  return sum;
}

ProcessResult GatewayFixture::curl(const std::vector<std::string>& args, const std::string& path) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-s", "-i", "--max-time", "20",
                                   "--http2-prior-knowledge"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(base_ + path);
  return run_process(argv);
}

std::string GatewayFixture::reload_and_wait(const std::string& outcome_regex) {
  const std::regex pattern("regiongate: " + outcome_regex + "[^\n]*");
  const std::size_t before = lines_matching(gateway_->output(), pattern).size();
  EXPECT_EQ(kill(gateway_->pid(), SIGHUP), 0);
  std::vector<std::string> now;
  if (wait_until([&] { return (now = lines_matching(gateway_->output(), pattern)).size() > before; })) {
    return now.back();
  }
  ADD_FAILURE() << "no new '" << outcome_regex << "' line:\n" << gateway_->output();
  return "";
}

std::string GatewayFixture::origin_log(const std::string& dc) {
  auto it = origins_.find(dc);
  return it == origins_.end() ? std::string() : it->second->output();
}

int GatewayFixture::requests_seen_by(const std::string& dc) {
  std::string log = origin_log(dc);
  int n = 0;
  for (std::size_t at = log.find(":method:"); at != std::string::npos;
       at = log.find(":method:", at + 1)) {
    ++n;
  }
  return n;
}

}  // namespace regiongate::testing
