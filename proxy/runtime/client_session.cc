#include "proxy/runtime/client_session.h"

#include <chrono>
#include <cstring>

#include "policy/explain.h"
#include "util/json.h"
#include "proxy/runtime/origin_pool.h"
#include "proxy/runtime/origin_session.h"
#include "proxy/runtime/worker.h"

namespace regiongate {
namespace {

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr std::size_t kPrefaceLength = sizeof(kPreface) - 1;

std::string_view view(nghttp2_rcbuf* buf) {
  nghttp2_vec v = nghttp2_rcbuf_get_buf(buf);
  return {reinterpret_cast<const char*>(v.base), v.len};
}

// The answer to a client that speaks HTTP/1: its Content-Length counted
// from the body itself, once.
const std::string& http1_refusal() {
  static const std::string response = [] {
    const std::string body =
        "regiongate speaks HTTP/2 only: use TLS with ALPN h2, or cleartext with prior "
        "knowledge.\n";
    return "HTTP/1.1 505 HTTP Version Not Supported\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "X-Regiongate-Reason: http2-required\r\n"
           "Connection: close\r\n"
           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return response;
}

ClientSession* self(void* user_data) { return static_cast<ClientSession*>(user_data); }

ClientStream* stream_of(nghttp2_session* session, std::int32_t id) {
  return static_cast<ClientStream*>(nghttp2_session_get_stream_user_data(session, id));
}

// Headers that describe one hop, not the request (RFC 9113 8.2.2; nghttp2
// already rejects most of them in HTTP/2), and our own internal ones, which a
// client must never be able to set.
// `te` passes (nghttp2 lets only "te: trailers" through, which gRPC needs).
bool dropped_header(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name == "x-forwarded-for" ||
         name.rfind("x-regiongate-", 0) == 0;
}

// One static callback table for every client session (STYLE 7).
nghttp2_session_callbacks* callbacks() {
  static nghttp2_session_callbacks* cbs = [] {
    nghttp2_session_callbacks* c;
    nghttp2_session_callbacks_new(&c);
    nghttp2_session_callbacks_set_on_begin_headers_callback(
        c, [](nghttp2_session*, const nghttp2_frame* f, void* u) {
          return self(u)->on_begin_headers(f);
        });
    nghttp2_session_callbacks_set_on_header_callback2(
        c, [](nghttp2_session*, const nghttp2_frame* f, nghttp2_rcbuf* n, nghttp2_rcbuf* v,
              std::uint8_t, void* u) { return self(u)->on_header(f, n, v); });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        c, [](nghttp2_session*, const nghttp2_frame* f, void* u) {
          return self(u)->on_frame_recv(f);
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        c, [](nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* d,
              std::size_t len, void* u) { return self(u)->on_data_chunk(id, d, len); });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        c, [](nghttp2_session*, std::int32_t id, std::uint32_t code, void* u) {
          return self(u)->on_stream_close(id, code);
        });
    return c;
  }();
  return cbs;
}

}  // namespace

namespace {

nghttp2_nv make_nv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

void release(ClientStream::Headers& headers) {
  for (ClientStream::Header& h : headers) {
    nghttp2_rcbuf_decref(h.name);
    nghttp2_rcbuf_decref(h.value);
  }
  headers.clear();
}

// Response headers that describe the origin hop only.
bool dropped_response_header(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name.rfind("x-regiongate-", 0) == 0;
}

}  // namespace

ClientStream::~ClientStream() {
  release(headers);
  release(request_trailers);
  release(response_headers);
  release(response_trailers);
  for (nghttp2_rcbuf* b : held_) nghttp2_rcbuf_decref(b);
}

void ClientStream::origin_request_headers(std::vector<nghttp2_nv>* nv) {
  const Snapshot& snap = *snapshot;
  nv->reserve(headers.size() + 8);
  // The canonical target: exactly what the decision was made on.
  nv->push_back(make_nv(":method", method));
  nv->push_back(make_nv(":scheme", scheme.empty() ? "http" : scheme));
  if (!routed.target.authority.authority.empty()) {
    nv->push_back(make_nv(":authority", routed.target.authority.authority));
  }
  nv->push_back(make_nv(":path", routed.target.path));
  for (const Header& h : headers) nv->push_back(make_nv(view(h.name), view(h.value)));
  // x-forwarded-for: what a trusted proxy sent (an untrusted peer's is
  // dropped), plus the peer we saw.
  forwarded_for_out_.clear();
  if (!forwarded_for.empty() && routed.client_from_forwarded) {
    forwarded_for_out_ = std::string(forwarded_for) + ", ";
  }
  forwarded_for_out_ += session->peer_text();
  nv->push_back(make_nv("x-forwarded-for", forwarded_for_out_));
  country_out_ = std::string(country_code(routed.country.account));
  nv->push_back(make_nv("x-regiongate-country", country_out_));
  datacenter_out_ = snap.datacenters.all[datacenter].id;
  nv->push_back(make_nv("x-regiongate-dc", datacenter_out_));
}

void ClientStream::on_response_timeout() { session->response_timed_out(*this); }

void ClientStream::trailer_nv(const Headers& trailers, std::vector<nghttp2_nv>* nv) {
  for (const Header& h : trailers) nv->push_back(make_nv(view(h.name), view(h.value)));
}

bool ClientStream::add_response_header(nghttp2_rcbuf* name, nghttp2_rcbuf* value) {
  std::string_view n = view(name);
  response_header_bytes_ += n.size() + view(value).size() + 32;
  if (response_header_bytes_ > 256 * 1024 || response_headers.size() > 512) return false;
  if (n == ":status") {
    nghttp2_rcbuf_incref(value);
    held_.push_back(value);
    response_status = view(value);
    return true;
  }
  if (dropped_response_header(n)) return true;
  nghttp2_rcbuf_incref(name);
  nghttp2_rcbuf_incref(value);
  (response_submitted ? response_trailers : response_headers).push_back({name, value});
  return true;
}

ClientSession::ClientSession(Worker& worker, std::unique_ptr<Transport> transport,
                             const IpAddress& peer)
    : H2Connection(worker.loop(), std::move(transport)),
      worker_(worker),
      peer_(peer),
      peer_text_(peer.to_string()) {
  nghttp2_option* option;
  nghttp2_option_new(&option);
  nghttp2_option_set_max_send_header_block_length(option, 64 * 1024);
  // Request bodies: the window opens as the origin takes the bytes (bounded memory).
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_max_settings(option, 32);
  nghttp2_session_server_new2(&session_, callbacks(), this, option);
  nghttp2_option_del(option);
  idle_timer_.init<ClientSession, &ClientSession::on_idle_timeout>(loop_, this);
  idle_since_ = ev_now(loop_);
  idle_timer_.arm(std::chrono::duration<double>(worker_.config().timeouts.idle).count());
}

ClientSession::~ClientSession() { drop_streams(); }

void ClientSession::drop_streams() {
  for (ClientStream* s : streams_.take()) {
    if (s->origin) s->origin->detach(*s);
    if (s->headers_done) {
      s->outcome = "connection-closed";
      worker_.log_request(*this, *s);
    }
    nghttp2_session_set_stream_user_data(session_, s->id, nullptr);
    delete s;
  }
}

void ClientSession::on_ready() {
  const Http2Settings& h2 = worker_.config().http2;
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, h2.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, h2.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, h2.max_header_list_size},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, h2.max_frame_size},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  if (h2.connection_window_size > 65535) {
    nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                          static_cast<std::int32_t>(h2.connection_window_size));
  }
}

