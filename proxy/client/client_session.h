#pragma once
// The client side of one connection: a phone (or a load balancer) speaking
// HTTP/2 to the gateway. Only the codec: it checks the client preface,
// parses frames with nghttp2, enforces the header limits while headers
// arrive, keeps flow control and sends what its requests answer. What one
// request does (decide, forward, answer, log) is its ProxiedRequest's.
//
// Owned by its runtime (a ClientHost) and destroyed by it after
// session_closed(); lives on the host's loop. Each request is created in
// on_begin_headers, owned by the session's set (the one owner), attached
// as nghttp2's stream user data, and destroyed in on_stream_close or with
// the connection (STYLE 8).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "maps/geoip.h"
#include "maps/ip_network.h"
#include "policy/snapshot.h"
#include "proxy/client/client_host.h"
#include "proxy/client/client_preface.h"
#include "proxy/client/proxied_request.h"
#include "proxy/http2/h2_connection.h"
#include "proxy/http2/header_list.h"
#include "proxy/http2/peer_stream_ids.h"
#include "proxy/http2/stream_set.h"
#include "proxy/http2/token_bucket.h"
#include "proxy/net/event_loop.h"

namespace regiongate {

class ClientSession final : public H2Connection {
 public:
  ClientSession(ClientHost& host, std::unique_ptr<Transport> transport, const IpAddress& peer);
  ~ClientSession() override;

  void begin() { start(); }
  // Graceful stop: GOAWAY (NO_ERROR) naming the last stream taken; the
  // connection closes once those streams are done.
  void shut_down();
  const IpAddress& peer() const { return peer_; }
  const std::string& peer_text() const { return peer_text_; }
  // GeoIP of the peer in `snapshot`'s database, looked up once per
  // connection (and per database); null without a database.
  const GeoipResult* peer_geoip(const Snapshot& snapshot);
  std::size_t open_requests() const { return requests_.size(); }

  // --- For its requests. ------------------------------------------------------
  // Sends response headers (nv) for the request; with_body: its
  // read_response() provides the body (and trailers).
  void submit_response(ProxiedRequest& request, const std::vector<nghttp2_nv>& nv, bool with_body);
  void submit_trailer(std::int32_t stream_id, const HeaderList& trailers);
  // More response body is available.
  void resume_response(std::int32_t stream_id);
  void reset_stream(std::int32_t stream_id, std::uint32_t error_code);
  // Opens the stream's (and the connection's) receive window for `n` bytes
  // the request has passed on.
  void consume(std::int32_t stream_id, std::size_t n);
  // Opens only the connection's window (bytes of a stream that is gone).
  void consume_connection(std::size_t n);
  // Response window for one request's origin streams, beyond their base:
  // up to `want`, less when the connection's requests hold nearly
  // http2.connection_window_size already (a client that reads nothing
  // holds at most that, plus the base per stream). Returned with release.
  std::uint32_t reserve_response_window(std::uint32_t want);
  void release_response_window(std::uint32_t n) { response_window_reserved_ -= n; }
  // Reused for every response's headers.
  std::vector<nghttp2_nv>& nv_scratch() { return nv_scratch_; }

  // nghttp2 callbacks (called through the static table; never throw).
  int on_begin_frame(const nghttp2_frame_hd* hd);
  int on_begin_headers(const nghttp2_frame* frame);
  int on_header(const nghttp2_frame* frame, nghttp2_rcbuf* name, nghttp2_rcbuf* value);
  int on_frame_recv(const nghttp2_frame* frame);
  int on_data_chunk(std::int32_t stream_id, const std::uint8_t* data, std::size_t len);
  int on_stream_close(std::int32_t stream_id, std::uint32_t error_code);
  int on_invalid_frame_recv(const nghttp2_frame* frame, int lib_error_code);
  // The data provider made a DATA frame of a response (it earns WINDOW_UPDATEs).
  void on_data_frame_made();

