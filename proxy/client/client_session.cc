#include "proxy/client/client_session.h"

#include <algorithm>
#include <chrono>

#include "proxy/http2/callbacks.h"

namespace regiongate {
namespace {

constexpr std::size_t kMaxRequestHeaders = 256;

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
           "Content-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return response;
}

double seconds(Milliseconds ms) { return std::chrono::duration<double>(ms).count(); }

}  // namespace

ClientSession::ClientSession(ClientHost& host, std::unique_ptr<Transport> transport,
                             const IpAddress& peer)
    : H2Connection(host.loop(), std::move(transport)),
      host_(host),
      peer_(peer),
      peer_text_(peer.to_string()) {
  nghttp2_option* option;
  nghttp2_option_new(&option);
  nghttp2_option_set_max_send_header_block_length(option, 64 * 1024);
  // Request bodies: the window opens as the origin takes the bytes (bounded memory).
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_max_settings(option, 32);
  // Rapid reset: the gateway's own budget (on_frame_recv) counts and
  // explains; nghttp2's bucket (Debian's backport, default 1,000 + 33/s)
  // stays behind it, set no tighter.
  const Http2Settings& h2 = host.config().reloadable.http2;
  nghttp2_option_set_stream_reset_rate_limit(option, 2ull * h2.reset_burst, 2ull * h2.reset_rate);
  nghttp2_session_server_new2(&session_, session_callbacks<ClientSession>(), this, option);
  nghttp2_option_del(option);
  idle_timer_.init<ClientSession, &ClientSession::on_idle_timeout>(loop_, this);
  idle_since_ = ev_now(loop_);
  reset_budget_.fill(h2.reset_burst, idle_since_);
  control_budget_.fill(h2.control_burst, idle_since_);
  idle_timer_.arm(seconds(host_.config().reloadable.timeouts.idle));
  // Nothing is sent before the client's preface (may_send), so neither a
  // GOAWAY nor the idle timeout could end a connection that never sends
  // one: this does.
  handshake_timer_.init<ClientSession, &ClientSession::on_handshake_timeout>(loop_, this);
  handshake_timer_.arm(seconds(host_.config().reloadable.timeouts.handshake));
  header_block_timer_.init<ClientSession, &ClientSession::on_header_block_timeout>(loop_, this);
}

ClientSession::~ClientSession() { drop_requests(); }

void ClientSession::drop_requests() {
  for (std::unique_ptr<ProxiedRequest>& r : requests_.take()) {
    nghttp2_session_set_stream_user_data(session_, r->stream_id(), nullptr);
    if (r->headers_done()) r->closed("connection-closed");
  }  // each destroyed here, unlinked from its origin stream
}

ProxiedRequest* ClientSession::request_of(std::int32_t stream_id) const {
  return static_cast<ProxiedRequest*>(nghttp2_session_get_stream_user_data(session_, stream_id));
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

void ClientSession::on_ready() {
  const Http2Settings& h2 = host_.config().reloadable.http2;
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, h2.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, h2.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, h2.max_header_list_size},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, h2.max_frame_size},
  };
  send_settings(settings, std::size(settings), h2.connection_window_size);
}

// The client preface is checked here, before nghttp2 (which would only
// fail): an HTTP/1 client gets an answer it can read, anything else a
// GOAWAY (RFC 9113 3.4).
bool ClientSession::on_raw_input(const std::uint8_t* data, std::size_t len) {
  if (preface_.decided()) return preface_.verdict() == ClientPreface::Verdict::kPreface;
  switch (preface_.feed(data, len)) {
    case ClientPreface::Verdict::kPrefix:
      return true;
    case ClientPreface::Verdict::kPreface:
      handshake_timer_.stop();
      may_send_ = true;
      return true;
    case ClientPreface::Verdict::kUndecided:
      return false;
    case ClientPreface::Verdict::kHttp1Request:
      handshake_timer_.stop();
      write_raw_and_close(http1_refusal());
      host_.metrics().http1_refused.add();
      schedule_flush();
      return false;
    case ClientPreface::Verdict::kNotHttp:
      // Our SETTINGS (the server preface) and the GOAWAY go out.
      handshake_timer_.stop();
      may_send_ = true;
      end_connection(NGHTTP2_PROTOCOL_ERROR, "not-http2");
      return false;
  }
  return false;
}