bool ClientSession::may_send() const { return preface_checked_ == kPrefaceLength; }

bool ClientSession::on_raw_input(const std::uint8_t* data, std::size_t len) {
  if (preface_checked_ == kPrefaceLength) return true;
  // Check the client preface ourselves, so that an HTTP/1 client gets an
  // answer it can read instead of a silent close.
  std::size_t n = std::min(len, kPrefaceLength - preface_checked_);
  if (std::memcmp(data, kPreface + preface_checked_, n) == 0) {
    preface_checked_ += n;
    return true;
  }
  write_raw_and_close(http1_refusal());
  worker_.counters().http1_refused++;
  schedule_flush();
  return false;
}

void ClientSession::on_closed(const std::string& why) {
  idle_timer_.stop();
  drop_streams();
  worker_.session_closed(this, why);
}

void ClientSession::shut_down() {
  if (closed()) return;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  schedule_flush();
}

// The timer is not moved per request (two heap operations each): it fires
// at least every `idle` and closes the connection only when it has had no
// stream for that long; otherwise it waits for the rest.
void ClientSession::on_idle_timeout() {
  const double idle = std::chrono::duration<double>(worker_.config().timeouts.idle).count();
  const double quiet = open_streams_ > 0 ? 0 : ev_now(loop_) - idle_since_;
  if (quiet < idle) {
    idle_timer_.arm(idle - quiet);
    return;
  }
  nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
  schedule_flush();
}

