#pragma once
// Byte transport of one connection, cleartext TCP or TLS over it. Owns the
// socket (and the SSL object). Non-blocking: every call returns at once and
// says whether it needs the socket readable or writable to go on.

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace regiongate {

class ServerTlsContext;

class Transport {
 public:
  enum class Io { kOk, kAgain, kClosed, kError };

  // Takes ownership of `fd` and of `ssl` (null for cleartext), which must
  // already be set up for accept or connect. `accepted_by`: the listener's
  // context an accepted `ssl` came from, held until the handshake is done
  // (its SNI callback points at it, and a reload may meanwhile replace it
  // on the listener); after that the SSL needs only the SSL_CTX it holds.
  Transport(int fd, SSL* ssl, std::shared_ptr<const ServerTlsContext> accepted_by = nullptr);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  int fd() const { return fd_; }
  bool tls() const { return ssl_ != nullptr; }
  SSL* ssl() const { return ssl_; }

  // TLS only: drives the handshake. kAgain: call again when wants() is ready.
  Io handshake();
  bool handshake_done() const { return ssl_ == nullptr || handshake_done_; }

  // kOk with *n > 0 bytes; kAgain: nothing now; kClosed: orderly end.
  Io read(std::uint8_t* buf, std::size_t cap, std::size_t* n);
  // kOk with *n bytes taken (maybe fewer than len); kAgain: none now.
  Io write(const std::uint8_t* buf, std::size_t len, std::size_t* n);

  // The end of a graceful close. shutdown_write(): TLS close_notify (when
  // the handshake is done and TLS has not failed), then the TCP FIN;
  // kAgain until the alert is written. discard(): reads what the peer
  // still sends and drops it without copying or decrypting it (*n bytes;
  // kClosed at its FIN). Nothing is read or written through TLS after them.
  Io shutdown_write();
  Io discard(std::size_t* n);

  // What the last kAgain waits for: EV_READ and/or EV_WRITE.
  int wants() const { return wants_; }
  // The last error, for logs ("connection reset by peer", an OpenSSL reason).
  const std::string& error() const { return error_; }

 private:
  Io read_result(ssize_t ret, std::size_t* n);
  Io tls_result(int ret);

  int fd_;
  SSL* ssl_;
  std::shared_ptr<const ServerTlsContext> accepted_by_;  // until the handshake is done
  bool handshake_done_ = false;
  bool close_notify_sent_ = false;
  int wants_ = 0;
  std::string error_;
};

}  // namespace regiongate
