#pragma once
// What the admin listener answers (docs/operators.md, "Admin listener"):
//   GET  /healthz   200 while the process is up
//   GET  /readyz    200 when a valid snapshot serves and at least one data
//                   centre is healthy; 503 with the reason otherwise
//   GET  /metrics   Prometheus text (metrics_text.h)
//   GET  /status    JSON: snapshot version and sources, each data centre's
//                   and endpoint's health, the policy phase in force
//   GET  /explain?  the same JSON as `regiongate explain`, on the live
//                   snapshot and live health
//   POST /reload    the same reload as SIGHUP; answers when it is done
// It runs on the admin thread and only reads what the workers publish.

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "proxy/admin/http_server.h"
#include "proxy/observe/access_log.h"
#include "proxy/runtime/gateway.h"
#include "proxy/runtime/reload.h"
#include "util/clock.h"

namespace regiongate {

struct AdminSources {
  Gateway* gateway = nullptr;
  Reloader* reloader = nullptr;
  const AccessLog* access_log = nullptr;  // null: none
  const AccessLog* audit_log = nullptr;
  Clock clock = Clock::system();
  // Called with every reload's outcome (the caller logs it as SIGHUP's).
  std::function<void(const ReloadOutcome&)> reloaded;
};

class AdminRoutes {
 public:
  explicit AdminRoutes(AdminSources sources) : sources_(std::move(sources)) {}
  ~AdminRoutes();  // waits for a reload in progress
  AdminRoutes(const AdminRoutes&) = delete;
  AdminRoutes& operator=(const AdminRoutes&) = delete;

  void handle(const HttpRequest& request, Responder respond);

 private:
  HttpResponse metrics() const;
  HttpResponse readiness() const;
  HttpResponse status() const;
  HttpResponse explain(const std::string& query) const;
  void reload(Responder respond);

  AdminSources sources_;
  std::mutex reload_mutex_;
  std::thread reload_thread_;  // the last reload's; joined before the next
  std::atomic<bool> reloading_{false};
};

}  // namespace regiongate