int ClientSession::on_begin_headers(const nghttp2_frame* frame) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto* stream = new ClientStream(*this, frame->hd.stream_id);
  stream->response_timer.init<ClientStream, &ClientStream::on_response_timeout>(loop_, stream);
  stream->started_ns = static_cast<std::uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
  nghttp2_session_set_stream_user_data(session_, frame->hd.stream_id, stream);
  streams_.insert(stream);
  ++open_streams_;
  return 0;
}

int ClientSession::on_header(const nghttp2_frame* frame, nghttp2_rcbuf* name,
                             nghttp2_rcbuf* value) {
  ClientStream* stream = stream_of(session_, frame->hd.stream_id);
  if (!stream) return 0;
  std::string_view n = view(name), v = view(value);
  if (stream->headers_done) {  // trailers
    // What fed the decision came from the headers, once: a trailer must not
    // hand an origin that merges trailers a second host or account.
    if (n.empty() || n[0] == ':' || dropped_header(n) || n == "host" ||
        n == worker_.snapshot_identity_header()) {
      return 0;
    }
    // Bounded like the headers: in count and in size (RFC 9113 6.5.2's 32
    // bytes of overhead per field), or a client could park megabytes here.
    stream->trailer_bytes += n.size() + v.size() + 32;
    if (stream->request_trailers.size() >= 64 ||
        stream->trailer_bytes > worker_.config().http2.max_header_list_size) {
      worker_.counters().header_limit_resets++;
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    nghttp2_rcbuf_incref(name);
    nghttp2_rcbuf_incref(value);
    stream->request_trailers.push_back({name, value});
    return 0;
  }
  // RFC 9113 6.5.2: 32 bytes of overhead per field.
  stream->header_bytes += n.size() + v.size() + 32;
  if (stream->header_bytes > worker_.config().http2.max_header_list_size ||
      stream->headers.size() >= 256) {
    worker_.counters().header_limit_resets++;
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets this stream only
  }
  std::string_view* pseudo = n == ":method"      ? &stream->method
                             : n == ":scheme"    ? &stream->scheme
                             : n == ":authority" ? &stream->authority
                             : n == ":path"      ? &stream->path
                                                 : nullptr;
  if (pseudo) {
    nghttp2_rcbuf_incref(value);
    stream->held_.push_back(value);
    *pseudo = v;
    return 0;
  }
  // Never forwarded: :authority (or this, canonical) is.
  if (n == "host") {
    count_decision_header(*stream, &stream->host_headers);
    nghttp2_rcbuf_incref(value);
    stream->held_.push_back(value);
    stream->host_header = v;
    return 0;
  }
  const bool account = n == worker_.snapshot_identity_header();
  if (account || n == "x-forwarded-for") {
    count_decision_header(*stream, account ? &stream->account_headers
                                           : &stream->forwarded_for_headers);
    if (account && v.find(',') != std::string_view::npos &&
        stream->header_fault == RequestFault::kNone) {
      stream->header_fault = RequestFault::kListValue;
    }
    nghttp2_rcbuf_incref(value);
    stream->held_.push_back(value);
    (account ? stream->account_id : stream->forwarded_for) = v;
  }
  if (dropped_header(n)) return 0;
  nghttp2_rcbuf_incref(name);
  nghttp2_rcbuf_incref(value);
  stream->headers.push_back({name, value});
  return 0;
}

void ClientSession::count_decision_header(ClientStream& stream, std::uint8_t* seen) {
  if (++*seen > 1 && stream.header_fault == RequestFault::kNone) {
    stream.header_fault = RequestFault::kDuplicateHeader;
  }
  if (*seen > 2) *seen = 2;  // no wrap-around, however many come
}

int ClientSession::on_frame_recv(const nghttp2_frame* frame) {
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  ClientStream* stream = stream_of(session_, frame->hd.stream_id);
  if (!stream) return 0;
  bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
  if (end) stream->request_ended = true;
  if (frame->hd.type == NGHTTP2_HEADERS && !stream->headers_done &&
      (frame->hd.flags & NGHTTP2_FLAG_END_HEADERS)) {
    stream->headers_done = true;
    handle_request(*stream);
    return 0;
  }
  if (end && stream->origin && stream->request_sent) stream->origin->resume(stream->origin_stream_id);
  return 0;
}

int ClientSession::on_data_chunk(std::int32_t stream_id, const std::uint8_t* data,
                                 std::size_t len) {
  ClientStream* stream = stream_of(session_, stream_id);
  if (!stream || !stream->local_body.empty() || stream->status != 0 ||
      stream->datacenter == kNoDataCenterIndex) {
    // Nobody will forward it: discard, and keep the window open.
    nghttp2_session_consume(session_, stream_id, len);
    return 0;
  }
  stream->bytes_in += len;
  stream->request_body.append(data, len);
  if (stream->origin && stream->request_sent) stream->origin->resume(stream->origin_stream_id);
  return 0;
}

int ClientSession::on_stream_close(std::int32_t stream_id, std::uint32_t error_code) {
  ClientStream* stream = stream_of(session_, stream_id);
  if (!stream) return 0;
  if (stream->origin) stream->origin->detach(*stream);  // the client reset or went away
  // Body bytes nobody will forward: return them to the connection window.
  if (std::size_t n = stream->request_body.clear()) nghttp2_session_consume_connection(session_, n);
  stream->outcome = error_code == NGHTTP2_NO_ERROR ? "complete" : "reset";
  worker_.log_request(*this, *stream);
  nghttp2_session_set_stream_user_data(session_, stream_id, nullptr);
  streams_.erase(stream);
  delete stream;
  if (--open_streams_ == 0) idle_since_ = ev_now(loop_);
  return 0;
}

const GeoipResult* ClientSession::peer_geoip(const Snapshot& snap) {
  if (!snap.geoip) return nullptr;
  if (snap.geoip != peer_geoip_database_) {  // first request, or a reloaded database
    sockaddr_storage ss;
    peer_.to_sockaddr(&ss);
    peer_geoip_ = snap.geoip->lookup(reinterpret_cast<const sockaddr*>(&ss));
    peer_geoip_database_ = snap.geoip;
  }
  return &peer_geoip_;
}

void ClientSession::handle_request(ClientStream& stream) {
  stream.snapshot = worker_.snapshot();
  const std::shared_ptr<const Snapshot>& snap = stream.snapshot;
  RequestInput in;
  in.target = {stream.method, stream.scheme, stream.authority, stream.host_header, stream.path};
  in.header_fault = stream.header_fault;
  in.account_id = stream.account_id;
  in.forwarded_for = stream.forwarded_for;
  in.peer = peer_;
  in.peer_geoip = peer_geoip(*snap);
  in.now = worker_.now();
  in.healthy = worker_.healthy_datacenters();
  stream.routed = route_request(*snap, in, stream.target_storage);
  if (RequestFault fault = stream.routed.target.fault; fault != RequestFault::kNone) {
    // Refused before any decision: nothing about it can be read one way only.
    respond_locally(stream, 400, fault_code(fault), std::string(fault_reason(fault)));
    return;
  }
  const Decision& d = stream.routed.decision;
  if (!d.routed()) {
    respond_locally(stream, d.status(), reason_code(d.reason),
                    describe_decision(*snap, stream.routed.country.account, stream.routed.service, d));
    return;
  }
  stream.candidate = 0;
  forward(stream);
}

void ClientSession::forward(ClientStream& stream) {
  const Snapshot& snap = *stream.snapshot;
  const Decision& d = stream.routed.decision;
  const DataCenterMask healthy = worker_.healthy_datacenters();
  // Only the decision's candidates, in order: never anywhere else. Inside a
  // data centre, every endpoint from its weighted starting point on.
  for (; stream.candidate < d.candidate_count; ++stream.candidate, stream.endpoint_try = 0) {
    DataCenterIndex dc = d.candidates[stream.candidate];
    if (!(healthy & dc_bit(dc))) continue;
    const DataCenter& center = snap.datacenters.all[dc];
    const std::size_t n = center.endpoints.size();
    if (stream.endpoint_try == 0) stream.endpoint_first = worker_.first_endpoint(dc, center);
    for (; stream.endpoint_try < n; ++stream.endpoint_try) {
      const OriginEndpoint& endpoint = center.endpoints[(stream.endpoint_first + stream.endpoint_try) % n];
      std::string error;
      OriginSession* origin = worker_.origins().acquire(endpoint, &error);
      if (!origin) {
        stream.origin_error = error;
        continue;
      }
      stream.datacenter = dc;
      origin->attach(stream);
      return;
    }
  }
  Decision down = d;
  down.reason = DecisionReason::kAllDown;
  down.chosen = kNoDataCenterIndex;
  stream.datacenter = kNoDataCenterIndex;
  // The origin error stays inside: addresses and TLS details are not the client's business.
  respond_locally(stream, 503, reason_code(DecisionReason::kAllDown),
                  describe_decision(snap, stream.routed.country.account, stream.routed.service,
                                    down));
  schedule_flush();
}

void ClientSession::origin_failed(ClientStream& stream, const std::string& why, bool retryable) {
  stream.response_timer.stop();
  stream.origin_error = why;
  stream.origin = nullptr;
  if (stream.response_submitted) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_INTERNAL_ERROR);
    schedule_flush();
    return;
  }
  if (retryable && !stream.request_sent) {
    ++stream.endpoint_try;  // this endpoint failed: the next, then the next allowed data centre
    forward(stream);
    return;
  }
  respond_locally(stream, 502, "origin-failed", "the data centre failed mid-request");
  schedule_flush();
}

