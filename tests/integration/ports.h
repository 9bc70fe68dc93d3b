#pragma once
// Ports for hermetic tests, without races: a port is never found by binding
// a socket and closing it (a test running in parallel can take it in
// between). Instead:
// - a server that can bind port 0 does, and its real port is read back from
//   the kernel (/proc/PID/fd's socket inodes, looked up in /proc/net/tcp,
//   tcp6, udp, udp6), for servers that cannot print it (nghttpd started with
//   port 0 prints "listen 127.0.0.1:0");
// - a server that must be given a port (dnsmasq: -p 0 disables DNS) is
//   confirmed by PID to hold that port itself, never just by something
//   answering there;
// - a dead address (nothing serving there) is a HeldSocket: bound, never
//   listening, kept open by the test, so connecting to it is refused and no
//   other process can take the port.

#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace regiongate::testing {

struct SocketAddress {
  std::string address;  // numeric, as inet_ntop writes it: "127.0.0.1", "::1", "0.0.0.0"
  int port = 0;
  bool operator==(const SocketAddress& o) const { return address == o.address && port == o.port; }
};

enum class SocketKind {
  kTcpListening,  // TCP sockets in the LISTEN state
  kTcpEstablished,  // TCP connections in the ESTABLISHED state (by their local address)
  kUdp,           // UDP sockets (bound; connected or not)
};

// The local addresses of the sockets process `pid` holds, of this kind, in
// the order of its file descriptors. Empty when there are none or the
// process is gone (or not ours to inspect).
std::vector<SocketAddress> sockets_of(pid_t pid, SocketKind kind);

// False once `pid` has exited (a zombie counts as exited) or does not exist.
bool process_running(pid_t pid);

// Waits until process `pid` holds a socket of this kind on `address` (""
// for any address) and `port` (0 for any port). Returns that socket's port;
// 0 at the deadline, or as soon as the process has exited (a server that
// could not bind: there is no point in waiting longer).
int wait_for_socket(pid_t pid, SocketKind kind, const std::string& address, int port = 0,
                    std::chrono::milliseconds deadline = std::chrono::seconds(10));

// For a server that cannot bind port 0 (dnsmasq for DNS, `regiongate demo`
// for its data centres): a random port outside the kernel's ephemeral range
// (no port-0 bind or outgoing connection is ever given one), never probed
// by binding and closing a socket. The caller starts the server on it,
// confirms that the server itself holds it (by PID, or by the server
// failing when it cannot bind), and tries another when it did not.
int choose_unassigned_port();

// `address` in inet_ntop's form ("::1" for "0:0::1"); unchanged when not numeric.
std::string numeric_address(const std::string& address);
// "127.0.0.1:8080", "[::1]:8080".
std::string authority(const std::string& address, int port);

// A socket of the test's own on `address`:`port` (0: a port the kernel
// chooses, read back with port()). Bound and, unless listen() is called,
// not listening: a TCP connection to it is refused, and no other socket can
// bind the port while it is held (it does not set SO_REUSEADDR). Closed
// when the object goes. Check ok(). Non-blocking and close-on-exec (a
// server it is handed to, through BackgroundProcess's inherit_fds, accepts
// without blocking).
class HeldSocket {
 public:
  // `reuse_address`: SO_REUSEADDR, to take a port back from a process just
  // killed, whose closed connections still hold it (TIME_WAIT).
  explicit HeldSocket(const std::string& address = "127.0.0.1", int port = 0,
                      int type = SOCK_STREAM, bool reuse_address = false);
  ~HeldSocket();
  HeldSocket(const HeldSocket&) = delete;
  HeldSocket& operator=(const HeldSocket&) = delete;

  bool ok() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }
  int fd() const { return fd_; }
  int port() const { return port_; }
  const std::string& address() const { return address_; }
  std::string authority() const { return testing::authority(address_, port_); }

  // Starts listening: the kernel then accepts connections (into the
  // backlog) whether or not anyone serves them.
  bool listen(int backlog = 16);

 private:
  int fd_ = -1;
  int port_ = 0;
  std::string address_;
  std::string error_;
};

}  // namespace regiongate::testing
