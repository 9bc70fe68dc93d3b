#include "proxy/runtime/worker.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <utility>

#include "proxy/client/client_session.h"
#include "proxy/net/sockets.h"
#include "proxy/net/tls_context.h"
#include "proxy/observe/access_log.h"
#include "proxy/observe/request_record.h"
#include "proxy/runtime/allocator.h"
#include "proxy/runtime/connection_limits.h"
#include "util/thread_name.h"

namespace regiongate {
namespace {

// Access log lines are gathered per worker and written in batches (STYLE 27).
constexpr std::size_t kLogFlushBytes = 32 * 1024;
constexpr double kLogFlushSeconds = 0.5;

// Memory: a worker is quiet when its loop turned at most kQuietTurns times
// in the last kMemoryCheckSeconds (its own timers: this check, health
// probes, Redis pings). The first quiet check after a busy one gives back
// the memory its allocator holds free: a walk of the heap, so once per
// quiet spell, never under load.
constexpr double kMemoryCheckSeconds = 1.0;
constexpr unsigned kQuietTurns = 20;


}  // namespace

Worker::Worker(const WorkerShared& shared, std::vector<ListenSocket> sockets)
    : shared_(shared),
      server_(shared.server),
      loop_(event_loop_.get()),
      flush_queue_(loop_),
      snapshot_(shared.snapshot),
      health_view_(shared.health ? std::make_shared<HealthView>(*shared.health, shared.snapshot->datacenters)
                                 : std::make_shared<HealthView>()),
      // The last client connection of a graceful stop may be among the dead.
      closed_(loop_, [this] { end_if_drained(); }),
      // Sized at start (tokens.cache.entries); it fills only as tokens come.
      token_cache_(shared.snapshot->tokens ? shared.snapshot->tokens->config().cache_entries
                                           : TokenConfig{}.cache_entries) {
  for (const ListenSocket& socket : sockets) {
    auto l = std::make_unique<Listener>();
    l->fd = socket.fd;
    l->tls = socket.tls;
    int fd = socket.fd;
    l->worker = this;
    l->watcher.init<Listener, &Listener::on_accept>(loop_, fd, l.get());
    listeners_.push_back(std::move(l));
  }
  dns_ = std::make_unique<DnsResolver>(loop_, dns_options(shared.server.reloadable.dns));
  origins_ = std::make_unique<OriginPool>(
      OriginContext{loop_, &server_, dns_.get(), shared_.origin_tls});
  drain_timer_.init<Worker, &Worker::on_drain_timeout>(loop_, this);
  accept_pause_timer_.init<Worker, &Worker::on_accept_pause_end>(loop_, this);
  log_timer_.init<Worker, &Worker::on_log_flush>(loop_, this);
  wakeup_.init<Worker, &Worker::on_posted>(loop_, this);
  retire_timer_.init<Worker, &Worker::on_retire_timer>(loop_, this);
  memory_timer_.init<Worker, &Worker::on_memory_timer>(loop_, this);
}

Worker::~Worker() {
  sessions_.clear();
  closed_.clear();
  redis_.reset();  // after the requests that may wait in it
  retired_redis_.clear();
  origins_.reset();
  dns_.reset();
  flush_log();
  for (auto& l : listeners_) {
    l->watcher.stop();
    if (l->fd >= 0) close(l->fd);
  }
  listeners_.clear();
}

void Worker::start() {
  for (auto& l : listeners_) l->watcher.watch(EV_READ);
  thread_ = std::thread([this] {
    name_this_thread("rg-worker");
    follow_redis_directory(*snapshot_);  // connects on this thread's loop
    memory_timer_.arm(kMemoryCheckSeconds);
    ev_run(loop_, 0);
  });
}

void Worker::stop() {
  post([this] {
    if (stopping_) return;
    stopping_ = true;
    // Closed, not just unwatched: new connections are refused at once rather
    // than left waiting in a backlog nobody accepts from.
    for (auto& l : listeners_) {
      l->watcher.stop();
      close(l->fd);
      l->fd = -1;
    }
    std::vector<ClientSession*> open;
    for (auto& [ptr, session] : sessions_) open.push_back(ptr);
    for (ClientSession* s : open) s->shut_down();
    drain_timer_.arm(std::chrono::duration<double>(config().reloadable.timeouts.drain).count());
    end_if_drained();
  });
}

void Worker::end_if_drained() {
  if (!stopping_ || !sessions_.empty()) return;
  drain_timer_.stop();
  origins_->close_all();
  ev_break(loop_, EVBREAK_ALL);
}

void Worker::on_drain_timeout() {
  std::vector<ClientSession*> open;
  for (auto& [ptr, session] : sessions_) open.push_back(ptr);
  for (ClientSession* s : open) s->close("gateway stopping: drain timeout");
  end_if_drained();
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

void Worker::publish(std::shared_ptr<const Snapshot> snapshot, const ReloadableSettings& settings,
                     std::vector<std::shared_ptr<const ServerTlsContext>> listener_tls,
                     std::uint64_t version) {
  // The view is built here (it takes the board's lock), not on the worker.
  auto view = shared_.health ? std::make_shared<HealthView>(*shared_.health, snapshot->datacenters)
                             : std::make_shared<HealthView>();
  post([this, snapshot = std::move(snapshot), settings, version, view = std::move(view),
        listener_tls = std::move(listener_tls)] {
    snapshot_ = snapshot;  // the old one dies with its last request
    follow_redis_directory(*snapshot_);
    // The old contexts die with the last handshake begun on them.
    for (std::size_t i = 0; i < listeners_.size() && i < listener_tls.size(); ++i) {
      listeners_[i]->tls = listener_tls[i];
    }
    health_view_ = view;
    snapshot_version_ = version;
    server_.reloadable = settings;
  });
}

void Worker::on_posted() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    work.swap(queue_);
  }
  for (auto& w : work) w();
}