void ClientSession::request_submitted(ClientStream& stream) {
  stream.response_timer.arm(
      std::chrono::duration<double>(worker_.config().timeouts.response_headers).count());
}

void ClientSession::response_timed_out(ClientStream& stream) {
  stream.response_timer.stop();
  if (stream.response_submitted) return;
  if (stream.origin) stream.origin->detach(stream);
  respond_locally(stream, 504, "origin-timeout",
                  "the data centre sent no response headers in time");
  schedule_flush();
}

void ClientSession::origin_response(ClientStream& stream, bool end_stream) {
  stream.response_timer.stop();
  if (stream.response_submitted) return;  // we answered already (a timeout)
  const Snapshot& snap = *stream.snapshot;
  std::vector<nghttp2_nv>& nv = nv_scratch_;
  nv.clear();
  nv.push_back(make_nv(":status", stream.response_status));
  for (const ClientStream::Header& h : stream.response_headers) {
    nv.push_back(make_nv(view(h.name), view(h.value)));
  }
  nv.push_back(make_nv("x-regiongate-dc", snap.datacenters.all[stream.datacenter].id));
  stream.status = 0;
  for (char c : stream.response_status) stream.status = stream.status * 10 + (c - '0');
  stream.response_submitted = true;
  if (end_stream) stream.response_ended = true;
  nghttp2_data_provider body;
  body.source.ptr = &stream;
  body.read_callback = [](nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t len,
                          std::uint32_t* flags, nghttp2_data_source* src, void*) -> ssize_t {
    auto* s = static_cast<ClientStream*>(src->ptr);
    return s->session->read_response_body(*s, buf, len, flags);
  };
  nghttp2_submit_response(session_, stream.id, nv.data(), nv.size(), end_stream ? nullptr : &body);
  schedule_flush();
}

