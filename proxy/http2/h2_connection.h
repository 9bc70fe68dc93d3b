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
// Closing: at once (close(): a timeout, a broken socket), or gracefully
// when the gateway itself ends the connection with something the peer must
// read (a GOAWAY, the refusal of an HTTP/1 client): the last frames are
// flushed, TLS sends close_notify, the write side is shut down, and what
// the peer still sends is read and dropped until it closes, for at most
// linger() seconds and bytes (a lingering close, as nginx and HAProxy do).
// Closing with unread input would make the kernel answer with a RST, and a
// RST may destroy those last frames before the peer reads them.
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

  // HTTP/2 is over: closed, or closing gracefully (nothing more is read or
  // sent but the last frames and the lingering close).
  bool closed() const { return phase_ != Phase::kOpen; }
  // Sends what nghttp2 has queued; call after submitting frames outside an
  // I/O callback. Safe to call at any time.
  void schedule_flush();
  // Closes at once (after a fatal error or a timeout; a lingering close
  // ends here too); on_closing() (when it had not run yet) and on_closed()
  // follow.
  void close(const std::string& why);

  // How a graceful close ended, for counters (read in on_closed()).
  enum class CloseEnd : std::uint8_t {
    kAtOnce,      // not gracefully: close(), or no lingering configured
    kPeerClosed,  // the peer closed its side once it had our last bytes
    kTimeout,     // linger().seconds passed first
    kBytes,       // the peer sent more than linger().max_bytes meanwhile
    kError,       // the socket failed meanwhile (a reset)
  };

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
  // HTTP/2 is over (a graceful close has begun, or close() was called):
  // the owner lets go of its streams. Called once, before on_closed().
  virtual void on_closing(const std::string& why) { (void)why; }
  // The connection is finished; the owner may destroy it now or later.
  virtual void on_closed(const std::string& why) = 0;
  // How long a graceful close may wait for the peer, and how much of what it
  // sends meanwhile is read and dropped; 0 seconds: close at once once the
  // last bytes are written (the origin side: origins close themselves).
  struct Linger {
    double seconds = 0;
    std::size_t max_bytes = 0;
  };
  virtual Linger linger() const { return {}; }
  CloseEnd close_end() const { return close_end_; }
  std::size_t linger_discarded() const { return discarded_; }
  // The TLS handshake finished (cleartext: at start()).
  virtual void on_ready() {}
  // False holds back HTTP/2 output (the server side waits for the client's
  // preface, so that an HTTP/1 client's refusal is not preceded by binary).
  virtual bool may_send() const { return true; }
  // Our SETTINGS, and the connection's receive window when it is to be
  // larger than the initial 65,535 (both sides do this the same way).
  void send_settings(const nghttp2_settings_entry* entries, std::size_t count,
                     std::uint32_t connection_window);
  // Writes raw bytes before/instead of HTTP/2 (a refusal to an HTTP/1
  // client), then closes gracefully.
  void write_raw_and_close(const std::string& bytes);

  struct ev_loop* loop_;
  nghttp2_session* session_ = nullptr;
  std::unique_ptr<Transport> transport_;

 private:
  enum class Phase : std::uint8_t {
    kOpen,
    kFlushing,      // closing gracefully: the last bytes going out
    kShuttingDown,  // TLS close_notify and the TCP FIN going out
    kLingering,     // reading and dropping until the peer closes
    kClosed,
  };

  void on_io(int revents);
  void on_flush_timer();
  void on_linger_timeout();
  void flush_now() override;
  bool do_read();
  bool do_write();
  // Copies nghttp2's frames into write_buf_ up to the soft limit. False
  // when nghttp2 failed (the connection is then closed).
  bool gather();
  // Writes write_buf_ until it is empty or the socket is full. False when
  // the write failed (the connection is then closed).
  bool write_out();
  void update_interest();
  // Starts a graceful close (or closes at once when linger() says so).
  void close_gracefully(const std::string& why);
  // One step of a graceful close, on each readiness.
  void closing_io();
  // Reads and drops what the peer sends. False when that ended the
  // connection (closed here).
  bool discard_input();
  void end_close(CloseEnd end);
  // Open, connected (or accepted): output may go to the transport.
  bool writable() const { return phase_ == Phase::kOpen && !connecting_ && transport_; }

  static constexpr std::size_t kReadBuffer = 16 * 1024;
  // Gathering stops once this much is buffered; a whole frame is always
  // copied (nghttp2's pointer is only valid until its next call), so the
  // buffer holds at most this plus one frame.
  static constexpr std::size_t kWriteSoftLimit = 64 * 1024;

  IoWatcher io_;
  Timer flush_timer_;  // zero-delay: coalesces submits from outside I/O callbacks
  Timer linger_timer_;  // bounds a graceful close, from its start
  std::unique_ptr<std::uint8_t[]> read_buf_;
  std::string write_buf_;
  std::size_t write_begin_ = 0;
  Phase phase_ = Phase::kOpen;
  CloseEnd close_end_ = CloseEnd::kAtOnce;
  std::string close_why_;        // a graceful close's reason, for on_closed()
  std::size_t discarded_ = 0;    // bytes read and dropped while closing
  std::size_t linger_max_bytes_ = 0;
  bool peer_eof_ = false;        // the peer's FIN came while closing
  bool connecting_ = false;
  bool read_again_ = false;  // TLS had more decrypted input than one event's budget
  bool raw_close_after_write_ = false;
};

}  // namespace regiongate
