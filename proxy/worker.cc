#include "proxy/worker.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "proxy/client_session.h"
#include "proxy/net.h"

namespace regiongate {
namespace {

// Access log lines are gathered per worker and written in batches (STYLE 27).
constexpr std::size_t kLogFlushBytes = 32 * 1024;
constexpr double kLogFlushSeconds = 0.5;

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace

Worker::Worker(const GatewayShared& shared, std::vector<int> listen_fds)
    : shared_(shared),
      loop_(event_loop_.get()),
      snapshot_(shared.snapshot) {
  for (int fd : listen_fds) {
    auto l = std::make_unique<Listener>();
    l->fd = fd;
    l->worker = this;
    l->watcher.init<Listener, &Listener::on_accept>(loop_, fd, l.get());
    listeners_.push_back(std::move(l));
  }
  origins_ = std::make_unique<OriginPool>(*this);
  reap_timer_.init<Worker, &Worker::on_reap>(loop_, this);
  log_timer_.init<Worker, &Worker::on_log_flush>(loop_, this);
  wakeup_.init<Worker, &Worker::on_posted>(loop_, this);
}

Worker::~Worker() {
  sessions_.clear();
  closed_.clear();
  origins_.reset();
  flush_log();
  for (auto& l : listeners_) {
    l->watcher.stop();
    if (l->fd >= 0) close(l->fd);
  }
  listeners_.clear();
}

void Worker::start() {
  for (auto& l : listeners_) l->watcher.watch(EV_READ);
  thread_ = std::thread([this] { ev_run(loop_, 0); });
}

void Worker::stop() {
  post([this] {
    for (auto& l : listeners_) l->watcher.stop();
    std::vector<ClientSession*> open;
    for (auto& [ptr, session] : sessions_) open.push_back(ptr);
    for (ClientSession* s : open) s->close("gateway stopping");
    origins_->close_all();
    ev_break(loop_, EVBREAK_ALL);
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::post(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    queue_.push_back(std::move(work));
  }
  wakeup_.send();
}

void Worker::on_posted() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    work.swap(queue_);
  }
  for (auto& w : work) w();
}

UnixSeconds Worker::now() const {
  if (shared_.fixed_now) return *shared_.fixed_now;
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Worker::Listener::on_accept(int) { worker->accept_from(*this); }

void Worker::accept_from(Listener& listener) {
  // Bounded per event so a connection storm cannot starve existing clients.
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(listener.fd, reinterpret_cast<sockaddr*>(&ss), &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a transient error (EMFILE, ECONNABORTED)
    set_tcp_nodelay(fd);
    auto peer = IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss));
    auto session = std::make_unique<ClientSession>(
        *this, std::make_unique<Transport>(fd, nullptr), peer.value_or(IpAddress{}));
    ClientSession* raw = session.get();
    sessions_.emplace(raw, std::move(session));
    ++counters_.connections;
    raw->begin();
  }
}

void Worker::session_closed(ClientSession* session, const std::string&) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  // Not here: we are inside the session's own call stack.
  closed_.push_back(std::move(it->second));
  sessions_.erase(it);
  if (!reap_timer_.active()) reap_timer_.arm(0);
}

void Worker::on_reap() {
  reap_timer_.stop();
  closed_.clear();
}

void Worker::log_request(const ClientSession&, const ClientStream& stream) {
  ++counters_.requests;
  if (shared_.server.access_log == "off") return;
  const Snapshot& snap = stream.snapshot ? *stream.snapshot : *snapshot_;
  const RoutedRequest& r = stream.routed;
  const Decision& d = r.decision;
  std::string line = "{\"time\":\"" + format_rfc3339(now()) + "\",\"client\":\"" +
                     r.client.to_string() + "\",\"country\":";
  line += r.country.account == kNoCountry
              ? std::string("null")
              : "\"" + std::string(country_code(r.country.account)) + "\"";
  line += ",\"country_source\":\"" + std::string(source_name(r.country.source)) + "\"";
  line += ",\"service\":";
  line += r.service == kNoService ? std::string("null")
                                  : "\"" + snap.policy.services[r.service].name + "\"";
  line += ",\"rule\":";
  line += d.rule == kNoRule ? std::string("null") : "\"" + snap.policy.rules[d.rule].id + "\"";
  line += ",\"datacenter\":";
  line += stream.datacenter == kNoDataCenterIndex
              ? std::string("null")
              : "\"" + snap.datacenters.all[stream.datacenter].id + "\"";
  line += ",\"status\":" + std::to_string(stream.status);
  line += ",\"reason\":\"" + std::string(reason_code(d.reason)) + "\"";
  line += ",\"bytes_in\":" + std::to_string(stream.bytes_in);
  line += ",\"bytes_out\":" + std::to_string(stream.bytes_out);
  line += ",\"duration_us\":" + std::to_string((now_ns() - stream.started_ns) / 1000) + "}\n";
  log_buffer_ += line;
  if (log_buffer_.size() >= kLogFlushBytes) {
    flush_log();
  } else if (!log_timer_.active()) {
    log_timer_.arm(kLogFlushSeconds);
  }
}

void Worker::on_log_flush() {
  log_timer_.stop();
  flush_log();
}

void Worker::flush_log() {
  if (log_buffer_.empty()) return;
  std::fwrite(log_buffer_.data(), 1, log_buffer_.size(), stdout);
  std::fflush(stdout);
  log_buffer_.clear();
}

}  // namespace regiongate
