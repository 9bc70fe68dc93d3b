#pragma once
// A real DNS server for tests: dnsmasq on a loopback UDP/TCP port of its
// own (dnsmasq cannot bind port 0 for DNS: a port is chosen, and the kernel
// must show that this dnsmasq holds it, else another is tried), answering
// from a hosts file the test writes (and may rewrite + reload), NXDOMAIN for
// any other name under .test. Stopped by PID when the object goes. Also a
// silent UDP "server" that never answers, for timeouts.

#include <sys/types.h>

#include <chrono>
#include <string>

namespace regiongate::testing {

class DnsTestServer {
 public:
  // `hosts`: lines of "address name" (IPv4 and IPv6). `ttl`: the TTL of
  // every answer (dnsmasq --local-ttl). Check ok() before use.
  explicit DnsTestServer(const std::string& hosts, int ttl = 1);
  ~DnsTestServer();
  DnsTestServer(const DnsTestServer&) = delete;
  DnsTestServer& operator=(const DnsTestServer&) = delete;

  bool ok() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // Rewrites the hosts file and sends SIGHUP; dnsmasq rereads it soon after
  // (asynchronously: wait on what the test resolves).
  bool replace_hosts(const std::string& hosts);
  // How many A queries for `name` it has answered so far (its query log).
  int queries(const std::string& name) const;
  // SIGTERM and wait: the port then refuses (ICMP port unreachable; TCP
  // connections refused), and stays held by this object so that no other
  // server can take it. False (see error()) when it could not be held.
  bool stop();

 private:
  bool start(int ttl);
  bool write_hosts(const std::string& hosts);

  std::string dir_;
  std::string hosts_path_;
  std::string log_path_;
  std::string error_;
  int port_ = 0;
  pid_t pid_ = -1;
  int held_udp_ = -1, held_tcp_ = -1;  // after stop()
};

// A bound UDP socket on 127.0.0.1 that nobody reads: queries to it time out.
class SilentUdpServer {
 public:
  SilentUdpServer();
  ~SilentUdpServer();
  SilentUdpServer(const SilentUdpServer&) = delete;
  SilentUdpServer& operator=(const SilentUdpServer&) = delete;
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace regiongate::testing
