#pragma once
// The running gateway: its workers (one thread and loop each) and their
// listeners. `serve` runs one until a signal; `demo` runs one per phase of
// its tour, each with its own fixed clock.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "proxy/net/tls_context.h"
#include "proxy/origin/health_checker.h"
#include "proxy/runtime/connection_limits.h"
#include "proxy/runtime/listener_tls.h"
#include "proxy/runtime/worker.h"
#include "util/clock.h"

namespace regiongate {

// What a gateway is started with. It is copied in: nothing a caller does
// afterwards reaches the running workers.
struct GatewaySettings {
  ServerConfig server;
  std::shared_ptr<const Snapshot> snapshot;
  Clock clock = Clock::system();
  AccessLog* access_log = nullptr;  // null or disabled: none; must outlive the gateway
  AccessLog* audit_log = nullptr;   // the same
};

// The snapshot serving new requests, and its version (1, then one more per
// reload).
struct ServingSnapshot {
  std::shared_ptr<const Snapshot> snapshot;
  std::uint64_t version = 1;
};

// A listener as bound (a port 0 is the port the kernel chose).
struct BoundListener {
  std::string host;
  std::uint16_t port = 0;
  bool tls = false;
};

class Gateway {
 public:
  explicit Gateway(GatewaySettings settings);
  ~Gateway() { stop(); }
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Binds every listener in every worker (SO_REUSEPORT; a port 0 is chosen
  // by the first bind and taken by the others) and starts the workers. On
  // failure returns false with *error.
  bool start(std::string* error);
  // Stops and joins the workers. Idempotent.
  void stop();
  int worker_count() const { return static_cast<int>(workers_.size()); }
  // After start(): what was bound, in the configuration's order.
  const std::vector<BoundListener>& listening() const { return listening_; }
  // The server settings it started with (what a reload compares against).
  const ServerConfig& started_with() const { return shared_.server; }
  // Hands every worker a new snapshot, reloadable settings and listener
  // TLS contexts (reload.h); each worker switches on its next loop turn.
  // One reload at a time (the caller serialises them, as it numbers their
  // versions): publish() and listener_tls() take no lock.
  void publish(const std::shared_ptr<const Snapshot>& snapshot, const ReloadableSettings& settings,
               const ListenerTls& listener_tls, std::uint64_t version);
  // The listeners' TLS contexts in force (the last published), for a reload.
  const ListenerTls& listener_tls() const { return listener_tls_; }
  // Thread-safe: what publish() last handed the workers (or the first one).
  ServingSnapshot serving() const;
  // For the admin listener, between start() and stop(): read-only views that
  // any thread may read while the workers run.
  HealthBoard* health_board() const { return health_.get(); }
  std::vector<const WorkerMetrics*> worker_metrics() const;

 private:
  // Complete before the first worker is created; read-only once they run
  // (its snapshot let go of by then: the workers hold it).
  WorkerShared shared_;
  ListenerTls listener_tls_;  // per listener, or null; replaced by publish()
  std::unique_ptr<ClientTlsContext> origin_tls_;
  std::unique_ptr<ConnectionLimits> connection_limits_;
  std::unique_ptr<HealthBoard> health_;           // server.health: the board and its checker
  std::unique_ptr<HealthChecker> health_checker_;
  std::vector<BoundListener> listening_;
  std::vector<std::unique_ptr<Worker>> workers_;
  mutable std::mutex serving_mutex_;
  ServingSnapshot serving_;
};

}  // namespace regiongate
