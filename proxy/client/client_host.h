#pragma once
// What a client session and its requests need of the runtime they run in
// (a worker), and nothing more. The worker implements it; the client side
// never sees the worker itself. Worker-thread only.

#include <cstdint>
#include <memory>
#include <string>

#include "policy/snapshot.h"
#include "proxy/config/server_config.h"
#include "proxy/observe/metrics.h"
#include "proxy/observe/request_record.h"
#include "proxy/origin/health_board.h"
#include "tokens/token_cache.h"

struct ev_loop;

namespace regiongate {

class ClientSession;
class OriginPool;
class RedisDirectory;

class ClientHost {
 public:
  virtual struct ev_loop* loop() const = 0;
  // Fixed for the process (listeners and workers cannot change without a restart).
  virtual const ServerConfig& config() const = 0;
  // The current snapshot; a request keeps the one it started with.
  virtual const std::shared_ptr<const Snapshot>& snapshot() const = 0;
  virtual UnixSeconds now() const = 0;
  // The health of snapshot()'s data centres and endpoints (all up when
  // health checks are off); a request keeps the one it started with.
  virtual const std::shared_ptr<const HealthView>& health() const = 0;
  // How a request to an endpoint went (passive health): null when health
  // checks are off.
  virtual void origin_outcome(EndpointHealth* endpoint, bool ok) = 0;
  virtual OriginPool& origins() = 0;
  // The endpoint of `center` a new request starts at (its weighted rotation).
  virtual std::uint8_t first_endpoint(DataCenterIndex dc, const DataCenter& center) = 0;
  // This worker's Redis account directory, when the current snapshot has
  // one (null otherwise, or while it is being replaced).
  virtual RedisDirectory* redis_directory() = 0;
  // This worker's verified tokens (the verifier's generation keeps a
  // reload's keys apart).
  virtual TokenCache& token_cache() = 0;
  // This worker's counts (observe/metrics.h): written only from its thread.
  virtual WorkerMetrics& metrics() = 0;
  // The version of snapshot() (1, then one more per reload), for the audit log.
  virtual std::uint64_t snapshot_version() const = 0;
  // Whether log_request() writes anywhere (a record is not even built otherwise).
  virtual bool request_log_wanted() const = 0;
  // False while server.audit_log.required and the audit log cannot be
  // written: a request it would have to record is refused. Lock-free.
  virtual bool audit_log_available() const = 0;
  // One access-log line; the record's views need to live only for the call.
  virtual void log_request(const RequestRecord& record) = 0;
  // The session is finished: the host destroys it, later (not inside its call).
  virtual void session_closed(ClientSession* session, const std::string& why) = 0;

 protected:
  ~ClientHost() = default;
};

}  // namespace regiongate