void Worker::Listener::on_accept(int) { worker->accept_from(*this); }

void Worker::accept_from(Listener& listener) {
  // Bounded per event so a connection storm cannot starve existing clients.
  for (int i = 0; i < 64; ++i) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = accept4(listener.fd, reinterpret_cast<sockaddr*>(&ss), &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors or memory: the listener stays readable, so
        // accepting on would spin at full CPU. Pause accepting instead
        // (the backlog waits, the connections open are served), as nginx
        // does, and count it.
        metrics_.accept_pauses.add();
        pause_accepting();
      }
      return;  // EAGAIN, or a transient error (ECONNABORTED)
    }
    const IpAddress peer = IpAddress::from_sockaddr(reinterpret_cast<sockaddr*>(&ss)).value_or(IpAddress{});
    if (!admitted(peer)) {
      close(fd);  // past server.limits: at once, before any byte or TLS work
      continue;
    }
    set_tcp_nodelay(fd);
    SSL* ssl = nullptr;
    if (listener.tls && !(ssl = listener.tls->new_connection(fd))) {
      close(fd);
      if (shared_.connection_limits) shared_.connection_limits->release(peer);
      continue;
    }
    auto session = std::make_unique<ClientSession>(
        *this, std::make_unique<Transport>(fd, ssl, listener.tls), peer);
    ClientSession* raw = session.get();
    sessions_.emplace(raw, std::move(session));
    metrics_.connections_accepted.add();
    metrics_.connections_open.add(1);
    raw->begin();
  }
}

bool Worker::admitted(const IpAddress& peer) {
  if (!shared_.connection_limits) return true;
  const LimitSettings& limits = server_.reloadable.limits;
  switch (shared_.connection_limits->admit(peer, limits.connections, limits.connections_per_address)) {
    case ConnectionLimits::Admit::kYes: return true;
    case ConnectionLimits::Admit::kTotal: metrics_.connections_refused.at("total").add(); return false;
    case ConnectionLimits::Admit::kPerAddress:
      metrics_.connections_refused.at("per-address").add();
      return false;
  }
  return false;
}

void Worker::pause_accepting() {
  for (auto& l : listeners_) l->watcher.stop();
  accept_pause_timer_.arm(kAcceptPauseSeconds);
}

void Worker::on_accept_pause_end() {
  if (stopping_) return;  // the listeners are closed
  for (auto& l : listeners_) {
    if (l->fd >= 0) l->watcher.watch(EV_READ);
  }
}

