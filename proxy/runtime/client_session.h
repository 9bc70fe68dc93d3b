#pragma once
// The client side of one connection: a phone (or a load balancer) speaking
// HTTP/2 to the gateway. Parses requests with nghttp2, enforces header limits
// while headers arrive, asks for the residency decision and answers.
//
// Owned by its Worker; lives on the worker's loop. Streams are created in
// on_begin_headers, attached with nghttp2_session_set_stream_user_data and
// destroyed in on_stream_close (STYLE 8).

#include <memory>
#include <unordered_set>
#include <string>
#include <vector>

#include "maps/ip_network.h"
#include "proxy/http2/body_buffer.h"
#include "proxy/net/event_loop.h"
#include "proxy/http2/h2_connection.h"
#include "proxy/http2/stream_set.h"
#include "policy/request_decision.h"
#include "proxy/config/server_config.h"

namespace regiongate {

class ClientSession;
class OriginSession;
class Worker;

// One request on the client side, and its exchange with an origin.
struct ClientStream {
  ClientStream(ClientSession& session, std::int32_t id) : session(&session), id(id) {
    // Room for a typical request and response: one allocation each instead
    // of a vector doubling per header.
    headers.reserve(16);
    response_headers.reserve(16);
    held_.reserve(8);
  }
  ~ClientStream();

  // Header storage is nghttp2's own (reference-counted), never copied.
  struct Header {
    nghttp2_rcbuf* name;
    nghttp2_rcbuf* value;
  };
  using Headers = std::vector<Header>;

  ClientSession* session;
  std::int32_t id;
  std::size_t session_slot = 0;  // in ClientSession::streams_
  std::size_t origin_slot = 0;   // in OriginSession::active_
  Headers headers;  // regular request headers to forward (hop-by-hop, x-regiongate-* dropped)
  // As received. Only routed.target (canonical) is classified and forwarded.
  std::string_view method, scheme, authority, host_header, path, account_id, forwarded_for;
  std::size_t header_bytes = 0, trailer_bytes = 0;
  bool headers_done = false;
  // Each header that feeds the decision is taken from one place: a second
  // one (or a list in the account header) refuses the request.
  std::uint8_t host_headers = 0, account_headers = 0, forwarded_for_headers = 0;
  RequestFault header_fault = RequestFault::kNone;
  TargetStorage target_storage;  // the canonical target, when it differs from the raw one

  // The request body and trailers, waiting for the origin to take them.
  BodyBuffer request_body;
  bool request_ended = false;
  Headers request_trailers;

  // The decision, taken with the snapshot the request started with.
  std::shared_ptr<const Snapshot> snapshot;
  RoutedRequest routed;
  std::uint8_t candidate = 0;  // index into routed.decision.candidates being tried
  std::uint8_t endpoint_first = 0;  // where this data centre's endpoints start (weighted)
  std::uint8_t endpoint_try = 0;    // endpoints of this data centre tried so far
  DataCenterIndex datacenter = kNoDataCenterIndex;

  // The origin side.
  OriginSession* origin = nullptr;
  std::int32_t origin_stream_id = -1;
  bool request_sent = false;
  Headers response_headers;
  std::string_view response_status;
  Headers response_trailers;
  BodyBuffer response_body;
  bool response_ended = false;
  bool response_submitted = false;

  // A response the gateway makes itself (denials, origin failures).
  std::string local_body;
  std::string_view local_reason;  // its x-regiongate-reason (static storage)
  // How the stream ended, for the access log: "complete", "reset" or
  // "connection-closed" (static storage).
  std::string_view outcome;
  int status = 0;  // the status sent to the client
  std::uint64_t bytes_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t started_ns = 0;
  std::string origin_error;
  std::uint64_t request_bytes_sent = 0;  // to the origin; a refused stream is retried only at 0
  std::uint8_t refusals = 0;             // REFUSED_STREAM retries so far (bounded)

  // Armed when the request is sent; the origin's response headers stop it.
  Timer response_timer;
  void on_response_timeout();

