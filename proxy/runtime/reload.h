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

#include <cstdint>
#include <string>
#include <vector>

#include "proxy/runtime/gateway.h"

namespace regiongate {

struct ReloadOutcome {
  bool published = false;
  std::uint64_t version = 0;          // of the snapshot now serving (1: the first)
  std::vector<std::string> messages;  // one line each, for the error log
};

// `version`: the version of the snapshot serving now; the new one is the next.
ReloadOutcome reload(Gateway& gateway, const std::string& config_file, std::uint64_t version);

}  // namespace regiongate
