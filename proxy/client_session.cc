#include "proxy/client_session.h"

#include <chrono>
#include <cstring>

#include "policy/explain.h"
#include "proxy/worker.h"

namespace regiongate {
namespace {

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr std::size_t kPrefaceLength = sizeof(kPreface) - 1;

std::string_view view(nghttp2_rcbuf* buf) {
  nghttp2_vec v = nghttp2_rcbuf_get_buf(buf);
  return {reinterpret_cast<const char*>(v.base), v.len};
}

ClientSession* self(void* user_data) { return static_cast<ClientSession*>(user_data); }

ClientStream* stream_of(nghttp2_session* session, std::int32_t id) {
  return static_cast<ClientStream*>(nghttp2_session_get_stream_user_data(session, id));
}

// Headers that describe one hop, not the request (RFC 9113 8.2.2; nghttp2
// already rejects most of them in HTTP/2), and our own internal ones, which a
// client must never be able to set.
bool dropped_header(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name == "te" ||
         name == "x-forwarded-for" || name.rfind("x-regiongate-", 0) == 0;
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

std::string json_escape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out;
}

}  // namespace

ClientStream::~ClientStream() {
  for (Header& h : headers) {
    nghttp2_rcbuf_decref(h.name);
    nghttp2_rcbuf_decref(h.value);
  }
  for (nghttp2_rcbuf* b : held_) nghttp2_rcbuf_decref(b);
}

ClientSession::ClientSession(Worker& worker, std::unique_ptr<Transport> transport,
                             const IpAddress& peer)
    : H2Connection(worker.loop(), std::move(transport)), worker_(worker), peer_(peer) {
  nghttp2_option* option;
  nghttp2_option_new(&option);
  nghttp2_option_set_max_send_header_block_length(option, 64 * 1024);
  nghttp2_option_set_max_settings(option, 32);
  nghttp2_session_server_new2(&session_, callbacks(), this, option);
  nghttp2_option_del(option);
  idle_timer_.init<ClientSession, &ClientSession::on_idle_timeout>(loop_, this);
  idle_timer_.arm(std::chrono::duration<double>(worker_.config().timeouts.idle).count());
}

ClientSession::~ClientSession() = default;

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
  write_raw_and_close(
      "HTTP/1.1 505 HTTP Version Not Supported\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "X-Regiongate-Reason: http2-required\r\n"
      "Connection: close\r\n"
      "Content-Length: 89\r\n\r\n"
      "regiongate speaks HTTP/2 only: use TLS with ALPN h2, or cleartext with prior knowledge.\n");
  worker_.counters().http1_refused++;
  schedule_flush();
  return false;
}

void ClientSession::on_closed(const std::string& why) {
  idle_timer_.stop();
  worker_.session_closed(this, why);
}

void ClientSession::on_idle_timeout() {
  if (open_streams_ > 0) return;  // stream timeouts belong to the streams
  nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
  schedule_flush();
}

int ClientSession::on_begin_headers(const nghttp2_frame* frame) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto* stream = new ClientStream(frame->hd.stream_id);
  stream->started_ns = static_cast<std::uint64_t>(
      std::chrono::steady_clock::now().time_since_epoch().count());
  nghttp2_session_set_stream_user_data(session_, frame->hd.stream_id, stream);
  ++open_streams_;
  return 0;
}

int ClientSession::on_header(const nghttp2_frame* frame, nghttp2_rcbuf* name,
                             nghttp2_rcbuf* value) {
  ClientStream* stream = stream_of(session_, frame->hd.stream_id);
  if (!stream || stream->headers_done) return 0;  // trailers: not forwarded yet
  std::string_view n = view(name), v = view(value);
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
  if (n == "host") {
    if (stream->authority.empty()) {
      nghttp2_rcbuf_incref(value);
      stream->held_.push_back(value);
      stream->authority = v;
    }
    return 0;
  }
  if (n == worker_.snapshot_identity_header() || n == "x-forwarded-for") {
    nghttp2_rcbuf_incref(value);
    stream->held_.push_back(value);
    (n == "x-forwarded-for" ? stream->forwarded_for : stream->account_id) = v;
  }
  if (dropped_header(n)) return 0;
  nghttp2_rcbuf_incref(name);
  nghttp2_rcbuf_incref(value);
  stream->headers.push_back({name, value});
  return 0;
}

