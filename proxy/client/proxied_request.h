#pragma once
// One request through the gateway, from its HEADERS on the client side to
// its access-log line: it classifies the canonical target, resolves the
// account country, decides, picks an origin, forwards, answers and logs.
// The client session (client_session.h) is only its codec: frames, header
// limits, flow control. The origin side sees it as an OriginExchange.
//
// States (state()):
//
//   kReceivingHeaders --headers_complete()--> kResolving --> kDeciding
//   kDeciding --refused (400 target, 451, 404)--------------> kResponding
//   kDeciding --allowed--> kConnecting --submitted--> kForwarding
//   kConnecting/kForwarding --connect failed, nothing sent--> kConnecting
//                                         (the next endpoint, then the next
//                                          allowed data centre)
//   kConnecting --no allowed data centre left up------------> kResponding (503)
//   kConnecting --the next one needs an audit record the required audit
//                 log cannot take now------------------------> kResponding (503)
//   kForwarding --origin failed or timed out, no response yet--> kResponding (502, 504)
//   any state --closed()-------------------------------------> kDone
//
// kResolving holds the request while its account country is resolved. Token
// claims, the file directory and GeoIP answer at once, so the request passes
// through. The Redis directory answers at once from its cache; otherwise the
// request waits there (a DirectoryWaiter) for the answer, which comes by the
// directory's timeout at the latest, and is resolved again with it (at most
// once per directory source: token-account, then directory). closed() (the
// client reset, or the connection went away) cancels the wait. closed() is the one end of every request: it unlinks the
// origin stream if there is one (OriginSession::detach, RST_STREAM CANCEL),
// returns unforwarded body bytes to the client connection's window, and
// writes the access-log line (every request that reached kResolving is
// logged, whatever its state; the outcome says how it ended).
//
// Owned by its ClientSession (one per client stream), worker-thread only.
// Header values are held as nghttp2's reference-counted buffers, never copied.

#include <nghttp2/nghttp2.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/canonical_request.h"
#include "policy/request_decision.h"
#include "policy/snapshot.h"
#include "proxy/directory/redis_directory.h"
#include "proxy/http2/body_buffer.h"
#include "proxy/http2/header_list.h"
#include "proxy/net/event_loop.h"
#include "proxy/origin/health_board.h"
#include "proxy/origin/origin_exchange.h"

namespace regiongate {

class ClientHost;
class ClientSession;

class ProxiedRequest final : public OriginExchange, private DirectoryWaiter {
 public:
  enum class State : std::uint8_t {
    kReceivingHeaders,
    kResolving,
    kDeciding,
    kConnecting,
    kForwarding,
    kResponding,
    kDone,
  };
  static std::string_view state_name(State state);

  ProxiedRequest(ClientSession& session, ClientHost& host, std::int32_t stream_id);
  ~ProxiedRequest();
  ProxiedRequest(const ProxiedRequest&) = delete;
  ProxiedRequest& operator=(const ProxiedRequest&) = delete;

  std::int32_t stream_id() const { return stream_id_; }
  State state() const { return state_; }
  bool headers_done() const { return state_ != State::kReceivingHeaders; }

  // --- From the client session. -------------------------------------------
  // One request header field (the session has checked the limits).
  void add_header(nghttp2_rcbuf* name, nghttp2_rcbuf* value);
  // Whether a header or trailer kept so far has this very value buffer (the
  // same HPACK table entry used again).
  bool holds_value(const nghttp2_rcbuf* value) const;
  // One trailer field; false when it is one too many (the stream is reset).
  bool add_trailer(nghttp2_rcbuf* name, nghttp2_rcbuf* value);
  // The request's header block is complete: resolve, decide, forward.
  void headers_complete();
  // Request body bytes, and its end (END_STREAM).
  void body(const std::uint8_t* data, std::size_t len);
  void ended();
  // Body bytes nobody will forward, dropped by the session (the window kept open).
  void discarded(std::size_t len);
  // False when nobody will forward the body: the session discards it and
  // keeps the window open.
  bool wants_body() const;
  // The response body for nghttp2's data provider.
  ssize_t read_response(std::uint8_t* buf, std::size_t len, std::uint32_t* flags);
  // The client stream is over ("complete", "reset" or "connection-closed"):
  // the last call. Logs the request if it got as far as kResolving.
  void closed(std::string_view outcome);

  std::size_t session_slot = 0;  // in ClientSession's set of requests
  // The header block being received (the headers, then the trailers): its
  // size and field count so far, for the session's limits, and whether it
  // is past them (counted to its end, nothing more kept).
  std::size_t block_bytes = 0, block_fields = 0;
  bool block_too_large = false;

  // --- OriginExchange. -------------------------------------------------------
  void origin_request_headers(std::vector<nghttp2_nv>* nv) override;
  BodyBuffer& origin_request_body() override { return request_body_; }
  bool origin_request_ended() const override { return request_ended_; }
  const HeaderList& origin_request_trailers() const override { return request_trailers_; }
  void origin_request_body_taken(std::size_t n) override;
  void origin_request_submitted() override;
  std::int32_t origin_stream_window() override;
  bool origin_header(nghttp2_rcbuf* name, nghttp2_rcbuf* value) override;
  void origin_response(bool end_stream) override;
  void origin_body(const std::uint8_t* data, std::size_t len) override;
  void origin_body_end() override;
  void origin_failed(const std::string& why, bool retryable) override;
  void origin_closed(std::uint32_t error_code) override;