void Worker::session_closed(ClientSession* session, const std::string&) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  metrics_.connections_open.add(-1);
  if (shared_.connection_limits) shared_.connection_limits->release(session->peer());
  // Not here: we are inside the session's own call stack.
  closed_.bury(std::move(it->second));
  sessions_.erase(it);
}

void Worker::origin_outcome(EndpointHealth* endpoint, bool ok) {
  if (!endpoint || !shared_.health) return;
  if (ok) {
    shared_.health->request_succeeded(*endpoint);
  } else {
    shared_.health->request_failed(*endpoint);
  }
}

bool Worker::request_log_wanted() const {
  return (shared_.access_log && shared_.access_log->enabled()) ||
         (shared_.audit_log && shared_.audit_log->enabled());
}

bool Worker::audit_log_available() const {
  return !shared_.server.startup.audit_log.required || !shared_.audit_log ||
         shared_.audit_log->writable();
}

void Worker::log_request(const RequestRecord& record) {
  // The time changes once a second: format it then, not per line. The
  // loop's own clock (read once per loop turn) is enough for a log line.
  const UnixSeconds second =
      shared_.clock.is_fixed() ? now() : static_cast<UnixSeconds>(ev_now(loop_));
  if (second != log_second_) {
    log_second_ = second;
    log_time_length_ = format_rfc3339_into(second, log_time_, sizeof log_time_);
  }
  const std::string_view time(log_time_, log_time_length_);
  // Formatted straight into the worker's batches: no allocation once grown.
  std::string_view decision;  // the access line's, shared with the audit record
  if (shared_.access_log && shared_.access_log->enabled()) {
    decision = append_access_log_line(log_buffer_, time, record, shared_.server.startup.access_log);
    ++log_lines_;
  }
  const AuditLogSettings& audit = shared_.server.startup.audit_log;
  if (shared_.audit_log && shared_.audit_log->enabled() && audit_wanted(record, audit)) {
    append_audit_record(audit_buffer_, time, record, audit, decision);
    ++audit_lines_;
  }
  if (log_buffer_.size() + audit_buffer_.size() >= kLogFlushBytes) {
    flush_log();
  } else if (!log_timer_.active()) {
    log_timer_.arm(kLogFlushSeconds);
  }
}

void Worker::follow_redis_directory(const Snapshot& snapshot) {
  const std::optional<RedisDirectoryConfig>& wanted = snapshot.redis_directory;
  if (redis_ && wanted && redis_->config() == *wanted) return;  // same settings: keep its cache
  if (redis_) {
    // Requests waiting in it keep it until they are answered (by its timeout).
    retired_redis_.push_back(std::move(redis_));
    if (!retire_timer_.active()) on_retire_timer();
  }
  if (wanted) redis_ = std::make_unique<RedisDirectory>(event_loop_, *wanted, &metrics_.directory);
}

void Worker::on_retire_timer() {
  retire_timer_.stop();
  std::erase_if(retired_redis_, [](const std::unique_ptr<RedisDirectory>& d) { return d->pending() == 0; });
  if (!retired_redis_.empty()) retire_timer_.arm(0.05);
}

void Worker::on_memory_timer() {
  const unsigned turns = ev_iteration(loop_);
  const bool quiet = turns - memory_checked_at_ <= kQuietTurns;
  memory_checked_at_ = turns;
  if (!quiet) {
    busy_since_release_ = true;
  } else if (busy_since_release_) {
    release_free_memory();
    busy_since_release_ = false;
  }
  if (!stopping_) memory_timer_.arm(kMemoryCheckSeconds);
}

void Worker::on_log_flush() {
  log_timer_.stop();
  flush_log();
}

void Worker::flush_log() {
  if (!log_buffer_.empty() && shared_.access_log) {
    shared_.access_log->submit(log_buffer_, std::exchange(log_lines_, 0));
    log_buffer_.reserve(kLogFlushBytes + 1024);
  }
  if (!audit_buffer_.empty() && shared_.audit_log) {
    shared_.audit_log->submit(audit_buffer_, std::exchange(audit_lines_, 0));
  }
}

}  // namespace regiongate