 private:
  bool on_raw_input(const std::uint8_t* data, std::size_t len) override;
  void on_ready() override;
  // Once the client's first bytes are decided: the preface (HTTP/2), or
  // neither it nor HTTP/1 (our SETTINGS and a GOAWAY).
  bool may_send() const override { return may_send_; }
  void on_closing(const std::string& why) override;
  void on_closed(const std::string& why) override;
  // timeouts.linger and timeouts.linger_bytes, as reloaded.
  Linger linger() const override;
  void on_idle_timeout();
  // RFC 9113 6.9.2 (nghttp2 1.52 resets the stream instead): the open
  // streams' largest send window before a SETTINGS frame is applied, and
  // the check of its SETTINGS_INITIAL_WINDOW_SIZE against it after.
  void note_windows_before_settings();
  void check_initial_window(const nghttp2_settings& settings);
  void on_handshake_timeout();
  // timeouts.request_headers (note_header_block, on_header_block_timeout).
  void note_header_block(std::uint8_t frame_type);
  void on_header_block_timeout();
  // A header block past the limits: counted, and the stream thrown away.
  void header_block_refused();
  // An HPACK bomb: the connection ends at once, its block not decoded on.
  int header_bomb();
  ProxiedRequest* request_of(std::int32_t stream_id) const;
  // Every open request: nghttp2_session_del does not close them for us. Each
  // one that was decided is logged as "connection-closed".
  void drop_requests();

  ClientHost& host_;
  IpAddress peer_;
  OwnedStreamSet<ProxiedRequest, &ProxiedRequest::session_slot> requests_;
  std::string peer_text_;  // peer_ as text, for x-forwarded-for and the log
  // Held, not just compared: a pointer to a freed database could come back
  // as a new one at the same address.
  std::shared_ptr<const GeoipDatabase> peer_geoip_database_;
  GeoipResult peer_geoip_;
  std::vector<nghttp2_nv> nv_scratch_;
  Timer idle_timer_;
  Timer handshake_timer_;  // until the client preface is complete (slow or silent clients)
  Timer header_block_timer_;  // while a header block is open (slow headers)
  double idle_since_ = 0;  // ev_now() when the last stream closed (or the connection opened)
  ClientPreface preface_;  // the client's first bytes, until they are decided
  bool may_send_ = false;
  PeerStreamIds stream_ids_;  // the ids the client used, for on_begin_frame
  // Noted at a SETTINGS frame's header: the client's SETTINGS_INITIAL_WINDOW_SIZE
  // and the largest send window of an open stream then (none: no stream).
  // Floods (http2.reset_* and control_*): a stream thrown away (reset by
  // the client, or by the gateway for the client's error) takes a token of
  // the reset budget; a frame that does no work (note_control_frame) one
  // of the control budget. Past either, GOAWAY(ENHANCE_YOUR_CALM).
  // `cost`: tokens; a stream past the header limits costs kHeaderLimitResetCost.
  void stream_thrown_away(const char* reason, std::uint32_t cost = 1);
  static constexpr std::uint32_t kHeaderLimitResetCost = 10;
  // A header block nghttp2 found malformed mid-way: it decodes the rest for
  // nothing (the HPACK table's sake), up to a field a byte. Its bytes pay:
  // a token per kIgnoredBlockBytesPerToken.
  void note_ignored_block(const nghttp2_frame_hd& hd);
  static constexpr std::uint32_t kIgnoredBlockBytesPerToken = 1024;
  bool in_ignored_block_ = false;  // till the block's END_HEADERS
  void note_control_frame(const nghttp2_frame_hd& hd);
  // Submits the gateway's GOAWAY with `error_code` once, counting `reason`
  // (null: none) in client_connection_errors.
  void end_connection(std::uint32_t error_code, const char* reason);
  TokenBucket reset_budget_;
  TokenBucket control_budget_;
  // WINDOW_UPDATEs (or PINGs) earned by the DATA frames sent (two each: the
  // stream's and the connection's WINDOW_UPDATE), taken before the control budget.
  std::uint32_t frames_earned_ = 0;
  bool ending_ = false;  // end_connection() was called
  std::uint64_t response_window_reserved_ = 0;  // by its requests (reserve_response_window)
  std::int64_t initial_window_before_ = 65535;
  std::optional<std::int64_t> largest_window_before_;
};

}  // namespace regiongate
