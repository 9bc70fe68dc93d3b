#pragma once
// Active health checks: one thread of its own, with its own loop, resolver
// and origin connections, sends an HTTP/2 GET of server.health.path to every
// origin endpoint each interval and writes the outcome to the HealthBoard
// (a 2xx or 3xx within the timeout is a success). Health is computed here
// once and read by every worker (origin/health_board.h).

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "maps/datacenter.h"
#include "proxy/config/server_config.h"
#include "proxy/dns/dns_resolver.h"
#include "proxy/net/event_loop.h"
#include "proxy/origin/health_board.h"
#include "proxy/origin/origin_pool.h"

namespace regiongate {

class ClientTlsContext;
class Probe;

class HealthChecker {
 public:
  HealthChecker(HealthBoard& board, const ServerConfig& config, const ClientTlsContext* tls);
  ~HealthChecker();  // stops and joins its thread
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Thread-safe: probe these data centres' endpoints from now on (at start
  // and after each reload).
  void set_targets(const DataCenterMap& datacenters);

 private:
  struct Target {
    std::string dc;
    OriginEndpoint endpoint;
    EndpointHealth* health = nullptr;
    std::unique_ptr<Probe> probe;  // in flight, or finished and not yet reaped
  };
  friend class Probe;

  void on_tick();
  void on_posted();
  void on_stop();
  void post(std::function<void()> work);
  void finished(Target& target, bool ok, std::uint32_t rtt_us);

  HealthBoard& board_;
  ServerConfig config_;
  EventLoop event_loop_;  // before every watcher: destroyed after them
  struct ev_loop* loop_;
  std::unique_ptr<DnsResolver> dns_;
  std::unique_ptr<OriginPool> pool_;
  std::vector<std::unique_ptr<Target>> targets_;
  Timer tick_;
  AsyncWakeup wakeup_;
  std::mutex queue_mutex_;
  std::vector<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace regiongate