void ClientSession::origin_body(ClientStream& stream, const std::uint8_t* data, std::size_t len) {
  stream.response_body.append(data, len);
  nghttp2_session_resume_data(session_, stream.id);
  schedule_flush();
}

void ClientSession::origin_body_end(ClientStream& stream) {
  stream.response_ended = true;
  if (stream.response_submitted) nghttp2_session_resume_data(session_, stream.id);
  schedule_flush();
}

void ClientSession::origin_closed(ClientStream& stream, std::uint32_t error_code) {
  stream.response_timer.stop();
  if (stream.response_ended) return;
  // REFUSED_STREAM (or a GOAWAY above it) means the origin did not process
  // it: safe to send elsewhere if no body byte is gone.
  if (error_code == NGHTTP2_REFUSED_STREAM && !stream.response_submitted &&
      stream.request_bytes_sent == 0 && ++stream.refusals <= 2) {
    stream.request_sent = false;
    forward(stream);
    return;
  }
  if (!stream.response_submitted) {
    respond_locally(stream, 502, "origin-failed",
                    "the data centre reset the stream (" +
                        std::string(nghttp2_http2_strerror(error_code)) + ")");
  } else {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_INTERNAL_ERROR);
  }
  schedule_flush();
}

void ClientSession::request_body_taken(ClientStream& stream, std::size_t n) {
  nghttp2_session_consume(session_, stream.id, n);
  schedule_flush();
}

