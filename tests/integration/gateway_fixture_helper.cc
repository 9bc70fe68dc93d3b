#include "tests/integration/gateway_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

namespace {

// True once something accepts connections on the address and port.
bool wait_listening(int port, const std::string& address = "127.0.0.1") {
  for (int i = 0; i < 200; ++i) {
    sockaddr_storage ss{};
    socklen_t len;
    if (address.find(':') != std::string::npos) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(static_cast<std::uint16_t>(port));
      inet_pton(AF_INET6, address.c_str(), &a->sin6_addr);
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(static_cast<std::uint16_t>(port));
      inet_pton(AF_INET, address.c_str(), &a->sin_addr);
      len = sizeof *a;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
    close(fd);
    if (ok) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

}  // namespace

void GatewayFixture::SetUp() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  dir_ = std::filesystem::temp_directory_path() /
         ("regiongate-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir_);
  std::filesystem::copy(REGIONGATE_SOURCE_DIR "/examples", dir_,
                        std::filesystem::copy_options::recursive);
  // Every data centre on a port of its own; none listening until started.
  std::string dcs = read_file(dir_ / "datacenters.yaml");
  for (int i = 0; i < 6; ++i) {
    int port = free_port();
    ports_[kDataCenters[i]] = port;
    dcs = std::regex_replace(dcs, std::regex("127\\.0\\.0\\.1:1810" + std::to_string(i + 1)),
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
  std::filesystem::remove_all(dir_);
}

void GatewayFixture::start_origin(const std::string& dc, const std::vector<std::string>& extra_args) {
  int port = ports_.at(dc);
  // Bound to 127.0.0.1 only: a wildcard bind would also take ::1 on this
  // port, which a test running in parallel may use as a dead address.
  std::vector<std::string> argv = {"/usr/sbin/nghttpd", "--no-tls", "-v", "--address=127.0.0.1",
                                   "-d", docroot().string()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  argv.push_back(std::to_string(port));
  origins_[dc] = std::make_unique<BackgroundProcess>(argv);
  ASSERT_TRUE(wait_listening(port)) << "nghttpd for " << dc << ": " << origins_[dc]->output();
}

void GatewayFixture::start_origin_on(const std::string& name, const std::string& address,
                                     int port) {
  origins_[name] = std::make_unique<BackgroundProcess>(std::vector<std::string>{
      "/usr/sbin/nghttpd", "--no-tls", "-v", "--address=" + address, "-d", docroot().string(),
      std::to_string(port)});
  ASSERT_TRUE(wait_listening(port, address)) << "nghttpd " << name << ": " << origins_[name]->output();
}

void GatewayFixture::set_endpoint(const std::string& dc, const std::string& authority) {
  std::string dcs = read_file(dir_ / "datacenters.yaml");
  dcs = std::regex_replace(dcs, std::regex("127\\.0\\.0\\.1:" + std::to_string(ports_.at(dc)) + "\\b"),
                           authority);
  std::ofstream(dir_ / "datacenters.yaml") << dcs;
}

void GatewayFixture::start_tls_origin(const std::string& dc, const std::string& cert,
                                      const std::string& key) {
  int port = ports_.at(dc);
  origins_[dc] = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{"/usr/sbin/nghttpd", "-v", "--address=127.0.0.1", "-d",
                               docroot().string(), std::to_string(port), key, cert});
  ASSERT_TRUE(wait_listening(port)) << "nghttpd for " << dc << ": " << origins_[dc]->output();
}

void GatewayFixture::start_gateway(const std::string& now, const std::string& extra_server,
                                   const std::string& access_log) {
  set_server_section(dir_ / "regiongate.yaml",
                     "server:\n  workers: 2\n  access_log: " + access_log +
                         "\n  listen:\n    - address: 127.0.0.1:0\n" + extra_server);
  gateway_ = std::make_unique<BackgroundProcess>(std::vector<std::string>{
      REGIONGATE_BINARY, "serve", "--config", (dir_ / "regiongate.yaml").string(), "--now", now});
  auto port = gateway_->wait_for(std::regex(R"(listening on cleartext 127\.0\.0\.1:(\d+))"));
  ASSERT_TRUE(port) << gateway_->output();
  base_ = "http://127.0.0.1:" + *port;
}

ProcessResult GatewayFixture::curl(const std::vector<std::string>& args, const std::string& path) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-s", "-i", "--max-time", "20",
                                   "--http2-prior-knowledge"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(base_ + path);
  return run_process(argv);
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
