#pragma once
// A worker: one thread, one libev loop, its own listeners (SO_REUSEPORT),
// client sessions, origin pool and DNS resolver. Nothing on the
// request path is shared with other workers except immutable snapshots.
//
// Other threads talk to a worker only through post() (a locked queue plus a
// loop wake-up, as nghttpx's Worker::send); the worker applies the work on
// its own thread.

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "policy/snapshot.h"
#include "proxy/client/client_host.h"
#include "proxy/directory/redis_directory.h"
#include "proxy/config/server_config.h"
#include "proxy/dns/dns_resolver.h"
#include "proxy/net/event_loop.h"
#include "proxy/origin/origin_pool.h"
#include "util/clock.h"

namespace regiongate {

class ClientSession;

// What all workers share: built once by their Gateway before the first
// worker exists, and never changed after they start (the snapshot is
// replaced whole, on each worker's own thread, by reload).
class AccessLog;
class ConnectionLimits;
class ClientTlsContext;
class ServerTlsContext;

struct WorkerShared {
  ServerConfig server;
  AccessLog* access_log = nullptr;               // null or disabled: no access log
  AccessLog* audit_log = nullptr;                // null or disabled: no audit log
  HealthBoard* health = nullptr;                 // null: health checks off
  ConnectionLimits* connection_limits = nullptr;  // every worker's connections (server.limits)
  const ClientTlsContext* origin_tls = nullptr;  // for TLS endpoints
  Clock clock = Clock::system();
  std::shared_ptr<const Snapshot> snapshot;      // the first one, until every worker has it
};

// The runtime of its client sessions (ClientHost): they see only that.
class Worker final : public ClientHost {
 public:
  // One of this worker's own listening sockets (each worker binds its own
  // with SO_REUSEPORT); `tls` null for cleartext.
  struct ListenSocket {
    int fd;
    std::shared_ptr<const ServerTlsContext> tls;
  };
  Worker(const WorkerShared& shared, std::vector<ListenSocket> sockets);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();  // runs the loop on a new thread
  // From any thread: close the listeners, send every client GOAWAY and let
  // the requests in flight finish (up to timeouts.drain), then end the loop.
  void stop();
  void join();

  // Runs `work` on the worker's thread. Thread-safe.
  void post(std::function<void()> work);
  // Thread-safe: from the worker's next loop turn, new requests use
  // `snapshot` and the reloadable settings, and new connections to the
  // listeners `listener_tls` (one per listener, in order); requests in
  // flight keep theirs, connections open keep their TLS.
  void publish(std::shared_ptr<const Snapshot> snapshot, const ReloadableSettings& settings,
               std::vector<std::shared_ptr<const ServerTlsContext>> listener_tls,
               std::uint64_t version);

  // Worker-thread only: the ClientHost its sessions see.
  struct ev_loop* loop() const override { return loop_; }
  const ServerConfig& config() const override { return server_; }
  const std::shared_ptr<const Snapshot>& snapshot() const override { return snapshot_; }
  TokenCache& token_cache() override { return token_cache_; }
  RedisDirectory* redis_directory() override { return redis_.get(); }
  std::uint64_t snapshot_version() const override { return snapshot_version_; }
  UnixSeconds now() const override { return shared_.clock.now(); }
  const std::shared_ptr<const HealthView>& health() const override { return health_view_; }
  void origin_outcome(EndpointHealth* endpoint, bool ok) override;
  WorkerMetrics& metrics() override { return metrics_; }
  // Any thread: read-only (the admin listener adds up every worker's).
  const WorkerMetrics& metrics_view() const { return metrics_; }
  OriginPool& origins() override { return *origins_; }
  // The endpoint of `center` (index `dc`) a new request starts at: its
  // weighted rotation, turned one step per request on this worker.
  std::uint8_t first_endpoint(DataCenterIndex dc, const DataCenter& center) override {
    const std::vector<std::uint8_t>& rotation = center.endpoint_rotation;
    if (rotation.size() <= 1) return 0;
    return rotation[rotation_cursor_[dc]++ % rotation.size()];
  }
  void session_closed(ClientSession* session, const std::string& why) override;
  bool request_log_wanted() const override;
  bool audit_log_available() const override;
  void log_request(const RequestRecord& record) override;

 private:
  struct Listener {
    int fd = -1;
    std::shared_ptr<const ServerTlsContext> tls;  // null: cleartext
    IoWatcher watcher;
    Worker* worker = nullptr;
    void on_accept(int revents);
  };

  void accept_from(Listener& listener);
  // Out of file descriptors: stop accepting for a moment rather than spin.
  static constexpr double kAcceptPauseSeconds = 0.1;
  void pause_accepting();
  void on_accept_pause_end();
  // Counts a new connection from `peer` in, or refuses it (server.limits).
  bool admitted(const IpAddress& peer);
  void on_posted();
  void on_drain_timeout();
  void end_if_drained();
  void on_log_flush();
  void flush_log();
  // Connects the Redis directory `snapshot` names (or keeps the one that
  // has the same settings), and retires the one it replaces.
  void follow_redis_directory(const Snapshot& snapshot);
  // Destroys retired directories once nothing waits in them.
  void on_retire_timer();
  // Every kMemoryCheckSeconds: a worker that has gone quiet after work
  // gives the memory its allocator holds free back (runtime/allocator.h).
  void on_memory_timer();

  const WorkerShared& shared_;
  // The worker's own copy: its reloadable part follows publish().
  ServerConfig server_;
  EventLoop event_loop_;  // before every watcher: destroyed after them
  struct ev_loop* loop_;
  FlushQueue flush_queue_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::shared_ptr<const HealthView> health_view_;  // snapshot_'s, on shared_.health
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::unique_ptr<DnsResolver> dns_;      // before origins_: their sessions hold queries
  std::unique_ptr<OriginPool> origins_;  // before sessions_: streams point into it
  std::unordered_map<ClientSession*, std::unique_ptr<ClientSession>> sessions_;
  Graveyard<ClientSession> closed_;  // sessions that closed: destroyed on the next loop turn
  Timer drain_timer_;
  Timer accept_pause_timer_;
  bool stopping_ = false;
  Timer log_timer_;
  // The lines in each, counted as they are written (AccessLog::submit()).
  std::string log_buffer_;
  std::string audit_buffer_;
  std::size_t log_lines_ = 0, audit_lines_ = 0;
  std::uint64_t snapshot_version_ = 1;
  UnixSeconds log_second_ = -1;
  char log_time_[32] = {};
  std::size_t log_time_length_ = 0;
  AsyncWakeup wakeup_;
  std::mutex queue_mutex_;
  std::vector<std::function<void()>> queue_;
  WorkerMetrics metrics_;
  TokenCache token_cache_;
  // The Redis directory of snapshot_ (null: none), and those a reload
  // replaced while requests still waited in them: each answers by its
  // timeout, so they go soon after.
  std::unique_ptr<RedisDirectory> redis_;
  std::vector<std::unique_ptr<RedisDirectory>> retired_redis_;
  Timer retire_timer_;
  Timer memory_timer_;
  unsigned memory_checked_at_ = 0;  // ev_iteration() at the last check
  bool busy_since_release_ = false;
  std::array<std::uint32_t, kMaxDataCenters> rotation_cursor_{};
  std::thread thread_;
};

}  // namespace regiongate
