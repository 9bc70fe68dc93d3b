#include "proxy/net/transport.h"

#include <ev.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace regiongate {

Transport::Transport(int fd, SSL* ssl, std::shared_ptr<const ServerTlsContext> accepted_by)
    : fd_(fd), ssl_(ssl), accepted_by_(std::move(accepted_by)) {}

Transport::~Transport() {
  if (ssl_) {
    // A quiet close: no blocking shutdown dance on a non-blocking socket.
    SSL_set_quiet_shutdown(ssl_, 1);
    SSL_free(ssl_);
  }
  if (fd_ >= 0) close(fd_);
}

Transport::Io Transport::tls_result(int ret) {
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      wants_ = EV_READ;
      return Io::kAgain;
    case SSL_ERROR_WANT_WRITE:
      wants_ = EV_WRITE;
      return Io::kAgain;
    case SSL_ERROR_ZERO_RETURN:
      return Io::kClosed;
    case SSL_ERROR_SYSCALL:
      error_ = errno ? std::strerror(errno) : "unexpected end of TLS stream";
      ERR_clear_error();
      return Io::kError;
    default: {
      char buf[256];
      ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
      error_ = buf;
      ERR_clear_error();
      return Io::kError;
    }
  }
}

// What a read(2) or recv(2) on the socket returned, as an Io.
Transport::Io Transport::read_result(ssize_t ret, std::size_t* n) {
  if (ret > 0) {
    *n = static_cast<std::size_t>(ret);
    return Io::kOk;
  }
  if (ret == 0) return Io::kClosed;
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    wants_ = EV_READ;
    return Io::kAgain;
  }
  error_ = std::strerror(errno);
  return Io::kError;
}

Transport::Io Transport::handshake() {
  if (handshake_done()) return Io::kOk;
  ERR_clear_error();
  int ret = SSL_do_handshake(ssl_);
  if (ret == 1) {
    handshake_done_ = true;
    wants_ = 0;
    // No more ClientHellos (renegotiation is off): the SNI callback is done.
    accepted_by_.reset();
    return Io::kOk;
  }
  return tls_result(ret);
}

Transport::Io Transport::read(std::uint8_t* buf, std::size_t cap, std::size_t* n) {
  *n = 0;
  if (ssl_) {
    ERR_clear_error();
    int ret = SSL_read(ssl_, buf, static_cast<int>(cap));
    if (ret > 0) {
      *n = static_cast<std::size_t>(ret);
      return Io::kOk;
    }
    return tls_result(ret);
  }
  ssize_t ret;
  do {
    ret = ::read(fd_, buf, cap);
  } while (ret < 0 && errno == EINTR);
  return read_result(ret, n);
}

Transport::Io Transport::write(const std::uint8_t* buf, std::size_t len, std::size_t* n) {
  *n = 0;
  if (ssl_) {
    ERR_clear_error();
    int ret = SSL_write(ssl_, buf, static_cast<int>(len));
    if (ret > 0) {
      *n = static_cast<std::size_t>(ret);
      return Io::kOk;
    }
    return tls_result(ret);
  }
  ssize_t ret;
  do {
    ret = ::write(fd_, buf, len);
  } while (ret < 0 && errno == EINTR);
  if (ret >= 0) {
    *n = static_cast<std::size_t>(ret);
    return Io::kOk;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    wants_ = EV_WRITE;
    return Io::kAgain;
  }
  error_ = std::strerror(errno);
  return Io::kError;
}

Transport::Io Transport::shutdown_write() {
  if (ssl_ && !close_notify_sent_ && handshake_done_) {
    ERR_clear_error();
    int ret = SSL_shutdown(ssl_);
    // 0: the alert is written (the peer's is not awaited); 1: both are done.
    if (ret < 0) {
      if (SSL_get_error(ssl_, ret) == SSL_ERROR_WANT_WRITE) {
        wants_ = EV_WRITE;
        return Io::kAgain;
      }
      ERR_clear_error();  // TLS failed before: no alert, the FIN alone
    }
  }
  close_notify_sent_ = true;
  if (::shutdown(fd_, SHUT_WR) != 0 && errno != ENOTCONN) {
    error_ = std::strerror(errno);
    return Io::kError;
  }
  return Io::kOk;
}

Transport::Io Transport::discard(std::size_t* n) {
  *n = 0;
  ssize_t ret;
  do {
    // TCP with MSG_TRUNC drops up to `len` queued bytes without copying them (Linux).
    ret = ::recv(fd_, nullptr, 1 << 20, MSG_TRUNC | MSG_DONTWAIT);
  } while (ret < 0 && errno == EINTR);
  return read_result(ret, n);
}

}  // namespace regiongate
