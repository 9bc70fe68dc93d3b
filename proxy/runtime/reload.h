#pragma once
// Reloading a running gateway (SIGHUP): the whole configuration is read
// again and validated in full, off the workers' threads, with the same
// checks and the same proof as `regiongate check`. Only a snapshot that
// passes is published; one that fails is rejected whole and the running one
// keeps serving. Requests in flight finish on the snapshot they started
// with; listeners stay open and no connection is dropped. The listeners'
// certificate and key files are loaded again (listener_tls.h): new
// handshakes get the new certificates, connections open keep theirs, and a
// certificate that does not load rejects the reload. What only a restart
// can change (listen addresses, workers, ...) is reported, not applied.

#include <atomic>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <string>
#include <vector>

#include "proxy/runtime/gateway.h"

namespace regiongate {

struct ReloadOutcome {
  bool published = false;
  std::uint64_t version = 0;          // of the snapshot now serving (1: the first)
  std::vector<std::string> messages;  // one line each, for the error log
};

// Reloads `gateway` from `config_file`: SIGHUP and the admin listener's
// POST /reload both come here, one reload at a time.
class Reloader {
 public:
  Reloader(Gateway& gateway, std::string config_file)
      : gateway_(gateway), config_file_(std::move(config_file)) {}
  // Thread-safe; a second caller waits for the first reload to finish.
  ReloadOutcome reload();
  // For /metrics, any thread.
  std::uint64_t published() const { return published_.load(std::memory_order_relaxed); }
  std::uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }
  // Unix time of the last published snapshot (the start, before any reload).
  std::int64_t last_published_at() const { return last_published_at_.load(std::memory_order_relaxed); }
  const std::string& config_file() const { return config_file_; }

 private:
  Gateway& gateway_;
  const std::string config_file_;
  std::mutex mutex_;
  std::atomic<std::uint64_t> published_{0}, rejected_{0};
  std::atomic<std::int64_t> last_published_at_{std::time(nullptr)};
};

}  // namespace regiongate
