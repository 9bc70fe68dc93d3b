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
  if (closed_) return;
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
  if (closed_) return;
  closed_ = true;
  io_.stop();
  flush_timer_.stop();
  on_closed(why);
}

void H2Connection::write_raw_and_close(const std::string& bytes) {
  write_buf_.append(bytes);
  raw_close_after_write_ = true;
}

void H2Connection::on_io(int revents) {
  (void)revents;
  if (closed_) return;
  if (connecting_) {
    if (int err = connect_result(transport_->fd()); err != 0) {
      std::string why = std::string("connect: ") + std::strerror(err);
      if (!on_connect_failed(why)) close(why);
      return;
    }
    connecting_ = false;
    if (transport_->handshake_done()) on_ready();
    if (closed_) return;
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
    if (closed_) return;
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
    if (!on_raw_input(read_buf_.get(), n)) return !closed_;
    ssize_t used = nghttp2_session_mem_recv(session_, read_buf_.get(), n);
    if (used < 0) {
      // nghttp2 has queued a GOAWAY where the protocol calls for one: send it, then close.
      do_write();
      close(std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(used)));
      return false;
    }
    if (closed_) return false;
    // A short read drained the socket: skip the read that would only say
    // EAGAIN (epoll is level-triggered and reports anything that arrives).
    if (n < kReadBuffer && !(transport_->tls() && SSL_pending(transport_->ssl()) > 0)) return true;
  }
  return true;
}

bool H2Connection::do_write() {
  for (;;) {
    // Gather: copy nghttp2's frames until the soft limit.
    while (session_ && !raw_close_after_write_ && may_send() &&
           write_buf_.size() < kWriteSoftLimit) {
      const std::uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        close(std::string("HTTP/2: ") + nghttp2_strerror(static_cast<int>(n)));
        return false;
      }
      if (n == 0) break;
      write_buf_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    if (write_begin_ == write_buf_.size()) break;
    std::size_t n = 0;
    Transport::Io r = transport_->write(
        reinterpret_cast<const std::uint8_t*>(write_buf_.data()) + write_begin_,
        write_buf_.size() - write_begin_, &n);
    if (r == Transport::Io::kAgain) return true;
    if (r != Transport::Io::kOk) {
      close("write: " + transport_->error());
      return false;
    }
    write_begin_ += n;
    if (write_begin_ == write_buf_.size()) {
      write_buf_.clear();
      write_begin_ = 0;
    }
  }
  if (raw_close_after_write_) {
    close("refused: not HTTP/2");
    return false;
  }
  if (session_ && !nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) {
    close("HTTP/2 session finished");
    return false;
  }
  return true;
}

void H2Connection::update_interest() {
  if (closed_) return;
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
