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
#include <thread>
#include <vector>

#include "tests/integration/ports.h"

extern char** environ;

namespace regiongate::testing {
namespace {

constexpr const char* kDnsmasq = "/usr/sbin/dnsmasq";

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
  for (int attempt = 0; attempt < 20 && pid_ <= 0; ++attempt) start(ttl);
}

DnsTestServer::~DnsTestServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  if (held_udp_ >= 0) close(held_udp_);
  if (held_tcp_ >= 0) close(held_tcp_);
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
  // dnsmasq cannot bind port 0 for DNS (-p 0 disables it): a port chosen at
  // random, then confirmed below by PID (another one tried if it failed).
  port_ = choose_unassigned_port();
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
      "--log-queries",  // for queries()
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
  // Gone when it could not bind the port (or failed): retry with another.
  // Ready once the kernel says this very process holds the port, UDP and
  // TCP, and it answers: whatever answers there then is this dnsmasq.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool holds = false;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      std::ifstream log(log_path_);
      std::stringstream ss;
      ss << log.rdbuf();
      error_ = "dnsmasq exited: " + ss.str();
      return false;
    }
    if (!holds) {
      const SocketAddress mine{"127.0.0.1", port_};
      auto has = [&](SocketKind kind) {
        for (const SocketAddress& a : sockets_of(pid, kind)) {
          if (a == mine) return true;
        }
        return false;
      };
      holds = has(SocketKind::kUdp) && has(SocketKind::kTcpListening);
      if (!holds) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a condition
        continue;
      }
    }
    if (answers(port_)) {  // waits up to 50 ms for the answer
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

int DnsTestServer::queries(const std::string& name) const {
  std::ifstream log(log_path_);
  const std::string wanted = "query[A] " + name + " from ";
  int n = 0;
  for (std::string line; std::getline(log, line);) {
    if (line.find(wanted) != std::string::npos) ++n;
  }
  return n;
}

bool DnsTestServer::stop() {
  if (pid_ <= 0) return held_udp_ >= 0;
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  // The port stays this test's, answering nothing: a UDP socket bound to it
  // and connected elsewhere (so the kernel still answers queries to it with
  // port unreachable, as for a closed port) and a TCP socket bound, never
  // listening (connections refused).
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port_));
  sockaddr_in elsewhere = a;
  elsewhere.sin_port = htons(9);  // discard: nothing is ever sent there
  int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool held = udp >= 0 && tcp >= 0 && bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
              connect(udp, reinterpret_cast<sockaddr*>(&elsewhere), sizeof elsewhere) == 0 &&
              bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (!held) {
    error_ = "the stopped server's port " + std::to_string(port_) +
             " could not be held: another process may answer there";
    if (udp >= 0) close(udp);
    if (tcp >= 0) close(tcp);
    return false;
  }
  held_udp_ = udp;
  held_tcp_ = tcp;
  return true;
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
