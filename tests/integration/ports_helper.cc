#include "tests/integration/ports.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace regiongate::testing {
namespace {

// The inodes of the sockets `pid` holds ("socket:[12345]" links in
// /proc/PID/fd), in file descriptor order.
std::vector<unsigned long> socket_inodes(pid_t pid) {
  std::vector<std::pair<int, unsigned long>> found;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = opendir(dir.c_str());
  if (!d) return {};
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char target[64];
    ssize_t n = readlink((dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    unsigned long inode = 0;
    if (std::sscanf(target, "socket:[%lu]", &inode) == 1)
      found.push_back({std::atoi(e->d_name), inode});
  }
  closedir(d);
  std::sort(found.begin(), found.end());
  std::vector<unsigned long> out;
  for (const auto& [fd, inode] : found) out.push_back(inode);
  return out;
}

// "0100007F:1F90" (the kernel prints each 32-bit word of the address as a
// native integer in hex, the port in host order) -> {"127.0.0.1", 8080}.
bool parse_local_address(const std::string& field, SocketAddress* out) {
  auto colon = field.find(':');
  if (colon == std::string::npos) return false;
  std::string hex = field.substr(0, colon);
  char text[INET6_ADDRSTRLEN];
  if (hex.size() == 8) {
    in_addr a;
    a.s_addr = static_cast<std::uint32_t>(std::stoul(hex, nullptr, 16));
    inet_ntop(AF_INET, &a, text, sizeof text);
  } else if (hex.size() == 32) {
    in6_addr a;
    for (int i = 0; i < 4; ++i) {
      std::uint32_t word =
          static_cast<std::uint32_t>(std::stoul(hex.substr(i * 8, 8), nullptr, 16));
      std::memcpy(a.s6_addr + i * 4, &word, 4);
    }
    inet_ntop(AF_INET6, &a, text, sizeof text);
  } else {
    return false;
  }
  out->address = text;
  out->port = static_cast<int>(std::stoul(field.substr(colon + 1), nullptr, 16));
  return true;
}

// inode -> local address of every socket in /proc/net/<table> (and its
// IPv6 twin), keeping those in `state` ("" for any).
void read_table(const std::string& table, const std::string& state,
                std::unordered_map<unsigned long, SocketAddress>* out) {
  for (const std::string& name : {table, table + "6"}) {
    std::ifstream in("/proc/net/" + name);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      std::string sl, local, remote, st, queues, timer, retransmits, uid, timeout;
      unsigned long inode = 0;
      if (!(fields >> sl >> local >> remote >> st >> queues >> timer >> retransmits >> uid >>
            timeout >> inode)) {
        continue;
      }
      if (!state.empty() && st != state) continue;
      SocketAddress a;
      if (parse_local_address(local, &a)) (*out)[inode] = a;
    }
  }
}

}  // namespace

std::vector<SocketAddress> sockets_of(pid_t pid, SocketKind kind) {
  std::vector<unsigned long> inodes = socket_inodes(pid);
  if (inodes.empty()) return {};
  std::unordered_map<unsigned long, SocketAddress> table;
  if (kind == SocketKind::kTcpListening) {
    read_table("tcp", "0A", &table);  // TCP_LISTEN
  } else if (kind == SocketKind::kTcpEstablished) {
    read_table("tcp", "01", &table);  // TCP_ESTABLISHED
  } else {
    read_table("udp", "", &table);
  }
  std::vector<SocketAddress> out;
  for (unsigned long inode : inodes) {
    auto it = table.find(inode);
    if (it != table.end()) out.push_back(it->second);
  }
  return out;
}

bool process_running(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  char state = stat[paren + 2];
  return state != 'Z' && state != 'X';
}

int wait_for_socket(pid_t pid, SocketKind kind, const std::string& address, int port,
                    std::chrono::milliseconds deadline) {
  const std::string wanted = address.empty() ? "" : numeric_address(address);
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    for (const SocketAddress& a : sockets_of(pid, kind)) {
      if ((wanted.empty() || a.address == wanted) && (port == 0 || a.port == port)) return a.port;
    }
    if (!process_running(pid) || std::chrono::steady_clock::now() >= until) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polling a condition
  }
}

int choose_unassigned_port() {
  int low = 32768, high = 60999;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low >> high;
  int from = 1024, to = 65535;
  if (low - 1 - 10000 >= 1000) {
    from = 10000, to = low - 1;  // between the well-known services and the ephemeral range
  } else if (65535 - (high + 1) >= 1000) {
    from = high + 1;
  }
  static std::mt19937 random{std::random_device{}()};
  return std::uniform_int_distribution<int>(from, to)(random);
}

std::string numeric_address(const std::string& address) {
  char text[INET6_ADDRSTRLEN];
  in6_addr a6;
  in_addr a4;
  if (inet_pton(AF_INET, address.c_str(), &a4) == 1) {
    return inet_ntop(AF_INET, &a4, text, sizeof text);
  }
  if (inet_pton(AF_INET6, address.c_str(), &a6) == 1) {
    return inet_ntop(AF_INET6, &a6, text, sizeof text);
  }
  return address;
}

std::string authority(const std::string& address, int port) {
  bool v6 = address.find(':') != std::string::npos;
  return (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

HeldSocket::HeldSocket(const std::string& address, int port, int type, bool reuse_address)
    : address_(numeric_address(address)) {
  sockaddr_storage ss{};
  socklen_t len;
  int family;
  if (address_.find(':') != std::string::npos) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = family = AF_INET6;
    a->sin6_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET6, address_.c_str(), &a->sin6_addr) != 1) {
      error_ = "not an address: " + address;
      return;
    }
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = family = AF_INET;
    a->sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, address_.c_str(), &a->sin_addr) != 1) {
      error_ = "not an address: " + address;
      return;
    }
    len = sizeof *a;
  }
  int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return;
  }
  if (family == AF_INET6) {
    int one = 1;  // [::1] only, never the IPv4 side of the port
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (reuse_address) {
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    error_ = "bind " + testing::authority(address_, port) + ": " + std::strerror(errno);
    ::close(fd);
    return;
  }
  len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                   : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  fd_ = fd;
}

HeldSocket::~HeldSocket() {
  if (fd_ >= 0) ::close(fd_);
}

bool HeldSocket::listen(int backlog) {
  if (fd_ < 0 || ::listen(fd_, backlog) != 0) {
    error_ = std::string("listen: ") + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace regiongate::testing
