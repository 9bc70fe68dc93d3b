#pragma once
// The running gateway: its workers (one thread and loop each) and their
// listeners. `serve` runs one until a signal; `demo` runs one in-process.

#include <memory>
#include <string>
#include <vector>

#include "proxy/net/tls_context.h"
#include "proxy/runtime/worker.h"

namespace regiongate {

class Gateway {
 public:
  // `shared` must outlive the gateway.
  explicit Gateway(GatewayShared& shared) : shared_(shared) {}
  ~Gateway() { stop(); }

  // Binds every listener in every worker (SO_REUSEPORT; a port 0 is resolved
  // by the first bind and written back into shared.server) and starts the
  // workers. On failure returns false with *error.
  bool start(std::string* error);
  // Stops and joins the workers. Idempotent.
  void stop();
  int worker_count() const { return static_cast<int>(workers_.size()); }

 private:
  GatewayShared& shared_;
  std::vector<std::unique_ptr<ServerTlsContext>> listener_tls_;  // per listener, or null
  std::unique_ptr<ClientTlsContext> origin_tls_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace regiongate
