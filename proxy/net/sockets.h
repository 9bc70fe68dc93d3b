#pragma once
// Socket helpers: non-blocking listening and connecting TCP sockets.

#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace regiongate {

// A non-blocking listening socket on a literal address. With `reuse_port`
// several workers bind the same address and the kernel spreads connections
// (SO_REUSEPORT). Returns -1 and sets *error on failure.
int listen_tcp(const std::string& host, std::uint16_t port, bool reuse_port, std::string* error);

// The port a socket is bound to (to read back port 0).
std::uint16_t local_port(int fd);

// Starts a non-blocking connect; the socket becomes writable when it is done
// (check connect_result()). Returns -1 and sets *error when it fails at once.
int connect_tcp(const sockaddr* address, socklen_t length, std::string* error);
// 0 when the connect succeeded, else the errno it failed with.
int connect_result(int fd);

void set_tcp_nodelay(int fd);

}  // namespace regiongate
