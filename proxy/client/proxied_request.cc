#include "proxy/client/proxied_request.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "policy/explain.h"
#include "proxy/client/client_host.h"
#include "proxy/client/client_session.h"
#include "proxy/origin/origin_pool.h"
#include "proxy/origin/origin_session.h"
#include "util/json.h"

namespace regiongate {
namespace {

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

// Headers that describe one hop, not the request (RFC 9113 8.2.2; nghttp2
// already rejects most of them in HTTP/2), and our own internal ones, which a
// client must never be able to set. `te` passes: nghttp2 lets only
// "te: trailers" through, which gRPC needs.
bool dropped_request_header(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name == "x-forwarded-for" ||
         name.rfind("x-regiongate-", 0) == 0;
}

// Response headers that describe the origin hop only.
bool dropped_response_header(std::string_view name) {
  return name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
         name == "transfer-encoding" || name == "upgrade" || name.rfind("x-regiongate-", 0) == 0;
}

constexpr std::size_t kMaxTrailers = 64;
constexpr std::size_t kMaxResponseHeaderBytes = 256 * 1024;
constexpr std::size_t kMaxResponseHeaders = 512;

}  // namespace

std::string_view ProxiedRequest::state_name(State state) {
  switch (state) {
    case State::kReceivingHeaders: return "receiving-headers";
    case State::kResolving: return "resolving";
    case State::kDeciding: return "deciding";
    case State::kConnecting: return "connecting";
    case State::kForwarding: return "forwarding";
    case State::kResponding: return "responding";
    case State::kDone: return "done";
  }
  return "?";
}

ProxiedRequest::ProxiedRequest(ClientSession& session, ClientHost& host, std::int32_t stream_id)
    : session_(session),
      host_(host),
      stream_id_(stream_id),
      started_ns_(now_ns()),
      // The snapshot the request starts with, for all of it (a reload
      // meanwhile changes the next requests, not this one).
      snapshot_(host.snapshot()),
      snapshot_version_(host.snapshot_version()),
      health_(host.health()) {
  // Room for a typical request and response: one allocation each instead of
  // a vector doubling per header.
  headers_.reserve(16);
  host_.metrics().streams_open.add(1);
  response_headers_.reserve(16);
  held_.reserve(8);
  response_timer_.init<ProxiedRequest, &ProxiedRequest::on_response_timeout>(host.loop(), this);
  stall_timer_.init<ProxiedRequest, &ProxiedRequest::on_stall_check>(host.loop(), this);
}

ProxiedRequest::~ProxiedRequest() {
  host_.metrics().streams_open.add(-1);
  if (waiting_on_) waiting_on_->cancel(this);  // closed() did, unless the session is being torn down
  leave_origin();  // closed() did, unless the session is being torn down
  session_.release_response_window(response_window_extra_);
  for (nghttp2_rcbuf* b : held_) nghttp2_rcbuf_decref(b);
}

void ProxiedRequest::leave_origin() {
  host_.metrics().response_bytes_held.add(-static_cast<std::int64_t>(response_body_.clear()));
  if (OriginSession* origin = this->origin()) origin->detach(*this);
}

// --- Receiving the request ------------------------------------------------

void ProxiedRequest::count_decision_header(std::uint8_t* seen) {
  if (++*seen > 1 && header_fault_ == RequestFault::kNone) {
    header_fault_ = RequestFault::kDuplicateHeader;
  }
  if (*seen > 2) *seen = 2;  // no wrap-around, however many come
}

void ProxiedRequest::add_header(nghttp2_rcbuf* name, nghttp2_rcbuf* value) {
  std::string_view n = rcbuf_view(name), v = rcbuf_view(value);
  auto hold = [&](std::string_view* into) {
    nghttp2_rcbuf_incref(value);
    held_.push_back(value);
    *into = v;
  };
  std::string_view* pseudo = n == ":method"      ? &method_
                             : n == ":scheme"    ? &scheme_
                             : n == ":authority" ? &authority_
                             : n == ":path"      ? &path_
                                                 : nullptr;
  if (pseudo) {
    hold(pseudo);
    return;
  }
  // Never forwarded: :authority (canonical) is.
  if (n == "host") {
    count_decision_header(&host_headers_);
    hold(&host_header_);
    return;
  }
  // The bearer token: verified when the snapshot has keys, and forwarded
  // unless tokens.forward is off. Twice is a fault: which one decided?
  if (n == "authorization") {
    count_decision_header(&authorization_headers_);
    hold(&authorization_);
    if (snapshot_->tokens && !snapshot_->tokens->config().forward) return;
  }
  const bool account = n == snapshot_->identity.account_header;
  if (account || n == "x-forwarded-for") {
    count_decision_header(account ? &account_headers_ : &forwarded_for_headers_);
    if (account && v.find(',') != std::string_view::npos &&
        header_fault_ == RequestFault::kNone) {
      header_fault_ = RequestFault::kListValue;
    }
    hold(account ? &account_id_ : &forwarded_for_);
  }
  if (n == "content-length") {
    // nghttp2 checked it is digits, and will check the body against it.
    std::uint64_t length = 0;
    for (char c : v) length = length > UINT64_MAX / 16 ? UINT64_MAX : length * 10 + (c - '0');
    declared_length_ = length;
  }
  if (dropped_request_header(n)) {
    hold_dropped(value);
  } else {
    headers_.add(name, value);
  }
}

// A field neither forwarded nor read is still kept while the request
// lives (a reference, not a copy): an HPACK bomb of it is seen as one
// (holds_value). The block's size bounds how many.
void ProxiedRequest::hold_dropped(nghttp2_rcbuf* value) {
  nghttp2_rcbuf_incref(value);
  held_.push_back(value);
}

bool ProxiedRequest::holds_value(const nghttp2_rcbuf* value) const {
  return headers_.holds_value(value) || request_trailers_.holds_value(value) ||
         std::find(held_.begin(), held_.end(), value) != held_.end();
}

bool ProxiedRequest::add_trailer(nghttp2_rcbuf* name, nghttp2_rcbuf* value) {
  std::string_view n = rcbuf_view(name);
  // What fed the decision came from the headers, once: a trailer must not
  // hand an origin that merges trailers a second host or account.
  if (n.empty() || n[0] == ':' || dropped_request_header(n) || n == "host" ||
      n == snapshot_->identity.account_header) {
    hold_dropped(value);
    return true;
  }
  // Bounded in size like the headers (the session counts the block), and
  // in count, or a client could park megabytes here.
  if (request_trailers_.size() >= kMaxTrailers) return false;
  request_trailers_.add(name, value);
  return true;
}

void ProxiedRequest::headers_complete() {
  state_ = State::kResolving;
  const bool too_large = block_too_large;
  block_bytes = block_fields = 0;  // the trailers are a block of their own
  block_too_large = false;
  if (too_large) {
    // Nothing of it is read: the request is refused whole, with a reason,
    // rather than decided on the part that fitted.
    respond_locally(431, "request-headers-too-large",
                    "the request's header block is larger than the " +
                        std::to_string(host_.config().reloadable.http2.max_header_list_size) +
                        " bytes the gateway takes (server.http2.max_header_list_size)");
    return;
  }
  // A doubled header is refused before anything is read from it.
  if (snapshot_->tokens && header_fault_ == RequestFault::kNone && !authenticate()) return;
  resolve();
}

void ProxiedRequest::body(const std::uint8_t* data, std::size_t len) {
  bytes_in_ += len;
  if (bytes_in_ > body_limit_) {
    body_too_large();
    return;
  }
  request_body_.append(data, len);
  if (OriginSession* origin = this->origin(); origin && request_sent()) origin->resume(*this);
}

void ProxiedRequest::ended() {
  request_ended_ = true;
  if (OriginSession* origin = this->origin(); origin && request_sent()) origin->resume(*this);
}

// A client told it will not be read (a 413, a 451, ...) should stop
// sending: curl does. One that sends a whole stream window more is asked
// to, without error (RFC 9113 §8.1), rather than read and dropped for as
// long as it likes. Not at once: curl 7.88 drops a response it has not yet
// handed over when the stream is reset right behind it.
void ProxiedRequest::discarded(std::size_t len) {
  discarded_bytes_ += len;
  if (asked_to_stop_ || discarded_bytes_ <= host_.config().reloadable.http2.initial_window_size) return;
  asked_to_stop_ = true;
  session_.reset_stream(stream_id_, NGHTTP2_NO_ERROR);
}

bool ProxiedRequest::wants_body() const {
  // Held (bounded by the stream's flow-control window) while the request
  // waits for its decision or its origin; discarded once the gateway answers.
  return state_ == State::kResolving || state_ == State::kDeciding ||
         state_ == State::kConnecting || state_ == State::kForwarding;
}

// --- Deciding --------------------------------------------------------------

bool ProxiedRequest::authenticate() {
  const TokenVerifier& verifier = *snapshot_->tokens;
  const TokenConfig& config = verifier.config();
  TokenStatus status = TokenStatus::kMissing;
  // "Bearer <token>" (RFC 6750 §2.1; the scheme is case-insensitive).
  std::string_view credentials = authorization_;
  constexpr std::string_view kBearer = "bearer ";
  const bool bearer = credentials.size() > kBearer.size() &&
                      std::equal(kBearer.begin(), kBearer.end(), credentials.begin(),
                                 [](char a, char b) { return a == (b | 0x20); });
  if (!credentials.empty() && !bearer) status = TokenStatus::kMalformed;
  if (bearer) {
    std::string_view token = credentials.substr(kBearer.size());
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    const std::int64_t now = host_.now();
    TokenCache& cache = host_.token_cache();
    if (const VerifiedToken* known = cache.find(token, verifier, now)) {
      token_ = *known;
      status = TokenStatus::kValid;
      host_.metrics().tokens.at("cached").add(1);
    } else {
      status = verifier.verify(token, now, token_);
      host_.metrics().tokens.at(status == TokenStatus::kValid ? "verified" : token_reason(status)).add(1);
      if (status == TokenStatus::kValid) cache.insert(token, verifier, now, token_);
    }
  }
  if (status == TokenStatus::kValid) {
    has_token_ = true;
    return true;
  }
  // No token at all: decided without one only where the operator said so.
  if (status == TokenStatus::kMissing && config.anonymous == TokenConfig::Anonymous::kAllow) {
    host_.metrics().tokens.at("anonymous").add(1);
    return true;
  }
  if (status == TokenStatus::kMissing) host_.metrics().tokens.at(token_reason(status)).add(1);
  state_ = State::kDeciding;
  // RFC 6750 §3: no error code when the request had no credentials.
  challenge_ = "Bearer realm=\"regiongate\"";
  if (status != TokenStatus::kMissing) {
    challenge_ += ", error=\"invalid_token\", error_description=\"";
    challenge_ += token_description(status);
    challenge_ += '"';
  }
  respond_locally(401, token_reason(status), std::string(token_description(status)), challenge_);
  return false;
}

namespace {

// The Redis directory as resolve_country asks it: a lookup not in the cache
// is sent, and the request waits for it. Without a connected directory for
// the request's snapshot (a reload is replacing it), nothing can answer.
class AskingDirectory final : public AccountDirectory {
 public:
  AskingDirectory(RedisDirectory* redis, DirectoryWaiter* waiter) : redis_(redis), waiter_(waiter) {}
  DirectoryResult find(std::string_view account_id) const override {
    if (!redis_) return {DirectoryStatus::kUnavailable, kNoCountry};
    return redis_->lookup(account_id, waiter_);
  }
  std::size_t size() const override { return 0; }
  std::string_view describe() const override { return "redis"; }

