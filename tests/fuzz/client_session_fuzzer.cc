// Fuzzes a whole client connection: the input is everything a client sends
// (the preface, frames, header blocks, bodies; or anything else), written
// into one end of a socket pair whose other end is a real ClientSession (the
// gateway's own, with nghttp2, the preface check, the header limits, the
// request path and the residency decision of examples/), run on a libev
// loop until it has nothing more to do. Every data centre is down, so a
// decided request gets its 451 or 503 without an origin; what it answers is
// read and dropped.
//
// Properties: no crash, no sanitizer finding, no leak (the session and its
// requests are destroyed after each input), and the session ends: once the
// client has closed its side, the gateway closes the connection (a trap
// otherwise).

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "policy/snapshot.h"
#include "proxy/client/client_host.h"
#include "proxy/client/client_session.h"
#include "proxy/dns/dns_resolver.h"
#include "proxy/net/event_loop.h"
#include "proxy/net/transport.h"
#include "proxy/origin/health_board.h"
#include "proxy/origin/origin_context.h"
#include "proxy/origin/origin_pool.h"

namespace {

using namespace regiongate;

// What a worker is to its sessions, with every data centre down and no logs.
class FuzzHost final : public ClientHost {
 public:
  FuzzHost()
      : loop_(event_loop_.get()),
        board_(/*rise=*/1, /*fall=*/1) {
    Diagnostics diags;
    snapshot_ = load_snapshot(REGIONGATE_SOURCE_DIR "/examples/regiongate.yaml", diags);
    if (!snapshot_) {
      fprintf(stderr, "client_session_fuzzer: examples/regiongate.yaml: %s\n", diags.format_errors().c_str());
      std::abort();
    }
    auto view = std::make_shared<HealthView>(board_, snapshot_->datacenters);
    for (DataCenterIndex dc = 0; dc < snapshot_->datacenters.all.size(); ++dc) {
      for (std::size_t e = 0; e < snapshot_->datacenters.all[dc].endpoints.size(); ++e) {
        if (EndpointHealth* h = view->endpoint(dc, e)) board_.request_failed(*h);
      }
    }
    health_ = std::move(view);
    dns_ = std::make_unique<DnsResolver>(loop_, dns_options(config_.reloadable.dns));
    origins_ = std::make_unique<OriginPool>(OriginContext{loop_, &config_, dns_.get(), nullptr});
  }

  // Runs the loop until the session closes or has nothing more to do.
  void run(const std::uint8_t* data, std::size_t size);

  struct ev_loop* loop() const override { return loop_; }
  const ServerConfig& config() const override { return config_; }
  const std::shared_ptr<const Snapshot>& snapshot() const override { return snapshot_; }
  UnixSeconds now() const override { return 1436000000; }  // 2015-07-04
  const std::shared_ptr<const HealthView>& health() const override { return health_; }
  void origin_outcome(EndpointHealth*, bool) override {}
  OriginPool& origins() override { return *origins_; }
  std::uint8_t first_endpoint(DataCenterIndex, const DataCenter&) override { return 0; }
  RedisDirectory* redis_directory() override { return nullptr; }
  TokenCache& token_cache() override { return token_cache_; }
  WorkerMetrics& metrics() override { return metrics_; }
  std::uint64_t snapshot_version() const override { return 1; }
  bool request_log_wanted() const override { return false; }
  bool audit_log_available() const override { return true; }
  void log_request(const RequestRecord&) override {}
  void session_closed(ClientSession*, const std::string&) override { closed_ = true; }

 private:
  ServerConfig config_;
  EventLoop event_loop_;
  struct ev_loop* loop_;
  HealthBoard board_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::shared_ptr<const HealthView> health_;
  std::unique_ptr<DnsResolver> dns_;
  std::unique_ptr<OriginPool> origins_;
  TokenCache token_cache_{16};
  WorkerMetrics metrics_;
  bool closed_ = false;
};

void FuzzHost::run(const std::uint8_t* data, std::size_t size) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  // Room for the whole input (LLVMFuzzerTestOneInput bounds it), written
  // at once, and the client's side shut: the session reads it all.
  const int buffer = 1 << 20;
  setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  setsockopt(fds[0], SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  std::size_t sent = 0;
  while (sent < size) {
    const ssize_t n = write(fds[1], data + sent, size - sent);
    if (n <= 0) break;  // the pair's buffer is full: the rest is not sent
    sent += static_cast<std::size_t>(n);
  }
  shutdown(fds[1], SHUT_WR);
  closed_ = false;
  static const IpAddress kPeer = *IpAddress::parse("203.0.113.7");
  auto session = std::make_unique<ClientSession>(*this, std::make_unique<Transport>(fds[0], nullptr), kPeer);
  session->begin();
  char drain[65536];
  // Each turn: the gateway reads, answers, and we read what it wrote (so
  // it is never stuck on a full socket). A lingering close ends when the
  // client side is closed, which it is.
  for (int turn = 0; turn < 10000 && !closed_; ++turn) {
    ev_run(loop_, EVRUN_NOWAIT);
    while (read(fds[1], drain, sizeof drain) > 0) {
    }
  }
  if (!closed_) {
    fprintf(stderr, "client_session_fuzzer: the session did not end after the client closed\n");
    std::abort();
  }
  session.reset();
  close(fds[1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static FuzzHost* host = new FuzzHost;  // one loop, snapshot and pool for every input
  if (size > 256 * 1024) return -1;
  host->run(data, size);
  return 0;
}
