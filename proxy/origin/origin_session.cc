#include "proxy/origin/origin_session.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "proxy/http2/callbacks.h"
#include "proxy/net/sockets.h"
#include "proxy/net/tls_context.h"
#include "proxy/origin/origin_pool.h"

namespace regiongate {
namespace {

double seconds(Milliseconds ms) { return std::chrono::duration<double>(ms).count(); }

}  // namespace

OriginSession::OriginSession(OriginPool& pool, const OriginEndpoint& endpoint)
    : H2Connection(pool.context().loop, nullptr), pool_(pool), endpoint_(endpoint) {
  nghttp2_option* option;
  nghttp2_option_new(&option);
  // The client side opens our receive window as it takes response bytes.
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_max_settings(option, 32);
  nghttp2_session_client_new2(&session_, session_callbacks<OriginSession>(), this, option);
  nghttp2_option_del(option);
  idle_timer_.init<OriginSession, &OriginSession::on_idle_timeout>(loop_, this);
  connect_timer_.init<OriginSession, &OriginSession::on_connect_timeout>(loop_, this);
  dns_timer_.init<OriginSession, &OriginSession::on_dns_expired>(loop_, this);
}

OriginSession::~OriginSession() {
  if (dns_query_ != DnsResolver::kNoQuery) pool_.context().dns->cancel(dns_query_);
}

void OriginSession::begin() {
  // An IP literal or a cached answer calls back before resolve() returns
  // (which then returns kNoQuery).
  dns_query_ = pool_.context().dns->resolve(
      endpoint_.host, [this](const DnsResult& result) { on_resolved(result); });
}

void OriginSession::arm_dns_timer(const DnsResult& result) {
  if (result.expires == std::chrono::steady_clock::time_point::max()) return;  // an IP literal
  auto left = result.expires - std::chrono::steady_clock::now();
  dns_timer_.arm(std::max(0.001, std::chrono::duration<double>(left).count()));
}

void OriginSession::on_resolved(const DnsResult& result) {
  dns_query_ = DnsResolver::kNoQuery;
  if (closed()) return;
  if (result.status != DnsStatus::kOk) {
    close("DNS " + endpoint_.host + ": " + to_string(result.status) +
          (result.message.empty() ? "" : " (" + result.message + ")"));
    return;
  }
  addresses_ = result.addresses;
  arm_dns_timer(result);
  state_ = State::kConnecting;
  std::string error;
  if (!connect_next(&error)) close(error);
}

bool OriginSession::connect_next(std::string* error) {
  while (next_address_ < addresses_.size()) {
    const IpAddress& address = addresses_[next_address_++];
    sockaddr_storage ss;
    socklen_t len = address.to_sockaddr(&ss, endpoint_.port);
    int fd = connect_tcp(reinterpret_cast<sockaddr*>(&ss), len, error);
    if (fd < 0) continue;
    SSL* ssl = nullptr;
    if (endpoint_.tls) {
      ssl = pool_.context().tls->new_connection(fd, endpoint_.host, endpoint_.sni);
      if (!ssl) {
        ::close(fd);
        *error = "TLS: cannot create a connection";
        return false;
      }
    }
    connected_address_ = address;
    connect_with(std::make_unique<Transport>(fd, ssl));
    connect_timer_.arm(seconds(pool_.context().config->reloadable.timeouts.connect));
    return true;
  }
  if (error->empty()) *error = "no address for " + endpoint_.host;
  return false;
}

bool OriginSession::on_connect_failed(const std::string& why) {
  std::string error = why;
  return connect_next(&error);  // the last address's error closes the session
}

void OriginSession::on_connect_timeout() {
  std::string error = "connect timed out";
  if (tcp_connecting() && connect_next(&error)) return;
  close(error);
}

// The answer this connection came from has expired: ask again. While its
// address is still in the answer the connection stays in service (no churn
// for a record that did not change); otherwise, or when the name no longer
// resolves, it takes no new streams.
void OriginSession::on_dns_expired() {
  dns_query_ = pool_.context().dns->resolve(
      endpoint_.host, [this](const DnsResult& result) { on_dns_refreshed(result); });
}

void OriginSession::on_dns_refreshed(const DnsResult& result) {
  dns_query_ = DnsResolver::kNoQuery;
  if (closed()) return;
  const auto& now = result.addresses;
  if (result.status == DnsStatus::kOk &&
      std::find(now.begin(), now.end(), connected_address_) != now.end()) {
    arm_dns_timer(result);
    return;
  }
  retired_ = true;
  pool_.retire(this);
  close_if_retired();
}

void OriginSession::close_if_retired() {
  if (!retired_ || closed() || active_streams() > 0) return;
  if (state_ != State::kReady) {
    close("DNS answer expired");
    return;
  }
  nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
  state_ = State::kDraining;
  schedule_flush();
}

bool OriginSession::open_for_streams() const {
  return state_ != State::kDraining && !retired_ && !closed();
}

std::size_t OriginSession::stream_limit() const {
  // Before SETTINGS arrive, RFC 9113 suggests no fewer than 100; streams
  // past the real limit wait inside nghttp2 for a slot.
  return state_ == State::kReady ? nghttp2_session_get_remote_settings(
                                       session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
                                 : 100;
}

OriginExchange* OriginSession::exchange_of(std::int32_t stream_id) const {
  return static_cast<OriginExchange*>(nghttp2_session_get_stream_user_data(session_, stream_id));
}

// The transport is up: our SETTINGS go out. Streams wait for the origin's
// SETTINGS (its preface, already on its way), so that none is sent past its
// SETTINGS_MAX_CONCURRENT_STREAMS only to be refused: nghttp2 holds those
// past the limit until a slot frees.
void OriginSession::on_ready() {
  const Http2Settings& h2 = pool_.context().config->reloadable.http2;
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kBaseStreamWindow},
  };
  send_settings(settings, std::size(settings), h2.connection_window_size);
}