void ClientSession::on_closing(const std::string&) {
  idle_timer_.stop();
  handshake_timer_.stop();
  header_block_timer_.stop();
  drop_requests();
}

H2Connection::Linger ClientSession::linger() const {
  const TimeoutSettings& t = host_.config().reloadable.timeouts;
  return {seconds(t.linger), t.linger_bytes};
}

void ClientSession::on_closed(const std::string& why) {
  const char* end = nullptr;
  switch (close_end()) {
    case CloseEnd::kAtOnce: break;
    case CloseEnd::kPeerClosed: end = "peer-closed"; break;
    case CloseEnd::kTimeout: end = "timeout"; break;
    case CloseEnd::kBytes: end = "bytes"; break;
    case CloseEnd::kError: end = "error"; break;
  }
  if (end) host_.metrics().lingering_closes.at(end).add();
  host_.session_closed(this, why);
}

void ClientSession::shut_down() {
  if (closed()) return;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  schedule_flush();
}

void ClientSession::on_handshake_timeout() {
  host_.metrics().handshake_timeouts.add();
  close("no client preface within timeouts.handshake");
}

// The timer is not moved per request (two heap operations each): it fires
// at least every `idle` and closes the connection only when it has had no
// stream for that long; otherwise it waits for the rest.
void ClientSession::on_idle_timeout() {
  const double idle = seconds(host_.config().reloadable.timeouts.idle);
  const double quiet = requests_.empty() ? ev_now(loop_) - idle_since_ : 0;
  if (quiet < idle) {
    idle_timer_.arm(idle - quiet);
    return;
  }
  if (!may_send()) {  // no preface yet: a GOAWAY could not be sent
    close("idle before the client preface");
    return;
  }
  end_connection(NGHTTP2_NO_ERROR, nullptr);
}

// RFC 9113 5.1.1: a HEADERS frame on an id below one the client already
// used, which it never used (it skipped it), is a connection error. Caught
// here, from the frame header: nghttp2 ignores such a frame before
// on_begin_headers would be called. (An id it did use is nghttp2's: see
// docs/rfc9113.md.) Even ids are nghttp2's too (a connection error).
int ClientSession::on_begin_frame(const nghttp2_frame_hd* hd) {
  note_header_block(hd->type);
  note_control_frame(*hd);
  if (in_ignored_block_) {
    note_ignored_block(*hd);
    if (ending_) return NGHTTP2_ERR_CALLBACK_FAILURE;  // not decoded: the GOAWAY still goes out
  }
  if (hd->type == NGHTTP2_SETTINGS && !(hd->flags & NGHTTP2_FLAG_ACK)) {
    note_windows_before_settings();
    return 0;
  }
  if (hd->type != NGHTTP2_HEADERS || (hd->stream_id & 1) == 0) return 0;
  if (stream_ids_.on_headers(hd->stream_id) != PeerStreamIds::Use::kSkipped) return 0;
  // nghttp2 then ignores everything after (its state becomes "ignore all").
  end_connection(NGHTTP2_PROTOCOL_ERROR, "stream-id-went-back");
  return 0;
}

void ClientSession::note_windows_before_settings() {
  initial_window_before_ =
      nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE);
  largest_window_before_.reset();
  requests_.for_each([&](const ProxiedRequest& r) {
    const std::int64_t w = nghttp2_session_get_stream_remote_window_size(session_, r.stream_id());
    if (!largest_window_before_ || w > *largest_window_before_) largest_window_before_ = w;
  });
}

// A change of SETTINGS_INITIAL_WINDOW_SIZE moves every stream's window by
// the difference; past 2^31-1 it is a connection error. nghttp2 has applied
// the SETTINGS by now (a stream it could not move is reset): the windows
// noted at the frame's header say whether one went past. nghttp2 keeps the
// last value of a setting that a frame repeats, as this does.
void ClientSession::check_initial_window(const nghttp2_settings& settings) {
  if (!largest_window_before_) return;
  constexpr std::int64_t kMaxWindow = 0x7fffffff;
  for (std::size_t i = 0; i < settings.niv; ++i) {
    if (settings.iv[i].settings_id != NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE) continue;
    const std::int64_t moved = *largest_window_before_ +
                               static_cast<std::int64_t>(settings.iv[i].value) -
                               initial_window_before_;
    if (moved > kMaxWindow) {
      end_connection(NGHTTP2_FLOW_CONTROL_ERROR, "initial-window-overflow");
      return;
    }
  }
}