 private:
  // Resolves the account country and decides; may leave the request
  // waiting in kResolving for the Redis directory.
  void resolve();
  // DirectoryWaiter: the Redis directory answered the lookup resolve() waits for.
  void on_directory_answer(DirectoryResult result) noexcept override;
  // The decision is made (routed_): refuse, or forward.
  void decided();
  void count_directory_unavailable();
  // route_request with the measured round trips (server.health.nearest: latency).
  void route_by_latency(RequestInput& in);
  // Tries the decision's candidates from candidate_ on.
  void forward();
  // Whether serving the request at `center` puts it in the audit log (the
  // rule of audit_wanted()): what a required audit log that cannot be
  // written refuses (503).
  bool audited_at(const DataCenter& center) const;
  // `www_authenticate`: the challenge of a 401 (RFC 6750 §3), or empty.
  void respond_locally(int status, std::string_view reason, const std::string& detail,
                       std::string_view www_authenticate = {});
  // Past body_limit_: 413 (or, with the response begun, both streams reset).
  void body_too_large();
  // The bearer token, when the snapshot verifies tokens: false when the
  // request was refused for it (401).
  bool authenticate();
  void on_response_timeout();
  // timeouts.stall: resets the stream when the client has taken none of
  // the bytes waiting for it for that long.
  void on_stall_check();
  // Unlinks the origin stream, if any, dropping what it had buffered.
  void leave_origin();
  void count_decision_header(std::uint8_t* seen);
  void hold_dropped(nghttp2_rcbuf* value);
  // Passive health: how the endpoint in use answered.
  void report_origin(bool ok);
  // The request's metrics, then its log lines (write_log_record()).
  void log(std::string_view outcome) const;
  // Fills the request's RequestRecord and hands it to the logs: everything
  // logging costs on the worker happens below this call, and it is kept a
  // call of its own (never inlined) so that a profile of the worker can
  // tell that cost from the rest (bench/log_cost.sh --perf).
  [[gnu::noinline]] void write_log_record(std::string_view outcome, std::uint64_t duration_us) const;

  ClientSession& session_;
  ClientHost& host_;
  const std::int32_t stream_id_;
  State state_ = State::kReceivingHeaders;
  std::uint64_t started_ns_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::uint64_t snapshot_version_;
  std::shared_ptr<const HealthView> health_;  // of snapshot_

  // The request as received. Only routed_.target (canonical) is classified
  // and forwarded.
  HeaderList headers_;          // regular headers to forward
  HeaderList request_trailers_;
  std::vector<nghttp2_rcbuf*> held_;  // buffers behind the views below, and dropped fields
  std::string_view method_, scheme_, authority_, host_header_, path_, account_id_, forwarded_for_;
  std::string_view authorization_;
  // The verified token (token_ when has_token_): its claims, for this request.
  VerifiedToken token_;
  bool has_token_ = false;
  std::string challenge_;  // storage for a 401's www-authenticate
  // Each header that feeds the decision is taken from one place: a second
  // one (or a list in the account header) refuses the request.
  std::uint8_t host_headers_ = 0, account_headers_ = 0, forwarded_for_headers_ = 0;
  std::uint8_t authorization_headers_ = 0;
  RequestFault header_fault_ = RequestFault::kNone;
  BodyBuffer request_body_;
  bool request_ended_ = false;
  std::uint64_t bytes_in_ = 0;
  // Its service's requests.max_body, once decided (before: the stream's
  // window bounds what waits); and the content-length it declared, if any.
  std::uint64_t body_limit_ = UINT64_MAX;
  std::uint64_t declared_length_ = 0;
  std::uint64_t discarded_bytes_ = 0;  // of the body, after its answer (discarded())
  bool asked_to_stop_ = false;
  std::uint64_t request_bytes_sent_ = 0;  // to the origin; a refused stream is retried only at 0

  // The Redis directory's answers so far (at most one per directory source),
  // and the directory a lookup is pending in (null: none).
  std::array<DirectoryAnswer, 2> directory_answers_{};
  std::uint8_t directory_answer_count_ = 0;
  RedisDirectory* waiting_on_ = nullptr;

  // The decision (on snapshot_, the snapshot the request started with).
  TargetStorage target_storage_;
  RoutedRequest routed_;
  std::uint8_t candidate_ = 0;       // index into routed_.decision.candidates being tried
  std::uint8_t endpoint_first_ = 0;  // where this data centre's endpoints start (weighted)
  std::uint8_t endpoint_try_ = 0;    // endpoints of this data centre tried so far
  std::uint8_t refusals_ = 0;        // REFUSED_STREAM retries so far (bounded)
  std::size_t endpoint_index_ = 0;   // the endpoint of datacenter_ being used
  DataCenterIndex datacenter_ = kNoDataCenterIndex;
  std::string origin_error_;
  std::string forwarded_for_out_, country_out_;  // storage for the origin's headers

  // The response.
  std::string_view response_status_;
  HeaderList response_headers_, response_trailers_;
  std::size_t response_header_bytes_ = 0;
  BodyBuffer response_body_;
  // Of its client connection's response window (ClientSession::
  // reserve_response_window), beyond the base every origin stream has;
  // reserved once, for every origin stream the request goes to, released
  // with the request (its buffer goes with it).
  std::uint32_t response_window_extra_ = 0;
  bool response_window_reserved_ = false;
  bool response_ended_ = false;
  bool response_submitted_ = false;
  std::string local_body_;         // a response the gateway makes itself
  std::string_view local_reason_;  // its x-regiongate-reason (static storage)
  int status_ = 0;                 // the status sent to the client
  std::uint64_t bytes_out_ = 0;
  Timer response_timer_;  // armed when the request is sent; response headers stop it
  // While response bytes wait for the client: when it last took some (the
  // loop's time), checked every timeouts.stall (on_stall_check).
  Timer stall_timer_;
  double last_taken_ = 0;
};

}  // namespace regiongate