  // Request headers for the origin: the client's, plus the decision.
  void origin_request_headers(std::vector<nghttp2_nv>* nv);
  static void trailer_nv(const Headers& trailers, std::vector<nghttp2_nv>* nv);
  // Collects response headers (or trailers); false past the header limits.
  bool add_response_header(nghttp2_rcbuf* name, nghttp2_rcbuf* value);

 private:
  std::vector<nghttp2_rcbuf*> held_;  // pseudo-header buffers kept for the views above
  std::string forwarded_for_out_, country_out_, datacenter_out_;  // storage for origin headers
  std::size_t response_header_bytes_ = 0;
  friend class ClientSession;
};

class ClientSession final : public H2Connection {
 public:
  ClientSession(Worker& worker, std::unique_ptr<Transport> transport, const IpAddress& peer);
  ~ClientSession() override;

  void begin() { start(); }
  // Graceful stop: GOAWAY (NO_ERROR) naming the last stream taken; the
  // connection closes once those streams are done.
  void shut_down();
  const IpAddress& peer() const { return peer_; }
  const std::string& peer_text() const { return peer_text_; }

  // nghttp2 callbacks (called through the static table; never throw).
  int on_begin_headers(const nghttp2_frame* frame);
  int on_header(const nghttp2_frame* frame, nghttp2_rcbuf* name, nghttp2_rcbuf* value);
  int on_frame_recv(const nghttp2_frame* frame);
  int on_data_chunk(std::int32_t stream_id, const std::uint8_t* data, std::size_t len);
  int on_stream_close(std::int32_t stream_id, std::uint32_t error_code);

  // From the origin side (OriginSession), about one stream.
  void origin_failed(ClientStream& stream, const std::string& why, bool retryable);
  void origin_response(ClientStream& stream, bool end_stream);
  void origin_body(ClientStream& stream, const std::uint8_t* data, std::size_t len);
  void origin_body_end(ClientStream& stream);
  void origin_closed(ClientStream& stream, std::uint32_t error_code);
  void request_body_taken(ClientStream& stream, std::size_t n);
  ssize_t read_response_body(ClientStream& stream, std::uint8_t* buf, std::size_t len,
                             std::uint32_t* flags);
  void response_timed_out(ClientStream& stream);
  void request_submitted(ClientStream& stream);

 private:
  bool on_raw_input(const std::uint8_t* data, std::size_t len) override;
  void on_ready() override;
  bool may_send() const override;
  void on_closed(const std::string& why) override;
  void on_idle_timeout();

  void handle_request(ClientStream& stream);
  // GeoIP of the peer, looked up once per connection (and per database).
  const GeoipResult* peer_geoip(const Snapshot& snap);
  // Tries the decision's candidates from stream.candidate on.
  void forward(ClientStream& stream);
  void respond_locally(ClientStream& stream, int status, std::string_view reason_code,
                       const std::string& detail);

  // Every open stream: nghttp2_session_del does not close them for us. Each
  // one that was decided is logged as "connection-closed".
  void drop_streams();
  // Notes one more `name` header that feeds the decision; false when it is
  // one too many (the request is then refused, not decided on either copy).
  void count_decision_header(ClientStream& stream, std::uint8_t* seen);

  Worker& worker_;
  IpAddress peer_;
  StreamSet<ClientStream, &ClientStream::session_slot> streams_;
  std::string peer_text_;                 // peer_ as text, for x-forwarded-for
  // Held, not just compared: a pointer to a freed database could come back
  // as a new one at the same address.
  std::shared_ptr<const GeoipDatabase> peer_geoip_database_;
  GeoipResult peer_geoip_;
  std::vector<nghttp2_nv> nv_scratch_;    // reused for every response's headers
  Timer idle_timer_;
  double idle_since_ = 0;  // ev_now() when the last stream closed (or the connection opened)
  std::size_t preface_checked_ = 0;  // bytes of the client preface verified so far
  std::size_t open_streams_ = 0;
};

}  // namespace regiongate