int ClientSession::on_begin_headers(const nghttp2_frame* frame) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  ProxiedRequest* r =
      requests_.insert(std::make_unique<ProxiedRequest>(*this, host_, frame->hd.stream_id));
  nghttp2_session_set_stream_user_data(session_, frame->hd.stream_id, r);
  return 0;
}

// Header limits are the codec's: RFC 9113 6.5.2 counts 32 bytes of overhead
// per field against SETTINGS_MAX_HEADER_LIST_SIZE. A block past them (too
// large, or trailers too many) costs its stream only (a 431, or a reset for
// trailers), and the reset budget ten tokens: the block was decoded whole.
void ClientSession::header_block_refused() {
  host_.metrics().header_limit_resets.add();
  stream_thrown_away("stream-errors", kHeaderLimitResetCost);
}

// An HPACK bomb: a few bytes that index one dynamic-table entry again and
// again, decoding to megabytes. nghttp2 decodes a block to its end for the
// table's sake whatever a callback says (about 40 ns a field: 3,000
// references cost 125 µs, and one client kept a worker at 97%), which only
// closing the connection spares (RFC 9113 §10.5.1). So a block past the
// field count, or past the size with an entry used twice in it (which no
// client needs), ends the connection at once; a block that is merely large
// (a big cookie) costs its stream only.
int ClientSession::header_bomb() {
  host_.metrics().header_limit_resets.add();
  end_connection(NGHTTP2_ENHANCE_YOUR_CALM, "hpack-bomb");
  return NGHTTP2_ERR_CALLBACK_FAILURE;  // stop decoding: the GOAWAY still goes out
}

// Every field of a block is counted to the block's end, kept or not: had
// the stream been reset at the limit, the rest of the block (a bomb's
// thousands of references) would be decoded unseen. Past the size nothing
// more is kept, and the block's end refuses the request (on_frame_recv).
int ClientSession::on_header(const nghttp2_frame* frame, nghttp2_rcbuf* name,
                             nghttp2_rcbuf* value) {
  ProxiedRequest* r = request_of(frame->hd.stream_id);
  if (!r) return 0;
  if (++r->block_fields > kMaxRequestHeaders) return header_bomb();
  r->block_bytes += rcbuf_view(name).size() + rcbuf_view(value).size() + 32;  // RFC 9113 6.5.2
  if (r->block_too_large) return 0;
  if (r->block_bytes > host_.config().reloadable.http2.max_header_list_size) {
    if (r->holds_value(value)) return header_bomb();
    r->block_too_large = true;
    return 0;
  }
  if (!r->headers_done()) {
    r->add_header(name, value);
  } else if (!r->add_trailer(name, value)) {
    r->block_too_large = true;
  }
  return 0;
}

// Rapid reset (CVE-2023-44487) and its kin: streams opened only to be
// thrown away, by the client's RST_STREAM or by the gateway's for the
// client's error (an HPACK bomb past the header limits, a malformed
// request), make the gateway start work for nothing. Each takes a token of
// the reset budget; empty, the connection goes.
void ClientSession::stream_thrown_away(const char* reason, std::uint32_t cost) {
  const Http2Settings& h2 = host_.config().reloadable.http2;
  if (!reset_budget_.take(h2.reset_burst, h2.reset_rate, ev_now(loop_), cost)) {
    end_connection(NGHTTP2_ENHANCE_YOUR_CALM, reason);
  }
}

// Frames that cost a read, a parse and often an answer (a PING's ACK), and
// carry nothing a request needs: a flood of them ties up the worker (the
// HTTP/2 floods of CVE-2019-9512, -9515, -9516, -9518). Seen from each
// frame's header, before nghttp2 handles it. A WINDOW_UPDATE, or a PING
// (a gRPC client probes its bandwidth with one as data comes), is free while
// the DATA frames sent have earned it.
void ClientSession::note_control_frame(const nghttp2_frame_hd& hd) {
  if (ending_) return;
  const auto earned = [this] {
    if (frames_earned_ == 0) return false;
    --frames_earned_;
    return true;
  };
  const char* flood = nullptr;
  switch (hd.type) {
    case NGHTTP2_PING:
      if (earned()) return;
      flood = "ping-flood";
      break;
    case NGHTTP2_SETTINGS: flood = "settings-flood"; break;
    case NGHTTP2_PRIORITY: flood = "priority-flood"; break;
    case NGHTTP2_WINDOW_UPDATE:
      if (earned()) return;
      flood = "window-update-flood";
      break;
    case NGHTTP2_DATA:
      if (hd.length > 0 || (hd.flags & NGHTTP2_FLAG_END_STREAM)) return;
      flood = "empty-data-flood";
      break;
    default: return;
  }
  const Http2Settings& h2 = host_.config().reloadable.http2;
  if (!control_budget_.take(h2.control_burst, h2.control_rate, ev_now(loop_))) {
    end_connection(NGHTTP2_ENHANCE_YOUR_CALM, flood);
  }
}

