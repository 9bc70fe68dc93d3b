// `regiongate serve`: start the workers and serve until SIGTERM or SIGINT.

#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string_view>
#include <thread>
#include <utility>

#include "proxy/admin/admin_routes.h"
#include "proxy/admin/http_server.h"
#include "proxy/app/commands.h"
#include "proxy/observe/access_log.h"
#include "proxy/observe/audit_chain.h"
#include "proxy/runtime/allocator.h"
#include "proxy/runtime/gateway.h"
#include "proxy/runtime/reload.h"
#include "util/say.h"

namespace regiongate {

int run_serve(const ServeOptions& options) {
  GatewaySettings settings;
  Diagnostics diags;
  settings.snapshot =
      load_snapshot(options.config, diags, [&](const YAML::Node& node, YamlContext& ctx) {
        settings.server = read_server_config(node, ctx);
      });
  std::cerr << diags.format_all();
  if (!settings.snapshot) return 1;
  if (settings.server.startup.listeners.empty()) {
    std::cerr << "regiongate: " << options.config << ": server.listen names no listener\n";
    return 1;
  }
  if (options.now) {
    auto at = parse_rfc3339(*options.now);
    if (!at) {
      std::cerr << "regiongate: --now: not an RFC 3339 date-time: '" << *options.now << "'\n";
      return 2;
    }
    settings.clock = Clock::fixed(*at);
  }

  // Signals are taken by this thread only (sigwait); workers never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // What the logs' writers say when a log stops or starts being writable.
  auto reporter = [](const char* name) {
    return [name](std::string_view line) {
      say(name, ": ", line);
    };
  };
  AccessLog access_log(AccessLog::kMaxQueuedBytes, "rg-log-access");
  std::string error;
  if (!access_log.open(settings.server.startup.access_log.file, &error, {},
                       reporter("access log"))) {
    say(error);
    return 1;
  }
  settings.access_log = &access_log;
  // The audit log seals what each write holds into one hash chain, on its
  // writer thread: one seal a write (up to 100 ms of records), not one a
  // worker's batch (some tens of them), so that the seal's lines and the
  // finishing of its hashes are paid far less often.
  const AuditLogSettings& audit_settings = settings.server.startup.audit_log;
  AuditChain chain;
  if (audit_settings.file != "off") chain.resume(audit_settings.file);
  AccessLog audit_log(AccessLog::kMaxQueuedBytes, "rg-log-audit");
  auto seal = [&chain](std::span<AccessLog::Batch> batches) {
    for (AccessLog::Batch& batch : batches) chain.add(batch.text, batch.lines);
    chain.seal(batches.back().text);
  };
  if (audit_settings.file != "off" &&
      !audit_log.open(audit_settings.file, &error, seal, reporter("audit log"))) {
    say(error);
    return 1;
  }
  settings.audit_log = &audit_log;
  const Clock clock = settings.clock;
  Gateway gateway(std::move(settings));
  if (!gateway.start(&error)) {
    say(error);
    return 1;
  }
  auto shown = [](const std::string& host, std::uint16_t port) {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  };
  for (const BoundListener& l : gateway.listening()) {
    say("listening on ", l.tls ? "tls " : "cleartext ", shown(l.host, l.port));
  }
  say("serving with ", std::to_string(gateway.worker_count()), " worker(s), ", allocator_name());

  // SIGHUP (on this thread) and POST /reload (on the admin listener's) reload
  // one at a time; the workers go on serving meanwhile.
  Reloader reloader(gateway, options.config);
  auto log_reload = [](const ReloadOutcome& outcome) {
    for (const std::string& line : outcome.messages) say(line);
  };
  std::unique_ptr<AdminRoutes> admin_routes;
  std::unique_ptr<HttpServer> admin;
  if (const AdminSettings& a = gateway.started_with().startup.admin; a.enabled) {
    admin_routes = std::make_unique<AdminRoutes>(AdminSources{
        &gateway, &reloader, access_log.enabled() ? &access_log : nullptr,
        audit_log.enabled() ? &audit_log : nullptr, clock, log_reload});
    admin = std::make_unique<HttpServer>([routes = admin_routes.get()](const HttpRequest& request,
                                                                       Responder respond) {
      routes->handle(request, std::move(respond));
    });
    if (!admin->start(a.host, a.port, &error)) {
      say("server.admin.address: ", error);
      return 1;
    }
    say("admin listening on ", shown(a.host, admin->port()));
  }

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGUSR1) {  // rotation: the logs were renamed; open them again by name
      access_log.reopen();
      audit_log.reopen();
      say("SIGUSR1: reopening the logs");
      continue;
    }
    if (sig == SIGHUP) {
      log_reload(reloader.reload());
      continue;
    }
    break;
  }
  say("stopping");
  if (admin) admin->stop();
  admin_routes.reset();  // after a reload in progress has finished
  gateway.stop();
  for (auto [name, log] : {std::pair{"access log", &access_log}, {"audit log", &audit_log}}) {
    if (log->failed_writes() + log->dropped_batches() == 0) continue;
    say(name, ": ", std::to_string(log->failed_writes()), " failed write(s), ",
        std::to_string(log->dropped_batches()), " dropped batch(es)");
  }
  return 0;
}

}  // namespace regiongate