 private:
  RedisDirectory* redis_;
  DirectoryWaiter* waiter_;
};

}  // namespace

void ProxiedRequest::resolve() {
  const Snapshot& snap = *snapshot_;
  RequestInput in;
  if (has_token_) in.token = &token_;
  in.target = {method_, scheme_, authority_, host_header_, path_};
  in.header_fault = header_fault_;
  in.account_id = account_id_;
  in.forwarded_for = forwarded_for_;
  in.peer = session_.peer();
  in.peer_geoip = session_.peer_geoip(snap);
  in.now = host_.now();
  in.healthy = health_->healthy();
  RedisDirectory* redis = nullptr;
  if (snap.redis_directory) {
    redis = host_.redis_directory();
    if (redis && !(redis->config() == *snap.redis_directory)) redis = nullptr;
  }
  const AskingDirectory asking(redis, this);
  if (snap.redis_directory) in.directory = &asking;
  in.directory_answers = std::span<const DirectoryAnswer>(directory_answers_.data(), directory_answer_count_);
  // route_request resolves the account country and then decides.
  if (host_.config().startup.health.nearest == HealthSettings::Nearest::kLatency) {
    route_by_latency(in);
  } else {
    routed_ = route_request(snap, in, target_storage_);
  }
  if (routed_.waiting_for_directory) {
    waiting_on_ = redis;  // asked: answered by on_directory_answer
    return;
  }
  decided();
}

void ProxiedRequest::on_directory_answer(DirectoryResult result) noexcept {
  waiting_on_ = nullptr;
  // One answer per directory source at most: a third would mean a loop.
  if (directory_answer_count_ == directory_answers_.size()) result = {DirectoryStatus::kUnavailable, kNoCountry};
  const std::size_t slot = std::min<std::size_t>(directory_answer_count_, directory_answers_.size() - 1);
  directory_answers_[slot] = {routed_.country.directory_id, result};
  directory_answer_count_ = static_cast<std::uint8_t>(slot + 1);
  resolve();
}

void ProxiedRequest::decided() {
  const Snapshot& snap = *snapshot_;
  state_ = State::kDeciding;
  if (routed_.country.directory == DirectoryStatus::kUnavailable) count_directory_unavailable();
  if (const ResolvedCountry& who = routed_.country; who.source == CountrySource::kToken &&
                                                    who.location != kNoCountry &&
                                                    who.location != who.account) {
    host_.metrics().country_disagreements.add(1);  // a traveller: the token's country decides
  }
  if (RequestFault fault = routed_.target.fault; fault != RequestFault::kNone) {
    // Refused before any decision: nothing about it can be read one way only.
    respond_locally(400, fault_code(fault), std::string(fault_reason(fault)));
    return;
  }
  const Decision& d = routed_.decision;
  if (!d.routed()) {
    respond_locally(d.status(), reason_code(d.reason),
                    describe_decision(snap, routed_.country.account, routed_.service, d));
    return;
  }
  body_limit_ = snap.body_limits.of(routed_.service);
  if (declared_length_ > body_limit_ || bytes_in_ > body_limit_) {
    body_too_large();
    return;
  }
  candidate_ = 0;
  forward();
}

void ProxiedRequest::body_too_large() {
  host_.metrics().request_body_limit_refusals.add();
  if (!response_submitted_) {
    const Snapshot& snap = *snapshot_;
    respond_locally(413, "request-body-too-large",
                    "the request body is larger than the " + std::to_string(body_limit_) +
                        " bytes that service " + snap.policy.services[routed_.service].name +
                        " takes (requests.max_body)");
    return;
  }
  // The origin is answering already: the upload cannot go on, nor the answer.
  // Once: what still comes before the reset lands waits, bounded by the
  // stream's window, until the stream closes.
  body_limit_ = UINT64_MAX;
  leave_origin();
  session_.reset_stream(stream_id_, NGHTTP2_CANCEL);
}

// Apart from resolve(), so that the round trips' room on the stack costs
// nothing when the candidates go by distance.
void ProxiedRequest::route_by_latency(RequestInput& in) {
  using std::chrono::microseconds;
  const Milliseconds tolerance = host_.config().startup.health.latency_tolerance;
  DataCenterLatencies latency;
  health_->round_trips(latency.us.data());
  latency.tolerance_us =
      static_cast<std::uint32_t>(std::chrono::duration_cast<microseconds>(tolerance).count());
  in.latency = &latency;
  routed_ = route_request(*snapshot_, in, target_storage_);
}

void ProxiedRequest::forward() {
  const Snapshot& snap = *snapshot_;
  const Decision& d = routed_.decision;
  const DataCenterMask healthy = health_->healthy();
  // Only the decision's candidates, in order: never anywhere else. Inside a
  // data centre, every endpoint from its weighted starting point on.
  for (; candidate_ < d.candidate_count; ++candidate_, endpoint_try_ = 0) {
    DataCenterIndex dc = d.candidates[candidate_];
    if (!(healthy & dc_bit(dc))) continue;
    const DataCenter& center = snap.datacenters.all[dc];
    // A required audit log that cannot be written refuses what it would have to record.
    if (!host_.audit_log_available() && audited_at(center)) {
      datacenter_ = kNoDataCenterIndex;  // nothing was forwarded: the record is a refusal
      respond_locally(503, "audit-log-unavailable",
                      "this request must be recorded in the audit log, which is required and "
                      "cannot be written now");
      return;
    }
    const std::size_t n = center.endpoints.size();
    if (endpoint_try_ == 0) endpoint_first_ = host_.first_endpoint(dc, center);
    for (; endpoint_try_ < n; ++endpoint_try_) {
      const std::size_t index = (endpoint_first_ + endpoint_try_) % n;
      if (!health_->endpoint_up(dc, index)) continue;  // out of service
      const OriginEndpoint& endpoint = center.endpoints[index];
      std::string error;
      OriginSession* origin = host_.origins().acquire(endpoint, &error);
      if (!origin) {
        origin_error_ = error;
        host_.origin_outcome(health_->endpoint(dc, index), false);
        continue;
      }
      datacenter_ = dc;
      endpoint_index_ = index;
      state_ = State::kConnecting;
      origin->attach(*this);  // may submit (kForwarding) or fail over before it returns
      return;
    }
  }
  Decision down = d;
  down.reason = DecisionReason::kAllDown;
  down.chosen = kNoDataCenterIndex;
  datacenter_ = kNoDataCenterIndex;
  // The origin error stays inside: addresses and TLS details are not the client's business.
  respond_locally(503, reason_code(DecisionReason::kAllDown),
                  describe_decision(snap, routed_.country.account, routed_.service, down));
}

void ProxiedRequest::count_directory_unavailable() {
  const Snapshot& snap = *snapshot_;
  const std::string_view service =
      routed_.service < snap.policy.services.size() ? std::string_view(snap.policy.services[routed_.service].name)
                                                    : std::string_view("unknown");
  const std::string_view action = routed_.country.source == CountrySource::kGeoipFallback ? "geoip"
                                  : routed_.decision.reason == DecisionReason::kDirectoryUnavailable
                                      ? "refused"
                                      : "";
  if (action.empty()) return;  // refused for another reason first (no consent, say)
  std::string key;
  key.reserve(service.size() + 1 + action.size());
  key.append(service).push_back(LabelledCounters::kSeparator);
  key.append(action);
  host_.metrics().directory_unavailable.at(key).add();
}

bool ProxiedRequest::audited_at(const DataCenter& center) const {
  return audited_when_served(host_.config().startup.audit_log,
                             country_code(routed_.country.account), country_code(center.country));
}

// --- The origin side -------------------------------------------------------

void ProxiedRequest::origin_request_headers(std::vector<nghttp2_nv>* nv) {
  const Snapshot& snap = *snapshot_;
  nv->reserve(headers_.size() + 8);
  // The canonical target: exactly what the decision was made on.
  nv->push_back(make_nv(":method", method_));
  nv->push_back(make_nv(":scheme", scheme_.empty() ? "http" : scheme_));
  if (!routed_.target.authority.authority.empty()) {
    nv->push_back(make_nv(":authority", routed_.target.authority.authority));
  }
  nv->push_back(make_nv(":path", routed_.target.path));
  headers_.append_nv(nv);
  // x-forwarded-for: what a trusted proxy sent (an untrusted peer's is
  // dropped), plus the peer we saw.
  forwarded_for_out_.clear();
  if (!forwarded_for_.empty() && routed_.client_from_forwarded) {
    forwarded_for_out_ = std::string(forwarded_for_) + ", ";
  }
  forwarded_for_out_ += session_.peer_text();
  nv->push_back(make_nv("x-forwarded-for", forwarded_for_out_));
  country_out_ = std::string(country_code(routed_.country.account));
  nv->push_back(make_nv("x-regiongate-country", country_out_));
  // Which source decided the country (token, token-account, directory, geoip).
  nv->push_back(make_nv("x-regiongate-country-source", source_name(routed_.country.source)));
  nv->push_back(make_nv("x-regiongate-dc", snap.datacenters.all[datacenter_].id));
}

void ProxiedRequest::origin_request_body_taken(std::size_t n) {
  request_bytes_sent_ += n;
  session_.consume(stream_id_, n);
}

std::int32_t ProxiedRequest::origin_stream_window() {
  if (!response_window_reserved_) {
    response_window_reserved_ = true;
    const std::uint32_t stream_window = host_.config().reloadable.http2.initial_window_size;
    const std::uint32_t base = OriginSession::kBaseStreamWindow;
    if (stream_window > base) response_window_extra_ = session_.reserve_response_window(stream_window - base);
  }
  return static_cast<std::int32_t>(OriginSession::kBaseStreamWindow + response_window_extra_);
}

void ProxiedRequest::origin_request_submitted() {
  state_ = State::kForwarding;
  response_timer_.arm(
      std::chrono::duration<double>(host_.config().reloadable.timeouts.response_headers).count());
}

bool ProxiedRequest::origin_header(nghttp2_rcbuf* name, nghttp2_rcbuf* value) {
  std::string_view n = rcbuf_view(name);
  response_header_bytes_ += n.size() + rcbuf_view(value).size() + 32;
  if (response_header_bytes_ > kMaxResponseHeaderBytes ||
      response_headers_.size() > kMaxResponseHeaders) {
    return false;
  }
  if (n == ":status") {
    nghttp2_rcbuf_incref(value);
    held_.push_back(value);
    response_status_ = rcbuf_view(value);
    return true;
  }
  if (dropped_response_header(n)) return true;
  (response_submitted_ ? response_trailers_ : response_headers_).add(name, value);
  return true;
}

void ProxiedRequest::report_origin(bool ok) {
  if (datacenter_ != kNoDataCenterIndex) {
    host_.origin_outcome(health_->endpoint(datacenter_, endpoint_index_), ok);
  }
}

void ProxiedRequest::origin_response(bool end_stream) {
  response_timer_.stop();
  if (response_submitted_) return;  // we answered already (a timeout)
  std::vector<nghttp2_nv>& nv = session_.nv_scratch();
  nv.clear();
  nv.push_back(make_nv(":status", response_status_));
  response_headers_.append_nv(&nv);
  nv.push_back(make_nv("x-regiongate-dc", snapshot_->datacenters.all[datacenter_].id));
  status_ = 0;
  for (char c : response_status_) status_ = status_ * 10 + (c - '0');
  report_origin(status_ < 500);
  response_submitted_ = true;
  if (end_stream) response_ended_ = true;
  session_.submit_response(*this, nv, /*with_body=*/!end_stream);
}

void ProxiedRequest::origin_body(const std::uint8_t* data, std::size_t len) {
  if (!stall_timer_.active()) {
    // Bytes wait for the client from now on: it has `stall` to take some.
    last_taken_ = ev_now(host_.loop());
    stall_timer_.arm(std::chrono::duration<double>(host_.config().reloadable.timeouts.stall).count());
  }
  response_body_.append(data, len);
  host_.metrics().response_bytes_held.add(static_cast<std::int64_t>(len));
  session_.resume_response(stream_id_);
}

// Lazy: the client's reads only note the time; this runs once per `stall`
// at most while bytes wait, never per read.
void ProxiedRequest::on_stall_check() {
  if (response_body_.empty()) return;  // everything was taken: the next bytes arm it again
  const double stall = std::chrono::duration<double>(host_.config().reloadable.timeouts.stall).count();
  const double idle = ev_now(host_.loop()) - last_taken_;
  if (idle < stall) {
    stall_timer_.arm(stall - idle);
    return;
  }
  // Its window shut for the whole time, with bytes held for it: the client
  // is not reading. Both streams go; the buffer is freed.
  host_.metrics().stalled_responses.add();
  leave_origin();
  session_.reset_stream(stream_id_, NGHTTP2_CANCEL);
}

void ProxiedRequest::origin_body_end() {
  response_ended_ = true;
  if (response_submitted_) session_.resume_response(stream_id_);
}

void ProxiedRequest::origin_failed(const std::string& why, bool retryable) {
  response_timer_.stop();
  origin_error_ = why;
  report_origin(false);
  if (response_submitted_) {
    session_.reset_stream(stream_id_, NGHTTP2_INTERNAL_ERROR);
    return;
  }
  if (retryable && !request_sent()) {
    ++endpoint_try_;  // this endpoint failed: the next, then the next allowed data centre
    forward();
    return;
  }
  respond_locally(502, "origin-failed", "the data centre failed mid-request");
}

void ProxiedRequest::origin_closed(std::uint32_t error_code) {
  response_timer_.stop();
  if (response_ended_) return;
  // REFUSED_STREAM (or a GOAWAY above it) means the origin did not process
  // it: safe to send elsewhere if no body byte is gone.
  if (error_code == NGHTTP2_REFUSED_STREAM && !response_submitted_ && request_bytes_sent_ == 0 &&
      ++refusals_ <= 2) {
    forward();
    return;
  }
  report_origin(false);
  if (!response_submitted_) {
    respond_locally(502, "origin-failed",
                    "the data centre reset the stream (" +
                        std::string(nghttp2_http2_strerror(error_code)) + ")");
  } else {
    session_.reset_stream(stream_id_, NGHTTP2_INTERNAL_ERROR);
  }
}

void ProxiedRequest::on_response_timeout() {
  response_timer_.stop();
  if (response_submitted_) return;
  report_origin(false);
  leave_origin();
  respond_locally(504, "origin-timeout", "the data centre sent no response headers in time");
}

// --- Answering ---------------------------------------------------------------

ssize_t ProxiedRequest::read_response(std::uint8_t* buf, std::size_t len, std::uint32_t* flags) {
  if (state_ == State::kResponding) {  // the gateway's own answer
    std::size_t n = std::min(len, local_body_.size() - bytes_out_);
    std::memcpy(buf, local_body_.data() + bytes_out_, n);
    bytes_out_ += n;
    if (bytes_out_ == local_body_.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }
  std::size_t n = response_body_.take(buf, len);
  bytes_out_ += n;
  if (n > 0) {
    host_.metrics().response_bytes_held.add(-static_cast<std::int64_t>(n));
    last_taken_ = ev_now(host_.loop());
    if (OriginSession* origin = this->origin()) origin->consume(*this, n);
  }
  if (response_body_.empty() && response_ended_) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!response_trailers_.empty()) {
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      session_.submit_trailer(stream_id_, response_trailers_);
    }
    return static_cast<ssize_t>(n);
  }
  if (n == 0) return NGHTTP2_ERR_DEFERRED;
  return static_cast<ssize_t>(n);
}