int ClientSession::on_frame_recv(const nghttp2_frame* frame) {
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  ClientStream* stream = stream_of(session_, frame->hd.stream_id);
  if (!stream) return 0;
  if (frame->hd.type == NGHTTP2_HEADERS && !stream->headers_done &&
      (frame->hd.flags & NGHTTP2_FLAG_END_HEADERS)) {
    stream->headers_done = true;
    handle_request(*stream);
  }
  return 0;
}

int ClientSession::on_data_chunk(std::int32_t, const std::uint8_t*, std::size_t) {
  // Request bodies of locally answered requests are discarded.
  return 0;
}

int ClientSession::on_stream_close(std::int32_t stream_id, std::uint32_t) {
  ClientStream* stream = stream_of(session_, stream_id);
  if (!stream) return 0;
  worker_.log_request(*this, *stream);
  nghttp2_session_set_stream_user_data(session_, stream_id, nullptr);
  delete stream;
  if (--open_streams_ == 0) {
    idle_timer_.arm(std::chrono::duration<double>(worker_.config().timeouts.idle).count());
  }
  return 0;
}

void ClientSession::handle_request(ClientStream& stream) {
  idle_timer_.stop();
  std::shared_ptr<const Snapshot> snap = worker_.snapshot();
  RequestInput in;
  in.authority = stream.authority;
  in.path = stream.path;
  in.account_id = stream.account_id;
  in.forwarded_for = stream.forwarded_for;
  in.peer = peer_;
  in.now = worker_.now();
  in.healthy = worker_.healthy_datacenters();
  stream.routed = route_request(*snap, in);
  const Decision& d = stream.routed.decision;
  if (!d.routed()) {
    respond_locally(stream, d.status(), reason_code(d.reason),
                    describe_decision(*snap, stream.routed.country.account, stream.routed.service, d));
    return;
  }
  // The origin side is the next step of the data path; until it is wired
  // in, an allowed request is answered with what would happen.
  respond_locally(stream, 502, "origin-side-not-built",
                  "allowed to " + snap->datacenters.all[d.chosen].id +
                      ", but this build does not forward yet");
}

void ClientSession::respond_locally(ClientStream& stream, int status, std::string_view reason,
                                    const std::string& detail) {
  stream.local_body = "{\"status\":" + std::to_string(status) + ",\"reason\":\"" +
                      std::string(reason) + "\",\"detail\":\"" + json_escape(detail) + "\"}\n";
  stream.status = status;
  std::string status_text = std::to_string(status);
  std::string length = std::to_string(stream.local_body.size());
  auto nv = [](const char* name, const std::string_view value) {
    return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name)),
                      reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())),
                      std::strlen(name), value.size(), NGHTTP2_NV_FLAG_NONE};
  };
  const nghttp2_nv headers[] = {
      nv(":status", status_text),
      nv("content-type", "application/json"),
      nv("content-length", length),
      nv("x-regiongate-reason", reason),
  };
  nghttp2_data_provider body;
  body.source.ptr = &stream;
  body.read_callback = [](nghttp2_session* session, std::int32_t id, std::uint8_t* buf,
                          std::size_t len, std::uint32_t* flags, nghttp2_data_source* src,
                          void*) -> ssize_t {
    (void)session;
    (void)id;
    auto* s = static_cast<ClientStream*>(src->ptr);
    std::size_t n = std::min(len, s->local_body.size() - s->local_sent);
    std::memcpy(buf, s->local_body.data() + s->local_sent, n);
    s->local_sent += n;
    if (s->local_sent == s->local_body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  };
  nghttp2_submit_response(session_, stream.id, headers, std::size(headers), &body);
}

}  // namespace regiongate