void ClientSession::on_data_frame_made() {
  // Bounded: a client that sends none for a long download and then a burst
  // of them spends the control budget for the rest.
  constexpr std::uint32_t kMostEarned = 4096;
  frames_earned_ = std::min(frames_earned_ + 2, kMostEarned);
}

// The gateway's own GOAWAY, once, counted by the reason that came first
// (none: not an error); nghttp2 ignores what the client sends after it.
void ClientSession::end_connection(std::uint32_t error_code, const char* reason) {
  if (ending_) return;
  ending_ = true;
  if (reason) host_.metrics().client_connection_errors.at(reason).add();
  nghttp2_session_terminate_session(session_, error_code);
  schedule_flush();
}

// nghttp2's own stream errors for a malformed request (its HTTP messaging
// checks reset the stream); other invalid frames are connection errors,
// which end the connection anyway.
int ClientSession::on_invalid_frame_recv(const nghttp2_frame* frame, int lib_error_code) {
  if (frame->hd.stream_id == 0) return 0;
  if (lib_error_code == NGHTTP2_ERR_REFUSED_STREAM && frame->hd.type == NGHTTP2_HEADERS &&
      (frame->hd.flags & NGHTTP2_FLAG_END_HEADERS)) {
    // Over max_concurrent_streams before the client acknowledged our
    // SETTINGS: nghttp2 decodes the block unseen and reports no end of it.
    // With END_HEADERS it ends with this frame, whose rest (at most a
    // frame's size) comes while the connection's open streams, or its
    // idle timeout, hold it: not a slow header.
    header_block_timer_.stop();
    return 0;
  }
  if (lib_error_code == NGHTTP2_ERR_HTTP_HEADER && frame->hd.type == NGHTTP2_HEADERS) {
    // Mid-block: nghttp2 goes on decoding the block, unseen (a duplicate
    // host or pseudo-header then thousands of table references is an HPACK
    // bomb the header limits never see).
    stream_thrown_away("stream-errors", 1 + frame->hd.length / kIgnoredBlockBytesPerToken);
    in_ignored_block_ = !(frame->hd.flags & NGHTTP2_FLAG_END_HEADERS);
  } else if (lib_error_code == NGHTTP2_ERR_HTTP_HEADER ||
             lib_error_code == NGHTTP2_ERR_HTTP_MESSAGING) {
    stream_thrown_away("stream-errors");
  }
  return ending_ ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;  // past the budget: stop decoding
}

void ClientSession::note_ignored_block(const nghttp2_frame_hd& hd) {
  if (hd.type != NGHTTP2_CONTINUATION) {
    in_ignored_block_ = false;
    return;
  }
  stream_thrown_away("stream-errors", hd.length / kIgnoredBlockBytesPerToken);
  if (hd.flags & NGHTTP2_FLAG_END_HEADERS) in_ignored_block_ = false;
}

// A header block (HEADERS, then CONTINUATIONs until END_HEADERS) blocks the
// whole connection while it is open (RFC 9113 §6.10): no other frame may
// come between. One the client leaves open, or dribbles byte by byte (a
// slowloris), must end within timeouts.request_headers. The block is open
// from its HEADERS frame's first byte until that stream's headers are
// complete (on_frame_recv), the stream closes (a stream error), or any
// frame other than a CONTINUATION begins (the block must have ended).
void ClientSession::note_header_block(std::uint8_t frame_type) {
  if (frame_type == NGHTTP2_CONTINUATION) return;
  if (frame_type == NGHTTP2_HEADERS) {
    if (!header_block_timer_.active()) {
      header_block_timer_.arm(seconds(host_.config().reloadable.timeouts.request_headers));
    }
    return;
  }
  header_block_timer_.stop();
}

void ClientSession::on_header_block_timeout() {
  end_connection(NGHTTP2_ENHANCE_YOUR_CALM, "slow-headers");
}

