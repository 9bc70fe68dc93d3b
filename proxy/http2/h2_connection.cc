#include "proxy/http2/h2_connection.h"

#include <cstring>

#include "proxy/net/sockets.h"

namespace regiongate {

H2Connection::H2Connection(struct ev_loop* loop, std::unique_ptr<Transport> transport)
    : loop_(loop),
      transport_(std::move(transport)),
      read_buf_(new std::uint8_t[kReadBuffer]) {
  write_buf_.reserve(kWriteSoftLimit + 16 * 1024);
  if (transport_) io_.init<H2Connection, &H2Connection::on_io>(loop_, transport_->fd(), this);
  flush_timer_.init<H2Connection, &H2Connection::on_flush_timer>(loop_, this);
  linger_timer_.init<H2Connection, &H2Connection::on_linger_timeout>(loop_, this);
}

H2Connection::~H2Connection() {
  if (FlushQueue* queue = FlushQueue::of(loop_)) queue->remove(this);
  if (session_) nghttp2_session_del(session_);
}

void H2Connection::start() {
  if (transport_->handshake_done()) on_ready();
  // Cleartext: the first read and our SETTINGS go out at once; TLS: the
  // handshake starts on the first readiness.
  on_io(EV_READ | EV_WRITE);
}

void H2Connection::connect_with(std::unique_ptr<Transport> transport) {
  io_.stop();
  transport_ = std::move(transport);
  io_.init<H2Connection, &H2Connection::on_io>(loop_, transport_->fd(), this);
  connecting_ = true;
  io_.watch(EV_WRITE);
}

bool H2Connection::on_raw_input(const std::uint8_t*, std::size_t) { return true; }

void H2Connection::schedule_flush() {
  if (closed()) return;
  if (FlushQueue* queue = FlushQueue::of(loop_)) {
    queue->add(this);
  } else if (!flush_timer_.active()) {
    flush_timer_.arm(0);  // a loop without a flush queue
  }
}

void H2Connection::flush_now() {
  if (!writable() || !do_write()) return;
  update_interest();
}

void H2Connection::on_flush_timer() {
  flush_timer_.stop();
  if (read_again_) {
    read_again_ = false;
    on_io(EV_READ);
    return;
  }
  if (!writable() || !do_write()) return;
  update_interest();
}

void H2Connection::close(const std::string& why) {
  if (phase_ == Phase::kClosed) return;
  const bool was_open = phase_ == Phase::kOpen;
  phase_ = Phase::kClosed;
  io_.stop();
  flush_timer_.stop();
  linger_timer_.stop();
  if (was_open) on_closing(why);
  on_closed(was_open ? why : close_why_);
}

void H2Connection::close_gracefully(const std::string& why) {
  if (phase_ != Phase::kOpen) return;
  const Linger linger_for = linger();
  if (linger_for.seconds <= 0 || !transport_ || connecting_) {
    // What fits in the socket now goes (the last frames, as before lingering existed).
    if (transport_ && !connecting_ && !write_out()) return;  // the failed write closed it
    close(why);
    return;
  }
  phase_ = Phase::kFlushing;
  close_why_ = why;
  linger_max_bytes_ = linger_for.max_bytes;
  flush_timer_.stop();
  read_again_ = false;
  linger_timer_.arm(linger_for.seconds);
  on_closing(why);
  closing_io();
}

void H2Connection::end_close(CloseEnd end) {
  close_end_ = end;
  close(close_why_);
}

void H2Connection::on_linger_timeout() { end_close(CloseEnd::kTimeout); }

void H2Connection::closing_io() {
  // Input is dropped from the start: a peer blocked writing to us might
  // not read our last bytes until it can write again.
  if (!discard_input()) return;
  if (phase_ == Phase::kFlushing) {
    if (!write_out()) return;
    if (write_begin_ != write_buf_.size()) {
      io_.watch(EV_WRITE | (peer_eof_ ? 0 : EV_READ));
      return;
    }
    phase_ = Phase::kShuttingDown;
  }
  if (phase_ == Phase::kShuttingDown) {
    Transport::Io r = transport_->shutdown_write();
    if (r == Transport::Io::kAgain) {
      io_.watch(transport_->wants() | (peer_eof_ ? 0 : EV_READ));
      return;
    }
    if (r != Transport::Io::kOk) {
      end_close(CloseEnd::kError);
      return;
    }
    phase_ = Phase::kLingering;
  }
  if (peer_eof_) {
    end_close(CloseEnd::kPeerClosed);
    return;
  }
  io_.watch(EV_READ);
}

bool H2Connection::discard_input() {
  // Bounded per event, as reading is: a level-triggered watcher comes back.
  for (int round = 0; !peer_eof_ && round < 16; ++round) {
    std::size_t n = 0;
    Transport::Io r = transport_->discard(&n);
    if (r == Transport::Io::kAgain) return true;
    if (r == Transport::Io::kClosed) {
      peer_eof_ = true;
      break;
    }
    if (r != Transport::Io::kOk) {
      end_close(CloseEnd::kError);
      return false;
    }
    discarded_ += n;
    if (discarded_ > linger_max_bytes_) {
      end_close(CloseEnd::kBytes);
      return false;
    }
  }
  if (peer_eof_ && phase_ == Phase::kLingering) {
    end_close(CloseEnd::kPeerClosed);
    return false;
  }
  return true;
}

void H2Connection::write_raw_and_close(const std::string& bytes) {
  write_buf_.append(bytes);
  raw_close_after_write_ = true;
}

void H2Connection::on_io(int revents) {
  (void)revents;
  if (phase_ == Phase::kClosed) return;
  if (phase_ != Phase::kOpen) {
    closing_io();
    return;
  }
  if (connecting_) {
    if (int err = connect_result(transport_->fd()); err != 0) {
      std::string why = std::string("connect: ") + std::strerror(err);
      if (!on_connect_failed(why)) close(why);
      return;
    }
    connecting_ = false;
    if (transport_->handshake_done()) on_ready();
    if (closed()) return;
  }
  if (!transport_->handshake_done()) {
    Transport::Io r = transport_->handshake();
    if (r == Transport::Io::kAgain) {
      io_.watch(transport_->wants());
      return;
    }
    if (r != Transport::Io::kOk) {
      close("TLS handshake: " + transport_->error());
      return;
    }
    on_ready();
    if (closed()) return;
  }
  if (!do_read()) return;
  if (!do_write()) return;
  update_interest();
}

bool H2Connection::do_read() {
  // Bounded work per event, so one busy connection cannot starve the loop.
  for (int round = 0;; ++round) {
    if (round == 8) {
      // TLS may hold decrypted bytes the socket no longer signals: come back.
      if (transport_->tls() && SSL_pending(transport_->ssl()) > 0) {
        read_again_ = true;
        flush_timer_.arm(0);
      }
      return true;
    }
    if (raw_close_after_write_) return true;
    if (session_ && !nghttp2_session_want_read(session_)) return true;
    std::size_t n = 0;
    Transport::Io r = transport_->read(read_buf_.get(), kReadBuffer, &n);
    if (r == Transport::Io::kAgain) return true;
    if (r == Transport::Io::kClosed) {
      close("peer closed the connection");
      return false;
    }
    if (r == Transport::Io::kError) {
      close("read: " + transport_->error());
      return false;
    }
    // Bytes not for nghttp2 (the first bytes of a client that is not
    // HTTP/2): read on, while it wants reading.
    if (!on_raw_input(read_buf_.get(), n)) {
      if (closed()) return false;
      continue;
    }
    ssize_t used = nghttp2_session_mem_recv(session_, read_buf_.get(), n);
    if (used < 0) {
      // A fatal error (connection errors are not: nghttp2 queues their
      // GOAWAY and ignores what follows). Whatever it has queued goes out.
      const std::string why = std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(used));
      if (gather()) close_gracefully(why);
      return false;
    }
    if (closed()) return false;
    // A short read drained the socket: skip the read that would only say
    // EAGAIN (epoll is level-triggered and reports anything that arrives).
    if (n < kReadBuffer && !(transport_->tls() && SSL_pending(transport_->ssl()) > 0)) return true;
  }
  return true;
}