void OriginSession::on_origin_settings() {
  connect_timer_.stop();
  state_ = State::kReady;
  std::vector<OriginExchange*> waiting;
  waiting.swap(waiting_);
  for (OriginExchange* e : waiting) submit(*e);
  schedule_flush();
}

void OriginSession::on_idle_timeout() {
  if (active_streams() == 0) {
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
    state_ = State::kDraining;
    schedule_flush();
  }
}

void OriginSession::attach(OriginExchange& exchange) {
  idle_timer_.stop();
  exchange.origin_ = this;
  exchange.request_sent_ = false;
  if (state_ == State::kReady) {
    submit(exchange);
    schedule_flush();
  } else {
    waiting_.push_back(&exchange);
  }
}

void OriginSession::submit(OriginExchange& exchange) {
  std::vector<nghttp2_nv>& nv = nv_scratch_;
  nv.clear();
  exchange.origin_request_headers(&nv);
  nghttp2_data_provider body;
  body.source.ptr = this;
  body.read_callback = [](nghttp2_session*, std::int32_t id, std::uint8_t* buf, std::size_t len,
                          std::uint32_t* flags, nghttp2_data_source* src, void*) noexcept {
    return guarded(
        [&] { return static_cast<OriginSession*>(src->ptr)->read_request_body(id, buf, len, flags); },
        static_cast<ssize_t>(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE));
  };
  // Trailers travel after the (maybe empty) body: a request that ended with
  // trailers and no body still needs the data provider that submits them.
  const bool has_body = !(exchange.origin_request_ended() && exchange.origin_request_body().empty() &&
                          exchange.origin_request_trailers().empty());
  std::int32_t id = nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(),
                                           has_body ? &body : nullptr, &exchange);
  if (id < 0) {
    let_go(exchange);
    exchange.origin_failed(std::string("submit: ") + nghttp2_strerror(id), /*retryable=*/true);
    return;
  }
  exchange.origin_stream_id_ = id;
  exchange.origin_bytes_in_ = 0;
  exchange.request_sent_ = true;
  active_.insert(&exchange);
  exchange.origin_request_submitted();
}

void OriginSession::let_go(OriginExchange& exchange) {
  exchange.origin_ = nullptr;
  if (active_.contains(&exchange)) {
    active_.erase(&exchange);
    nghttp2_session_set_stream_user_data(session_, exchange.origin_stream_id_, nullptr);
    return;
  }
  waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), &exchange), waiting_.end());
}

void OriginSession::detach(OriginExchange& exchange) {
  const bool sent = active_.contains(&exchange);
  let_go(exchange);
  if (sent) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, exchange.origin_stream_id_,
                              NGHTTP2_CANCEL);
    schedule_flush();
    became_idle_if_empty();
  }
}

// The client took n bytes of the stream's buffer: the stream's window
// opens by as much. (Its share of the connection window came back when the
// bytes arrived.)
void OriginSession::consume(const OriginExchange& exchange, std::size_t n) {
  nghttp2_session_consume_stream(session_, exchange.origin_stream_id_, n);
  schedule_flush();
}

void OriginSession::resume(const OriginExchange& exchange) {
  nghttp2_session_resume_data(session_, exchange.origin_stream_id_);
  schedule_flush();
}

ssize_t OriginSession::read_request_body(std::int32_t stream_id, std::uint8_t* buf,
                                         std::size_t len, std::uint32_t* flags) {
  OriginExchange* e = exchange_of(stream_id);
  if (!e) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  BodyBuffer& body = e->origin_request_body();
  std::size_t n = body.take(buf, len);
  if (n > 0) e->origin_request_body_taken(n);
  if (body.empty() && e->origin_request_ended()) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!e->origin_request_trailers().empty()) {
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      std::vector<nghttp2_nv> nv;
      e->origin_request_trailers().append_nv(&nv);
      nghttp2_submit_trailer(session_, stream_id, nv.data(), nv.size());
    }
    return static_cast<ssize_t>(n);
  }
  if (n == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(n);
}

