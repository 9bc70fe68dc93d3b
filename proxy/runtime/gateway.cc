#include "proxy/runtime/gateway.h"

#include <unistd.h>

#include <thread>

#include "proxy/net/sockets.h"

namespace regiongate {

Gateway::Gateway(GatewaySettings settings) {
  shared_.server = std::move(settings.server);
  shared_.snapshot = std::move(settings.snapshot);
  shared_.clock = settings.clock;
  shared_.access_log = settings.access_log;
  shared_.audit_log = settings.audit_log;
  connection_limits_ = std::make_unique<ConnectionLimits>();
  shared_.connection_limits = connection_limits_.get();
  serving_.snapshot = shared_.snapshot;
}

bool Gateway::start(std::string* error) {
  const ServerConfig& config = shared_.server;
  const int workers = config.startup.workers > 0
                          ? config.startup.workers
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // TLS first: a bad certificate must fail before anything listens.
  origin_tls_ = ClientTlsContext::create(config.reloadable.origin.ca_file, true, error);
  if (!origin_tls_) return false;
  shared_.origin_tls = origin_tls_.get();
  if (config.startup.health.enabled) {
    health_ = std::make_unique<HealthBoard>(config.startup.health.rise, config.startup.health.fall);
    shared_.health = health_.get();
    health_checker_ = std::make_unique<HealthChecker>(*health_, config, origin_tls_.get());
    health_checker_->set_targets(shared_.snapshot->datacenters);
  }
  std::optional<ListenerTls> tls = load_listener_tls(config.startup.listeners, error);
  if (!tls) return false;
  listener_tls_ = std::move(*tls);
  std::vector<std::vector<Worker::ListenSocket>> sockets(static_cast<std::size_t>(workers));
  auto close_all = [&] {
    for (auto& list : sockets) {
      for (const Worker::ListenSocket& s : list) close(s.fd);
    }
  };
  for (std::size_t i = 0; i < config.startup.listeners.size(); ++i) {
    const ListenerConfig& l = config.startup.listeners[i];
    BoundListener bound{l.host, l.port, l.tls};
    for (auto& list : sockets) {
      // The first bind of a port 0 chooses it; the other workers share it.
      int fd = listen_tcp(l.host, bound.port, true, error);
      if (fd < 0) {
        close_all();
        return false;
      }
      if (bound.port == 0) bound.port = local_port(fd);
      list.push_back({fd, listener_tls_[i]});
    }
    listening_.push_back(bound);
  }
  for (auto& list : sockets) workers_.push_back(std::make_unique<Worker>(shared_, list));
  // Every worker holds the first snapshot now. Kept here too, it would
  // outlive every reload, and with it its GeoIP mapping and directory.
  shared_.snapshot.reset();
  for (auto& w : workers_) w->start();
  return true;
}

void Gateway::publish(const std::shared_ptr<const Snapshot>& snapshot,
                      const ReloadableSettings& settings, const ListenerTls& listener_tls,
                      std::uint64_t version) {
  listener_tls_ = listener_tls;
  for (auto& w : workers_) w->publish(snapshot, settings, listener_tls, version);
  if (health_checker_) health_checker_->set_targets(snapshot->datacenters);
  std::lock_guard<std::mutex> lock(serving_mutex_);
  serving_ = {snapshot, version};
}

ServingSnapshot Gateway::serving() const {
  std::lock_guard<std::mutex> lock(serving_mutex_);
  return serving_;
}

std::vector<const WorkerMetrics*> Gateway::worker_metrics() const {
  std::vector<const WorkerMetrics*> out;
  for (const auto& w : workers_) out.push_back(&w->metrics_view());
  return out;
}

void Gateway::stop() {
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  workers_.clear();
  health_checker_.reset();
}

}  // namespace regiongate