void ProxiedRequest::respond_locally(int status, std::string_view reason,
                                     const std::string& detail,
                                     std::string_view www_authenticate) {
  leave_origin();
  state_ = State::kResponding;
  bytes_out_ = 0;
  local_reason_ = reason;
  local_body_ = "{\"status\":" + std::to_string(status) + ",\"reason\":" + json_string(reason) +
                ",\"detail\":" + json_string(detail) + "}\n";
  status_ = status;
  response_submitted_ = true;
  // A body already buffered for an origin will not be sent: release its window.
  if (std::size_t n = request_body_.clear()) session_.consume(stream_id_, n);
  const std::string status_text = std::to_string(status);
  const std::string length = std::to_string(local_body_.size());
  std::vector<nghttp2_nv>& nv = session_.nv_scratch();
  nv.assign({
      make_nv(":status", status_text),
      make_nv("content-type", "application/json"),
      make_nv("content-length", length),
      make_nv("x-regiongate-reason", reason),
  });
  if (!www_authenticate.empty()) nv.push_back(make_nv("www-authenticate", www_authenticate));
  session_.submit_response(*this, nv, /*with_body=*/true);
}

// --- The end -------------------------------------------------------------------

void ProxiedRequest::closed(std::string_view outcome) {
  response_timer_.stop();
  if (waiting_on_) {
    waiting_on_->cancel(this);  // the answer would find nobody
    waiting_on_ = nullptr;
  }
  leave_origin();  // the client reset or went away
  // Body bytes nobody will forward: return them to the connection window.
  if (std::size_t n = request_body_.clear()) session_.consume_connection(n);
  const bool decided = headers_done();
  state_ = State::kDone;
  if (decided) log(outcome);
}

