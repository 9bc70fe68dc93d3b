#include "proxy/dns/dns_resolver.h"

#include <netdb.h>
#include <sys/time.h>

#include <algorithm>
#include <climits>
#include <mutex>
#include <utility>

#include "util/c_boundary.h"

namespace regiongate {
namespace {

// ares_library_init is reference counted and not thread-safe in c-ares 1.18:
// do it once for the process (workers create their resolvers concurrently)
// and never undo it.
void init_ares_library_once() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

bool valid_host_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // absolute form
  if (name.empty() || name.size() > DnsResolver::kMaxNameLength) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::shared_ptr<const DnsResult> make_failure(DnsStatus status, std::string message) {
  auto r = std::make_shared<DnsResult>();
  r->status = status;
  r->message = std::move(message);
  return r;
}

}  // namespace

const char* to_string(DnsStatus status) {
  switch (status) {
    case DnsStatus::kOk: return "ok";
    case DnsStatus::kNotFound: return "not found";
    case DnsStatus::kTimeout: return "timeout";
    case DnsStatus::kError: return "error";
  }
  return "error";
}

DnsResolver::DnsResolver(struct ev_loop* loop, DnsResolverOptions options)
    : loop_(loop), options_(std::move(options)) {
  ev_timer_init(&timer_, on_timer, 0., 0.);
  timer_.data = this;
  init_channel();
}

DnsResolver::~DnsResolver() {
  // ares_destroy ends every query with ARES_EDESTRUCTION (finish() drops
  // them: pending_ still owns the Query objects) and reports every socket
  // closed through on_sock_state, which stops and frees its watcher.
  destroying_ = true;
  if (channel_) ares_destroy(channel_);
  channel_ = nullptr;
  ev_timer_stop(loop_, &timer_);
  for (auto& [fd, w] : watchers_) ev_io_stop(loop_, &w->io);
  watchers_.clear();
}

void DnsResolver::init_channel() {
  init_ares_library_once();
  ares_options opts{};
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS;
  opts.sock_state_cb = on_sock_state;
  opts.sock_state_cb_data = this;
  opts.timeout = static_cast<int>(std::clamp<long long>(options_.timeout.count(), 1, INT_MAX));
  opts.tries = std::max(1, options_.tries);
  char lookups_fb[] = "fb";
  char lookups_b[] = "b";
  opts.lookups = options_.use_hosts_file ? lookups_fb : lookups_b;
  if (!options_.use_search_domains) {
    mask |= ARES_OPT_DOMAINS;  // an empty list overrides resolv.conf's
    opts.domains = nullptr;
    opts.ndomains = 0;
  }
  int rc = ares_init_options(&channel_, &opts, mask);
  if (rc != ARES_SUCCESS) {
    channel_ = nullptr;
    init_error_ = std::string("c-ares init: ") + ares_strerror(rc);
    return;
  }
  if (options_.servers.empty()) return;
  std::string csv;
  for (const auto& s : options_.servers) {
    if (!csv.empty()) csv += ',';
    csv += s;
  }
  rc = ares_set_servers_ports_csv(channel_, csv.c_str());
  if (rc != ARES_SUCCESS) {
    ares_destroy(channel_);
    channel_ = nullptr;
    init_error_ = "DNS servers \"" + csv + "\": " + ares_strerror(rc);
  }
}

std::chrono::steady_clock::time_point DnsResolver::now() const {
  return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
}

DnsResolver::QueryId DnsResolver::answer_now(const DnsResult& result, const Callback& callback) {
  if (callback) callback(result);
  return kNoQuery;
}

DnsResolver::QueryId DnsResolver::resolve(std::string_view host, Callback callback) {
  std::string_view literal = host;
  if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']') {
    literal = literal.substr(1, literal.size() - 2);
  }
  if (auto address = IpAddress::parse(literal)) {
    DnsResult r;
    r.status = DnsStatus::kOk;
    r.addresses.push_back(*address);
    return answer_now(r, callback);
  }
  if (!valid_host_name(host)) {
    ++stats_.rejected;
    return answer_now(*make_failure(DnsStatus::kError, "invalid host name"), callback);
  }
  std::string name = lower(host);
  if (auto hit = cache_lookup(name)) {
    ++stats_.cache_hits;
    return answer_now(*hit, callback);  // `hit` keeps it alive whatever the callback does
  }
  if (!channel_) {
    ++stats_.rejected;
    return answer_now(*make_failure(DnsStatus::kError, init_error_), callback);
  }
  if (auto it = pending_.find(name); it != pending_.end()) {
    Query* q = it->second.get();
    if (q->waiters.size() >= options_.max_waiters_per_query) {
      ++stats_.rejected;
      return answer_now(*make_failure(DnsStatus::kError, "too many waiters for one DNS query"),
                        callback);
    }
    QueryId id = next_id_++;
    q->waiters.push_back({id, std::move(callback)});
    waiting_.emplace(id, q);
    ++stats_.coalesced;
    return id;
  }
  if (pending_.size() >= options_.max_pending_queries) {
    ++stats_.rejected;
    return answer_now(*make_failure(DnsStatus::kError, "too many pending DNS queries"), callback);
  }