int ClientSession::on_frame_recv(const nghttp2_frame* frame) {
  if (frame->hd.type == NGHTTP2_HEADERS) header_block_timer_.stop();  // its block is complete
  if (frame->hd.type == NGHTTP2_RST_STREAM) {
    stream_thrown_away("rapid-reset");
    return 0;
  }
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) {
    if (frame->hd.type == NGHTTP2_SETTINGS && !(frame->hd.flags & NGHTTP2_FLAG_ACK)) {
      check_initial_window(frame->settings);
    }
    return 0;
  }
  ProxiedRequest* r = request_of(frame->hd.stream_id);
  if (!r) return 0;
  const bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;
  if (frame->hd.type == NGHTTP2_HEADERS && (frame->hd.flags & NGHTTP2_FLAG_END_HEADERS)) {
    if (r->block_too_large) header_block_refused();
    if (!r->headers_done()) {
      if (end) r->ended();
      r->headers_complete();  // refuses a block too large with a 431
      return 0;
    }
    if (r->block_too_large) {
      // Trailers past the limits: the request is forwarded already, so the
      // stream is cancelled, as for a body past its limit mid-response.
      reset_stream(frame->hd.stream_id, NGHTTP2_CANCEL);
      return 0;
    }
  }
  if (end) r->ended();
  return 0;
}

int ClientSession::on_data_chunk(std::int32_t stream_id, const std::uint8_t* data,
                                 std::size_t len) {
  ProxiedRequest* r = request_of(stream_id);
  if (!r || !r->wants_body()) {
    // Nobody will forward it: discard, and keep the window open.
    nghttp2_session_consume(session_, stream_id, len);
    if (r) r->discarded(len);
    return 0;
  }
  r->body(data, len);
  return 0;
}

int ClientSession::on_stream_close(std::int32_t stream_id, std::uint32_t error_code) {
  header_block_timer_.stop();  // a stream reset in its headers ends its block
  ProxiedRequest* r = request_of(stream_id);
  if (!r) return 0;
  nghttp2_session_set_stream_user_data(session_, stream_id, nullptr);
  r->closed(error_code == NGHTTP2_NO_ERROR ? "complete" : "reset");
  requests_.erase(r);  // destroyed here
  if (requests_.empty()) idle_since_ = ev_now(loop_);
  return 0;
}

void ClientSession::submit_response(ProxiedRequest& request, const std::vector<nghttp2_nv>& nv,
                                    bool with_body) {
  nghttp2_data_provider body;
  body.source.ptr = &request;
  body.read_callback = [](nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t len,
                          std::uint32_t* flags, nghttp2_data_source* src, void* session) noexcept {
    return guarded(
        [&] {
          const ssize_t n = static_cast<ProxiedRequest*>(src->ptr)->read_response(buf, len, flags);
          if (n >= 0) static_cast<ClientSession*>(session)->on_data_frame_made();
          return n;
        },
        static_cast<ssize_t>(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE));
  };
  nghttp2_submit_response(session_, request.stream_id(), nv.data(), nv.size(),
                          with_body ? &body : nullptr);
  schedule_flush();
}

void ClientSession::submit_trailer(std::int32_t stream_id, const HeaderList& trailers) {
  std::vector<nghttp2_nv> nv;
  trailers.append_nv(&nv);
  nghttp2_submit_trailer(session_, stream_id, nv.data(), nv.size());
}

void ClientSession::resume_response(std::int32_t stream_id) {
  nghttp2_session_resume_data(session_, stream_id);
  schedule_flush();
}

void ClientSession::reset_stream(std::int32_t stream_id, std::uint32_t error_code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id, error_code);
  schedule_flush();
}

void ClientSession::consume(std::int32_t stream_id, std::size_t n) {
  nghttp2_session_consume(session_, stream_id, n);
  schedule_flush();
}

std::uint32_t ClientSession::reserve_response_window(std::uint32_t want) {
  const std::uint64_t cap = host_.config().reloadable.http2.connection_window_size;
  const std::uint64_t left = cap > response_window_reserved_ ? cap - response_window_reserved_ : 0;
  const auto granted = static_cast<std::uint32_t>(std::min<std::uint64_t>(want, left));
  response_window_reserved_ += granted;
  return granted;
}

void ClientSession::consume_connection(std::size_t n) {
  nghttp2_session_consume_connection(session_, n);
}

}  // namespace regiongate