// Both inlined: do_write calls them on every flush of every connection (a
// call each cost about 190 instructions a request, callgrind).
[[gnu::always_inline]] inline bool H2Connection::gather() {
  while (session_ && !raw_close_after_write_ && may_send() && write_buf_.size() < kWriteSoftLimit) {
    const std::uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      close(std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(n)));
      return false;
    }
    if (n == 0) break;
    write_buf_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
  return true;
}

[[gnu::always_inline]] inline bool H2Connection::write_out() {
  while (write_begin_ != write_buf_.size()) {
    std::size_t n = 0;
    Transport::Io r = transport_->write(
        reinterpret_cast<const std::uint8_t*>(write_buf_.data()) + write_begin_,
        write_buf_.size() - write_begin_, &n);
    if (r == Transport::Io::kAgain) return true;
    if (r != Transport::Io::kOk) {
      if (phase_ != Phase::kOpen) close_end_ = CloseEnd::kError;
      close("write: " + transport_->error());
      return false;
    }
    write_begin_ += n;
  }
  write_buf_.clear();
  write_begin_ = 0;
  return true;
}

bool H2Connection::do_write() {
  for (;;) {
    if (!gather()) return false;
    if (write_begin_ == write_buf_.size()) break;
    if (!write_out()) return false;
    if (write_begin_ != write_buf_.size()) return true;  // the socket is full: on EV_WRITE
  }
  if (raw_close_after_write_) {
    close_gracefully("refused: not HTTP/2");
    return false;
  }
  if (session_ && !nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) {
    close_gracefully("HTTP/2 session finished");
    return false;
  }
  return true;
}

void H2Connection::update_interest() {
  if (closed()) return;
  int events = EV_READ;
  if (write_begin_ != write_buf_.size()) events |= EV_WRITE;
  io_.watch(events);
}

void H2Connection::send_settings(const nghttp2_settings_entry* entries, std::size_t count,
                                 std::uint32_t connection_window) {
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries, count);
  if (connection_window > 65535) {
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                          static_cast<std::int32_t>(connection_window));
  }
  schedule_flush();
}

}  // namespace regiongate
