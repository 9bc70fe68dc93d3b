#include "tests/proxy/dns/dns_test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace regiongate::testing {
namespace {

constexpr const char* kDnsmasq = "/usr/sbin/dnsmasq";

// A UDP port that was free a moment ago (dnsmasq may still lose it to a
// racing process: start() then retries with another).
int pick_udp_port() {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

// A query for "ready.test" A; any answer (NXDOMAIN included) means dnsmasq
// is serving.
bool answers(int port) {
  static const unsigned char kQuery[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                         5,    'r',  'e',  'a',  'd', 'y', 4, 't', 'e', 's', 't', 0,
                                         0,    1,    0,    1};
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  if (sendto(fd, kQuery, sizeof kQuery, 0, reinterpret_cast<sockaddr*>(&a), sizeof a) > 0) {
    pollfd p{fd, POLLIN, 0};
    unsigned char buf[512];
    if (poll(&p, 1, 50) == 1 && recv(fd, buf, sizeof buf, 0) >= 12 && buf[0] == 0x12) ok = true;
  }
  close(fd);
  return ok;
}

}  // namespace

DnsTestServer::DnsTestServer(const std::string& hosts, int ttl) {
  char tmpl[] = "/tmp/regiongate-dns-XXXXXX";
  if (!mkdtemp(tmpl)) {
    error_ = "mkdtemp failed";
    return;
  }
  dir_ = tmpl;
  hosts_path_ = dir_ + "/hosts";
  log_path_ = dir_ + "/dnsmasq.log";
  if (!write_hosts(hosts)) {
    error_ = "cannot write " + hosts_path_;
    return;
  }
  for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) start(ttl);
}

DnsTestServer::~DnsTestServer() {
  stop();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

bool DnsTestServer::write_hosts(const std::string& hosts) {
  // Write then rename: dnsmasq never reads a half-written file.
  std::string tmp = hosts_path_ + ".new";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << hosts;
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), hosts_path_.c_str()) == 0;
}

bool DnsTestServer::start(int ttl) {
  port_ = pick_udp_port();
  if (port_ == 0) {
    error_ = "no free UDP port";
    return false;
  }
  std::vector<std::string> args = {
      kDnsmasq,
      "--keep-in-foreground",
      "--conf-file=/dev/null",
      "--port=" + std::to_string(port_),
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      "--no-resolv",
      "--no-hosts",
      "--addn-hosts=" + hosts_path_,
      "--local=/test/",  // other .test names: NXDOMAIN, never forwarded
      "--local-ttl=" + std::to_string(ttl),
      "--pid-file=" + dir_ + "/pid",
      "--log-facility=" + log_path_,
  };
  if (geteuid() == 0) args.push_back("--user=root");  // keep reading the hosts file in dir_
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, kDnsmasq, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    error_ = "posix_spawn dnsmasq failed";
    return false;
  }
  // Ready when it answers; gone when it lost the port (or failed): retry.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      std::ifstream log(log_path_);
      std::stringstream ss;
      ss << log.rdbuf();
      error_ = "dnsmasq exited: " + ss.str();
      return false;
    }
    if (answers(port_)) {
      pid_ = pid;
      return true;
    }
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  error_ = "dnsmasq did not answer within 5 s";
  return false;
}

bool DnsTestServer::replace_hosts(const std::string& hosts) {
  if (!write_hosts(hosts)) return false;
  return pid_ > 0 && kill(pid_, SIGHUP) == 0;
}

void DnsTestServer::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

SilentUdpServer::SilentUdpServer() {
  fd_ = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port_ = ntohs(a.sin_port);
  }
}

SilentUdpServer::~SilentUdpServer() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace regiongate::testing
