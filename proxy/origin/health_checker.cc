#include "proxy/origin/health_checker.h"

#include <chrono>
#include <optional>

#include "proxy/origin/origin_session.h"
#include "util/thread_name.h"

namespace regiongate {

// One probe: a bodiless GET on an origin stream, as an OriginExchange.
class Probe final : public OriginExchange {
 public:
  Probe(HealthChecker& checker, HealthChecker::Target& target, struct ev_loop* loop)
      : checker_(checker), target_(target), started_(std::chrono::steady_clock::now()) {
    request_ended_ = true;
    timer_.init<Probe, &Probe::on_timeout>(loop, this);
    authority_ = target.endpoint.authority();
  }
  ~Probe() {
    if (OriginSession* o = origin()) o->detach(*this);
  }
  void begin(OriginPool& pool, double timeout) {
    timer_.arm(timeout);
    std::string error;
    OriginSession* session = pool.acquire(target_.endpoint, &error);
    if (!session) return finish(false);
    session->attach(*this);
  }
  bool done() const { return done_; }

  void origin_request_headers(std::vector<nghttp2_nv>* nv) override {
    nv->push_back(make_nv(":method", "GET"));
    nv->push_back(make_nv(":scheme", target_.endpoint.tls ? "https" : "http"));
    nv->push_back(make_nv(":authority", authority_));
    nv->push_back(make_nv(":path", checker_.config_.startup.health.path));
    nv->push_back(make_nv("user-agent", "regiongate-health"));
  }
  BodyBuffer& origin_request_body() override { return request_body_; }
  bool origin_request_ended() const override { return request_ended_; }
  const HeaderList& origin_request_trailers() const override { return trailers_; }
  void origin_request_body_taken(std::size_t) override {}
  // The round trip starts here, not at begin(): connecting (DNS, TCP, TLS,
  // the HTTP/2 preface) is left out, so a probe on a new connection does not
  // look slower than one on a pooled connection.
  void origin_request_submitted() override { sent_ = std::chrono::steady_clock::now(); }
  // A probe reads a few bytes: the base window is plenty.
  std::int32_t origin_stream_window() override { return OriginSession::kBaseStreamWindow; }
  bool origin_header(nghttp2_rcbuf* name, nghttp2_rcbuf* value) override {
    if (rcbuf_view(name) == ":status") {
      std::string_view v = rcbuf_view(value);
      status_ = 0;
      for (char c : v) status_ = status_ * 10 + (c - '0');
    }
    return true;
  }
  void origin_response(bool) override { finish(status_ >= 200 && status_ < 400); }
  void origin_body(const std::uint8_t*, std::size_t len) override {
    if (OriginSession* o = origin()) o->consume(*this, len);  // read and dropped
  }
  void origin_body_end() override {}
  void origin_failed(const std::string&, bool) override { finish(false); }
  void origin_closed(std::uint32_t) override { finish(status_ >= 200 && status_ < 400); }

 private:
  void on_timeout() {
    if (OriginSession* o = origin()) o->detach(*this);
    finish(false);
  }
  void finish(bool ok) {
    if (done_) return;
    done_ = true;
    timer_.stop();
    auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - (sent_ ? *sent_ : started_));
    checker_.finished(target_, ok, static_cast<std::uint32_t>(rtt.count()));
  }

  HealthChecker& checker_;
  HealthChecker::Target& target_;
  std::chrono::steady_clock::time_point started_;
  std::optional<std::chrono::steady_clock::time_point> sent_;  // the request went out
  std::string authority_;
  BodyBuffer request_body_, body_;
  HeaderList trailers_;
  bool request_ended_ = false;
  int status_ = 0;
  bool done_ = false;
  Timer timer_;
};

namespace {

double seconds(Milliseconds ms) { return std::chrono::duration<double>(ms).count(); }

}  // namespace

HealthChecker::HealthChecker(HealthBoard& board, const ServerConfig& config,
                             const ClientTlsContext* tls)
    : board_(board), config_(config), loop_(event_loop_.get()) {
  dns_ = std::make_unique<DnsResolver>(loop_, dns_options(config_.reloadable.dns));
  pool_ = std::make_unique<OriginPool>(OriginContext{loop_, &config_, dns_.get(), tls});
  tick_.init<HealthChecker, &HealthChecker::on_tick>(loop_, this);
  wakeup_.init<HealthChecker, &HealthChecker::on_posted>(loop_, this);
  tick_.arm(0);
  thread_ = std::thread([this] {
    name_this_thread("rg-health");
    ev_run(loop_, 0);
  });
}

HealthChecker::~HealthChecker() {
  post([this] { on_stop(); });
  if (thread_.joinable()) thread_.join();
}

void HealthChecker::on_stop() {
  stopping_ = true;
  tick_.stop();
  targets_.clear();  // probes detach from their sessions
  pool_->close_all();
  ev_break(loop_, EVBREAK_ALL);
}

void HealthChecker::post(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    queue_.push_back(std::move(work));
  }
  wakeup_.send();
}

void HealthChecker::on_posted() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    work.swap(queue_);
  }
  for (auto& w : work) w();
}

void HealthChecker::set_targets(const DataCenterMap& datacenters) {
  std::vector<std::unique_ptr<Target>> targets;
  for (const DataCenter& dc : datacenters.all) {
    for (const OriginEndpoint& e : dc.endpoints) {
      auto t = std::make_unique<Target>();
      t->dc = dc.id;
      t->endpoint = e;
      t->health = &board_.entry(dc.id, e);
      targets.push_back(std::move(t));
    }
  }
  // Moved into the work through a shared_ptr: std::function must be copyable.
  auto shared = std::make_shared<std::vector<std::unique_ptr<Target>>>(std::move(targets));
  post([this, shared] { targets_ = std::move(*shared); });
}

void HealthChecker::on_tick() {
  if (stopping_) return;
  const double timeout = seconds(config_.startup.health.timeout);
  for (auto& t : targets_) {
    if (t->probe && !t->probe->done()) continue;  // still in flight
    t->probe.reset();                             // finished last time: the session let go
    t->probe = std::make_unique<Probe>(*this, *t, loop_);
    t->probe->begin(*pool_, timeout);
  }
  tick_.arm(seconds(config_.startup.health.interval));
}

void HealthChecker::finished(Target& target, bool ok, std::uint32_t rtt_us) {
  board_.probe_result(*target.health, ok, rtt_us);
}

}  // namespace regiongate