  auto owned = std::make_unique<Query>();
  Query* q = owned.get();
  q->owner = this;
  q->name = name;
  QueryId id = next_id_++;
  q->waiters.push_back({id, std::move(callback)});
  waiting_.emplace(id, q);
  pending_.emplace(std::move(name), std::move(owned));
  ++stats_.queries;

  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // May end the query (and call on_addrinfo) before it returns; q stays
  // alive either way (in pending_ or completed_).
  ares_getaddrinfo(channel_, q->name.c_str(), nullptr, &hints, on_addrinfo, q);
  rearm_timer();
  if (!completed_.empty()) deliver_completed();
  return waiting_.count(id) ? id : kNoQuery;
}

bool DnsResolver::cancel(QueryId id) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return false;
  Query* q = it->second;
  waiting_.erase(it);
  auto w = std::find_if(q->waiters.begin(), q->waiters.end(),
                        [id](const Waiter& x) { return x.id == id; });
  if (w == q->waiters.end()) return true;
  if (q->result) {
    w->callback = nullptr;  // ended: deliver_completed() may be walking the waiters
  } else {
    q->waiters.erase(w);  // in flight: its place under max_waiters_per_query is free again
  }
  return true;
}

void DnsResolver::clear_cache() {
  cache_.clear();
  cache_order_.clear();
}

void DnsResolver::on_addrinfo(void* arg, int status, int /*timeouts*/, struct ares_addrinfo* res) noexcept {
  fail_stop("a c-ares answer", [&] {
    auto* q = static_cast<Query*>(arg);
    q->owner->finish(q, status, res);
  });
}

// Runs inside c-ares: records the answer, caches it and queues the waiters
// for deliver_completed(); calls no user code.
void DnsResolver::finish(Query* query, int status, struct ares_addrinfo* res) {
  if (destroying_) {
    if (res) ares_freeaddrinfo(res);
    return;
  }
  auto result = std::make_shared<DnsResult>();
  int ttl = INT_MAX;
  if (status == ARES_SUCCESS && res) {
    for (auto* n = res->nodes; n; n = n->ai_next) {
      if (auto a = IpAddress::from_sockaddr(n->ai_addr)) {
        result->addresses.push_back(*a);
        ttl = std::min(ttl, n->ai_ttl);
      }
    }
    for (auto* c = res->cnames; c; c = c->next) ttl = std::min(ttl, c->ttl);
  }
  if (res) ares_freeaddrinfo(res);

  std::chrono::seconds cache_for{0};
  if (!result->addresses.empty()) {
    result->status = DnsStatus::kOk;
    cache_for = std::clamp(std::chrono::seconds(std::max(ttl, 0)), options_.min_ttl,
                           std::max(options_.min_ttl, options_.max_ttl));
  } else {
    ++stats_.failures;
    if (status == ARES_SUCCESS || status == ARES_ENOTFOUND || status == ARES_ENODATA) {
      result->status = DnsStatus::kNotFound;
      result->message = ares_strerror(status == ARES_SUCCESS ? ARES_ENODATA : status);
      cache_for = options_.negative_ttl;
    } else if (status == ARES_ETIMEOUT) {
      ++stats_.timeouts;
      result->status = DnsStatus::kTimeout;
      result->message = ares_strerror(status);
    } else {
      result->status = DnsStatus::kError;
      result->message = ares_strerror(status);
    }
  }
  if (result->status == DnsStatus::kOk) result->expires = now() + cache_for;
  query->result = result;
  if (cache_for.count() > 0) cache_store(query->name, result, cache_for);

  auto it = pending_.find(query->name);
  if (it != pending_.end() && it->second.get() == query) {
    completed_.push_back(std::move(it->second));
    pending_.erase(it);
  }
}

