// `regiongate serve`: start the workers and serve until SIGTERM or SIGINT.

#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <thread>

#include "proxy/commands.h"
#include "proxy/net.h"
#include "proxy/worker.h"

namespace regiongate {
namespace {

// Every worker binds every listener (SO_REUSEPORT). A configured port 0 is
// resolved by the first bind and reused by the others.
bool bind_listeners(ServerConfig& config, int workers, std::vector<std::vector<int>>* fds) {
  fds->assign(static_cast<std::size_t>(workers), {});
  for (ListenerConfig& l : config.listeners) {
    for (int w = 0; w < workers; ++w) {
      std::string error;
      int fd = listen_tcp(l.host, l.port, true, &error);
      if (fd < 0) {
        std::cerr << "regiongate: " << error << '\n';
        return false;
      }
      if (l.port == 0) l.port = local_port(fd);
      (*fds)[static_cast<std::size_t>(w)].push_back(fd);
    }
    std::string shown = l.host.find(':') != std::string::npos ? "[" + l.host + "]" : l.host;
    std::cerr << "regiongate: listening on " << (l.tls ? "tls " : "cleartext ") << shown << ':'
              << l.port << '\n';
  }
  return true;
}

}  // namespace

int run_serve(const ServeOptions& options) {
  GatewayShared shared;
  Diagnostics diags;
  shared.snapshot = load_snapshot(options.config, diags, [&](const YAML::Node& node, YamlContext& ctx) {
    shared.server = read_server_config(node, ctx);
  });
  std::cerr << diags.format_all();
  if (!shared.snapshot) return 1;
  if (shared.server.listeners.empty()) {
    std::cerr << "regiongate: " << options.config << ": server.listen names no listener\n";
    return 1;
  }
  for (const ListenerConfig& l : shared.server.listeners) {
    if (l.tls) {
      std::cerr << "regiongate: TLS listeners are not wired into serve yet\n";
      return 1;
    }
  }
  if (options.now) {
    shared.fixed_now = parse_rfc3339(*options.now);
    if (!shared.fixed_now) {
      std::cerr << "regiongate: --now: not an RFC 3339 date-time: '" << *options.now << "'\n";
      return 2;
    }
  }
  int workers = shared.server.workers > 0
                    ? shared.server.workers
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  // Signals are taken by this thread only (sigwait); workers never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<std::vector<int>> fds;
  if (!bind_listeners(shared.server, workers, &fds)) return 1;
  std::vector<std::unique_ptr<Worker>> pool;
  for (int w = 0; w < workers; ++w) {
    pool.push_back(std::make_unique<Worker>(shared, fds[static_cast<std::size_t>(w)]));
  }
  for (auto& w : pool) w->start();
  std::cerr << "regiongate: serving with " << workers << " worker(s)\n";

  for (;;) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      std::cerr << "regiongate: SIGHUP: reload is not built yet; keeping the current snapshot\n";
      continue;
    }
    break;
  }
  std::cerr << "regiongate: stopping\n";
  for (auto& w : pool) w->stop();
  for (auto& w : pool) w->join();
  return 0;
}

}  // namespace regiongate
