#pragma once
// One HTTP/2 connection driven by nghttp2's memory API over a Transport: the
// shared half of ClientSession (server side) and OriginSession (client side).
//
// Reading: each readable event reads into a fixed buffer and feeds
// nghttp2_session_mem_recv. Writing: every loop iteration's frames are
// gathered from nghttp2_session_mem_send into one bounded buffer and written
// with one call (STYLE 26). Memory per connection is bounded by the two
// buffers plus nghttp2's own, which its settings bound.
//
// Lifetime: the owner (a worker's set of sessions) destroys the connection
// after on_closed(); callbacks must not delete `this`.

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "proxy/net/event_loop.h"
#include "proxy/net/transport.h"

namespace regiongate {

class H2Connection : private FlushQueue::Client {
 public:
  // `transport` may be null on the client side until connect_with().
  H2Connection(struct ev_loop* loop, std::unique_ptr<Transport> transport);
  virtual ~H2Connection();
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  bool closed() const { return closed_; }
  // Sends what nghttp2 has queued; call after submitting frames outside an
  // I/O callback. Safe to call at any time.
  void schedule_flush();
  // Closes at once (after a fatal error or a timeout); on_closed() follows.
  void close(const std::string& why);

 protected:
  // The subclass creates session_ with `this`'s callbacks, then calls start()
  // on an accepted socket, or connect_with() on one still connecting.
  void start();
  // Watches `transport` (a non-blocking connect in progress) instead of the
  // current one, which is closed: the client side moves to the next address.
  void connect_with(std::unique_ptr<Transport> transport);
  bool tcp_connecting() const { return connecting_; }
  // The TCP connect failed. Return true after starting another attempt
  // with connect_with(); false closes the connection with `why`.
  virtual bool on_connect_failed(const std::string& why) {
    (void)why;
    return false;
  }
  // Raw bytes received before nghttp2 sees them (the server side checks the
  // client preface here). Return false to stop reading.
  virtual bool on_raw_input(const std::uint8_t* data, std::size_t len);
  // The connection is finished; the owner may destroy it now or later.
  virtual void on_closed(const std::string& why) = 0;
  // The TLS handshake finished (cleartext: at start()).
  virtual void on_ready() {}
  // False holds back HTTP/2 output (the server side waits for the client's
  // preface, so that an HTTP/1 client's refusal is not preceded by binary).
  virtual bool may_send() const { return true; }
  // Our SETTINGS, and the connection's receive window when it is to be
  // larger than the initial 65,535 (both sides do this the same way).
  void send_settings(const nghttp2_settings_entry* entries, std::size_t count,
                     std::uint32_t connection_window);
  // Writes raw bytes before/instead of HTTP/2 (a refusal to an HTTP/1 client).
  void write_raw_and_close(const std::string& bytes);

  struct ev_loop* loop_;
  nghttp2_session* session_ = nullptr;
  std::unique_ptr<Transport> transport_;

 private:
  void on_io(int revents);
  void on_flush_timer();
  void flush_now() override;
  bool do_read();
  bool do_write();
  void update_interest();
  // Open, connected (or accepted): output may go to the transport.
  bool writable() const { return !closed_ && !connecting_ && transport_; }

  static constexpr std::size_t kReadBuffer = 16 * 1024;
  // Gathering stops once this much is buffered; a whole frame is always
  // copied (nghttp2's pointer is only valid until its next call), so the
  // buffer holds at most this plus one frame.
  static constexpr std::size_t kWriteSoftLimit = 64 * 1024;

  IoWatcher io_;
  Timer flush_timer_;  // zero-delay: coalesces submits from outside I/O callbacks
  std::unique_ptr<std::uint8_t[]> read_buf_;
  std::string write_buf_;
  std::size_t write_begin_ = 0;
  bool closed_ = false;
  bool connecting_ = false;
  bool read_again_ = false;  // TLS had more decrypted input than one event's budget
  bool raw_close_after_write_ = false;
};

}  // namespace regiongate