// Calls the waiters of ended lookups. Runs only outside c-ares (after
// ares_getaddrinfo/ares_process_fd returned), so a callback may resolve()
// and cancel() freely.
void DnsResolver::deliver_completed() {
  while (!completed_.empty()) {
    std::unique_ptr<Query> q = std::move(completed_.front());
    completed_.erase(completed_.begin());
    // q is out of pending_, so no waiter is added meanwhile; cancel() during
    // a callback only empties a later waiter's callback.
    for (std::size_t i = 0; i < q->waiters.size(); ++i) {
      if (!q->waiters[i].callback) continue;
      Callback cb = std::move(q->waiters[i].callback);
      q->waiters[i].callback = nullptr;
      waiting_.erase(q->waiters[i].id);
      cb(*q->result);
    }
  }
}

std::shared_ptr<const DnsResult> DnsResolver::cache_lookup(const std::string& name) {
  auto it = cache_.find(name);
  if (it == cache_.end()) return nullptr;
  if (now() >= it->second.expires) {
    cache_order_.erase(it->second.order);
    cache_.erase(it);
    return nullptr;
  }
  return it->second.result;
}

void DnsResolver::cache_store(const std::string& name, std::shared_ptr<const DnsResult> result,
                              std::chrono::seconds ttl) {
  if (options_.max_cache_entries == 0) return;
  auto expires = now() + ttl;
  if (auto it = cache_.find(name); it != cache_.end()) {
    cache_order_.erase(it->second.order);
    cache_.erase(it);
  }
  while (cache_.size() >= options_.max_cache_entries) {
    cache_.erase(cache_order_.front());
    cache_order_.pop_front();
  }
  auto order = cache_order_.insert(cache_order_.end(), name);
  cache_.emplace(name, CacheEntry{std::move(result), expires, order});
}

void DnsResolver::on_sock_state(void* data, ares_socket_t fd, int readable, int writable) noexcept {
  fail_stop("c-ares socket state", [&] {
    auto* self = static_cast<DnsResolver*>(data);
    auto it = self->watchers_.find(fd);
    if (!readable && !writable) {
      if (it != self->watchers_.end()) {
        ev_io_stop(self->loop_, &it->second->io);
        self->watchers_.erase(it);  // may be the watcher whose callback is running: not touched after
      }
      return;
    }
    int events = (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0);
    if (it == self->watchers_.end()) {
      auto w = std::make_unique<IoWatcher>();
      ev_io_init(&w->io, on_io, fd, events);
      w->io.data = self;
      ev_io_start(self->loop_, &w->io);
      self->watchers_.emplace(fd, std::move(w));
      return;
    }
    ev_io* io = &it->second->io;
    ev_io_stop(self->loop_, io);
    ev_io_set(io, fd, events);
    ev_io_start(self->loop_, io);
  });
}

void DnsResolver::on_io(struct ev_loop* /*loop*/, ev_io* w, int revents) noexcept {
  fail_stop("a c-ares socket", [&] {
    auto* self = static_cast<DnsResolver*>(w->data);
    ares_socket_t fd = w->fd;  // w may be freed inside ares_process_fd
    ares_process_fd(self->channel_, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
                    (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
    self->rearm_timer();
    self->deliver_completed();
  });
}

void DnsResolver::on_timer(struct ev_loop* /*loop*/, ev_timer* w, int /*revents*/) noexcept {
  fail_stop("the c-ares timer", [&] {
    auto* self = static_cast<DnsResolver*>(w->data);
    ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    self->rearm_timer();
    self->deliver_completed();
  });
}

void DnsResolver::rearm_timer() {
  ev_timer_stop(loop_, &timer_);
  if (!channel_) return;
  timeval tv{};
  timeval* next = ares_timeout(channel_, nullptr, &tv);
  if (!next) return;
  // c-ares rounds down to whole milliseconds: at least 1 ms, or the loop
  // would spin on a zero timeout until the deadline really passes.
  double after = static_cast<double>(next->tv_sec) + next->tv_usec / 1e6;
  ev_timer_set(&timer_, std::max(after, 0.001), 0.);
  ev_timer_start(loop_, &timer_);
}

}  // namespace regiongate