void ProxiedRequest::log(std::string_view outcome) const {
  const Snapshot& snap = *snapshot_;
  const Decision& d = routed_.decision;
  const std::uint64_t duration_us = (now_ns() - started_ns_) / 1000;
  {
    const bool served = datacenter_ != kNoDataCenterIndex;
    host_.metrics().request_ended(
        routed_.country.account != kNoCountry ? country_code(routed_.country.account) : "",
        served ? std::string_view(snap.datacenters.all[datacenter_].id) : "", status_,
        local_reason_, served && d.candidate_count > 0 && datacenter_ != d.candidates[0],
        duration_us);
  }
  if (host_.request_log_wanted()) write_log_record(outcome, duration_us);
}

void ProxiedRequest::write_log_record(std::string_view outcome, std::uint64_t duration_us) const {
  const Snapshot& snap = *snapshot_;
  const Decision& d = routed_.decision;
  RequestRecord r;
  r.method = method_;
  r.path = routed_.target.fault == RequestFault::kNone ? routed_.target.path : path_;
  r.account = account_id_;
  std::string client;
  if (routed_.client_from_forwarded) {
    client = routed_.client.to_string();
    r.client = client;
  } else {
    r.client = session_.peer_text();
  }
  if (routed_.country.account != kNoCountry) r.country = country_code(routed_.country.account);
  r.country_source = source_name(routed_.country.source);
  if (routed_.service != kNoService) r.service = snap.policy.services[routed_.service].name;
  if (d.rule != kNoRule) r.rule = snap.policy.rules[d.rule].id;
  if (datacenter_ != kNoDataCenterIndex) {
    r.datacenter = snap.datacenters.all[datacenter_].id;
    r.datacenter_country = country_code(snap.datacenters.all[datacenter_].country);
  }
  r.client_address = routed_.client_from_forwarded ? &routed_.client : &session_.peer();
  r.snapshot = snapshot_version_;
  r.status = status_;
  // A refusal the gateway made itself names its own reason (a malformed
  // target, an origin failure, all allowed data centres down); otherwise
  // the decision's.
  r.reason = local_reason_.empty() ? reason_code(d.reason) : local_reason_;
  r.outcome = outcome;
  r.bytes_in = bytes_in_;
  r.bytes_out = bytes_out_;
  r.duration_us = duration_us;
  host_.log_request(r);
}

}  // namespace regiongate
