#pragma once
// The origin side of one connection: the gateway speaking HTTP/2 to one
// endpoint of a data centre. Pooled per worker by OriginPool and shared by
// many client streams at once (multiplexed), up to the peer's
// SETTINGS_MAX_CONCURRENT_STREAMS.
//
// A session starts by resolving the endpoint's host (the worker's
// DnsResolver; an IP literal answers at once), then connects to its
// addresses in the resolver's order, moving to the next one when a connect
// fails or times out. A stream attached meanwhile waits; if the connection
// fails before it is established, every waiting stream is handed back
// (origin_failed) with nothing of it sent, so the caller may fail over.
//
// The DNS answer's TTL bounds the session's use: when it expires the name is
// resolved again, and if the session's address is no longer in the answer
// the session takes no new streams and closes once its streams are done, so
// new requests follow a record that changed.

#include <string>
#include <unordered_map>
#include <vector>

#include "maps/datacenter.h"
#include "maps/ip_network.h"
#include "proxy/dns/dns_resolver.h"
#include "proxy/http2/h2_connection.h"
#include "proxy/http2/stream_set.h"
#include "proxy/origin/origin_exchange.h"

namespace regiongate {

class OriginPool;

class OriginSession final : public H2Connection {
 public:
  enum class State { kResolving, kConnecting, kReady, kDraining };

  OriginSession(OriginPool& pool, const OriginEndpoint& endpoint);
  ~OriginSession() override;

  // Resolves and starts connecting. May close the session before it
  // returns (closed() then says so and close_reason() why).
  void begin();

  const std::string& key() const { return endpoint_.pool_key; }
  State state() const { return state_; }
  const std::string& close_reason() const { return close_reason_; }
  // Room for one more stream now or once connected.
  bool has_capacity() const { return open_for_streams() && active_streams() < stream_limit(); }
  // Room for one more stream that waits (inside nghttp2) for one of the
  // origin's stream slots: the pool's last resort when every connection is
  // full and no more may be opened. Bounded.
  bool can_queue() const {
    return open_for_streams() && active_streams() < stream_limit() + kMaxQueuedStreams;
  }
  static constexpr std::size_t kMaxQueuedStreams = 256;
  // Every origin stream opens with this receive window (our SETTINGS say so:
  // the HTTP/2 default), and is raised to its exchange's
  // origin_stream_window() once half of that came (a large response:
  // raise_window_if_large). What a client leaves
  // unread is bounded per client connection that way, not only per stream.
  static constexpr std::int32_t kBaseStreamWindow = 65535;
  std::size_t active_streams() const { return active_.size() + waiting_.size(); }

  // Sends the request (at once, or when connected); the exchange is told of
  // the response, the body and the end (origin_exchange.h).
  void attach(OriginExchange& exchange);
  // The request side ends the link first (the client went away, or the
  // gateway answered itself): the origin stream, if any, is cancelled
  // (RST_STREAM CANCEL). Response bytes it had not taken cost the
  // connection nothing: their window came back when they arrived.
  void detach(OriginExchange& exchange);
  // Opens the window for `n` more bytes of the response (the client took them).
  void consume(const OriginExchange& exchange, std::size_t n);
  // More request body (or its end) is available.
  void resume(const OriginExchange& exchange);

  // nghttp2 callbacks.
  int on_begin_headers(const nghttp2_frame* frame);
  int on_header(const nghttp2_frame* frame, nghttp2_rcbuf* name, nghttp2_rcbuf* value);
  int on_frame_recv(const nghttp2_frame* frame);
  int on_data_chunk(std::int32_t stream_id, const std::uint8_t* data, std::size_t len);
  int on_stream_close(std::int32_t stream_id, std::uint32_t error_code);
  ssize_t read_request_body(std::int32_t stream_id, std::uint8_t* buf, std::size_t len,
                            std::uint32_t* flags);

 private:
  void on_ready() override;
  void on_origin_settings();  // the origin's first SETTINGS: ready for streams
  bool on_connect_failed(const std::string& why) override;
  void on_closed(const std::string& why) override;
  void on_idle_timeout();
  void on_connect_timeout();
  void on_dns_expired();
  void on_dns_refreshed(const DnsResult& result);
  void arm_dns_timer(const DnsResult& result);
  void on_resolved(const DnsResult& result);
  // Starts a connect to the next address; false (and *error) when none is left.
  bool connect_next(std::string* error);
  void submit(OriginExchange& exchange);
  void raise_window_if_large(OriginExchange& exchange, std::size_t len);
  // Unmakes the link from this side (the one place it does).
  void let_go(OriginExchange& exchange);
  void close_if_retired();
  bool open_for_streams() const;
  std::size_t stream_limit() const;
  // No stream left: arm the idle timeout, or close a retired session.
  void became_idle_if_empty();

  OriginPool& pool_;
  OriginEndpoint endpoint_;
  State state_ = State::kResolving;
  bool retired_ = false;  // its address left the DNS answer: no new streams
  DnsResolver::QueryId dns_query_ = DnsResolver::kNoQuery;
  std::vector<IpAddress> addresses_;
  std::size_t next_address_ = 0;
  IpAddress connected_address_;  // of the current (or last) connect attempt
  std::string close_reason_;
  Timer idle_timer_;
  Timer connect_timer_;
  Timer dns_timer_;
  std::vector<OriginExchange*> waiting_;  // attached before connected
  // Streams sent on this connection; each is also the nghttp2 stream user data.
  StreamSet<OriginExchange, &OriginExchange::origin_slot_> active_;
  OriginExchange* exchange_of(std::int32_t stream_id) const;
  std::vector<nghttp2_nv> nv_scratch_;  // reused for every request's headers
};

}  // namespace regiongate
