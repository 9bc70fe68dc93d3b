#pragma once
// A worker's origin connections, by endpoint. Hands out a connection with
// room for one more stream, opening a new one (up to the configured limit
// per endpoint) when every open one is full.

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "maps/datacenter.h"
#include "proxy/net/event_loop.h"
#include "proxy/origin/origin_context.h"

namespace regiongate {

class OriginSession;

class OriginPool {
 public:
  explicit OriginPool(const OriginContext& context);
  ~OriginPool();

  // A connection to `endpoint` with room for a stream; nullptr (and *error)
  // when none can be started (a cached DNS failure, no address could be
  // connected to, limit reached). A new connection may still be resolving
  // its host name: a stream attached to it waits.
  OriginSession* acquire(const OriginEndpoint& endpoint, std::string* error);
  // The session takes no more streams (its DNS answer expired): new
  // streams get a new connection while it finishes its own.
  void retire(OriginSession* session);
  void session_closed(OriginSession* session, const std::string& why);
  const OriginContext& context() const { return context_; }
  std::size_t connection_count() const { return sessions_.size(); }
  void close_all();

 private:

  OriginContext context_;
  std::unordered_map<OriginSession*, std::unique_ptr<OriginSession>> sessions_;
  std::unordered_map<std::string, std::vector<OriginSession*>> by_endpoint_;
  Graveyard<OriginSession> closed_;  // destroyed on the next loop turn
};

}  // namespace regiongate