ssize_t ClientSession::read_response_body(ClientStream& stream, std::uint8_t* buf, std::size_t len,
                                          std::uint32_t* flags) {
  std::size_t n = stream.response_body.take(buf, len);
  stream.bytes_out += n;
  if (n > 0 && stream.origin) stream.origin->consume(stream.origin_stream_id, n);
  if (stream.response_body.empty() && stream.response_ended) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!stream.response_trailers.empty()) {
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      std::vector<nghttp2_nv> nv;
      ClientStream::trailer_nv(stream.response_trailers, &nv);
      nghttp2_submit_trailer(session_, stream.id, nv.data(), nv.size());
    }
    return static_cast<ssize_t>(n);
  }
  if (n == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(n);
}

void ClientSession::respond_locally(ClientStream& stream, int status, std::string_view reason,
                                    const std::string& detail) {
  stream.bytes_out = 0;
  stream.local_reason = reason;
  stream.local_body = "{\"status\":" + std::to_string(status) + ",\"reason\":" +
                      json_string(reason) + ",\"detail\":" + json_string(detail) + "}\n";
  stream.status = status;
  stream.response_submitted = true;
  // A body already buffered for an origin will not be sent: release its window.
  if (std::size_t n = stream.request_body.clear()) nghttp2_session_consume(session_, stream.id, n);
  std::string status_text = std::to_string(status);
  std::string length = std::to_string(stream.local_body.size());
  const nghttp2_nv headers[] = {
      make_nv(":status", status_text),
      make_nv("content-type", "application/json"),
      make_nv("content-length", length),
      make_nv("x-regiongate-reason", reason),
  };
  nghttp2_data_provider body;
  body.source.ptr = &stream;
  body.read_callback = [](nghttp2_session* session, std::int32_t id, std::uint8_t* buf,
                          std::size_t len, std::uint32_t* flags, nghttp2_data_source* src,
                          void*) -> ssize_t {
    (void)session;
    (void)id;
    auto* s = static_cast<ClientStream*>(src->ptr);
    std::size_t n = std::min(len, s->local_body.size() - s->bytes_out);
    std::memcpy(buf, s->local_body.data() + s->bytes_out, n);
    s->bytes_out += n;
    if (s->bytes_out == s->local_body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  };
  nghttp2_submit_response(session_, stream.id, headers, std::size(headers), &body);
}

}  // namespace regiongate