int OriginSession::on_begin_headers(const nghttp2_frame*) { return 0; }

int OriginSession::on_header(const nghttp2_frame* frame, nghttp2_rcbuf* name,
                             nghttp2_rcbuf* value) {
  OriginExchange* e = exchange_of(frame->hd.stream_id);
  if (!e) return 0;
  return e->origin_header(name, value) ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

int OriginSession::on_frame_recv(const nghttp2_frame* frame) {
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    // No new streams here (new ones get a new connection); nghttp2 closes
    // those above last_stream_id with REFUSED_STREAM, which the client side
    // may retry elsewhere.
    state_ = State::kDraining;
    pool_.retire(this);
    return 0;
  }
  if (frame->hd.type == NGHTTP2_SETTINGS) {
    if (!(frame->hd.flags & NGHTTP2_FLAG_ACK) && state_ == State::kConnecting) on_origin_settings();
    return 0;
  }
  OriginExchange* e = exchange_of(frame->hd.stream_id);
  if (!e) return 0;
  bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
  if (frame->hd.type == NGHTTP2_HEADERS) {
    if (frame->headers.cat == NGHTTP2_HCAT_RESPONSE) {
      e->origin_response(end);
    } else if (frame->headers.cat == NGHTTP2_HCAT_HEADERS && end) {
      e->origin_body_end();  // the trailers came through origin_header()
    } else if (frame->headers.cat == NGHTTP2_HCAT_HEADERS) {
      // A 1xx response was followed by the final one: nothing to do.
    }
  } else if (frame->hd.type == NGHTTP2_DATA && end) {
    e->origin_body_end();
  }
  return 0;
}

int OriginSession::on_data_chunk(std::int32_t stream_id, const std::uint8_t* data,
                                 std::size_t len) {
  OriginExchange* e = exchange_of(stream_id);
  if (!e) {
    // Nobody wants it any more: give the window back at once.
    nghttp2_session_consume(session_, stream_id, len);
    return 0;
  }
  e->origin_body(data, len);
  raise_window_if_large(*e, len);
  // The connection's window is given back as soon as bytes are buffered,
  // and only the stream's waits for the client to take them: one client
  // that never opens its window (a zero-window stall) then holds up its
  // own streams, each at most one stream window, and never the connection
  // other clients' streams share.
  nghttp2_session_consume_connection(session_, len);
  schedule_flush();
  return 0;
}

// Half the base window in, the response is a large one: its window grows
// to what its exchange may hold (once per origin stream; the WINDOW_UPDATE
// reaches the origin while it still has the other half to send). A small
// response never costs the frame.
void OriginSession::raise_window_if_large(OriginExchange& exchange, std::size_t len) {
  if (exchange.origin_bytes_in_ >= kBaseStreamWindow / 2) return;  // raised already
  exchange.origin_bytes_in_ += len;
  if (exchange.origin_bytes_in_ < kBaseStreamWindow / 2) return;
  const std::int32_t window = exchange.origin_stream_window();
  if (window > kBaseStreamWindow) {
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, exchange.origin_stream_id_, window);
  }
}

int OriginSession::on_stream_close(std::int32_t stream_id, std::uint32_t error_code) {
  if (OriginExchange* e = exchange_of(stream_id)) {
    // What the client has not taken yet stays buffered (its connection
    // window came back when it arrived): the client reads it on.
    let_go(*e);
    e->origin_closed(error_code);
  }
  became_idle_if_empty();
  return 0;
}

void OriginSession::became_idle_if_empty() {
  if (active_streams() > 0 || closed()) return;
  if (retired_) {
    close_if_retired();
  } else {
    idle_timer_.arm(seconds(pool_.context().config->reloadable.timeouts.origin_idle));
  }
}

void OriginSession::on_closed(const std::string& why) {
  close_reason_ = why;
  idle_timer_.stop();
  connect_timer_.stop();
  dns_timer_.stop();
  if (dns_query_ != DnsResolver::kNoQuery) {
    pool_.context().dns->cancel(dns_query_);
    dns_query_ = DnsResolver::kNoQuery;
  }
  // Streams that never reached the wire may go elsewhere; the others fail.
  std::vector<OriginExchange*> waiting;
  waiting.swap(waiting_);
  for (OriginExchange* e : waiting) {
    e->origin_ = nullptr;
    e->origin_failed(why, /*retryable=*/true);
  }
  for (OriginExchange* e : active_.take()) {
    e->origin_ = nullptr;
    nghttp2_session_set_stream_user_data(session_, e->origin_stream_id_, nullptr);
    e->origin_failed(why, /*retryable=*/false);
  }
  pool_.session_closed(this, why);
}

}  // namespace regiongate
