#include "proxy/origin/origin_pool.h"

#include <algorithm>

#include "proxy/origin/origin_session.h"

namespace regiongate {

OriginPool::OriginPool(const OriginContext& context)
    : context_(context), closed_(context.loop) {}

OriginPool::~OriginPool() {
  sessions_.clear();
  closed_.clear();
}

OriginSession* OriginPool::acquire(const OriginEndpoint& endpoint, std::string* error) {
  const std::string& key = endpoint.pool_key;
  std::vector<OriginSession*>& open = by_endpoint_[key];
  OriginSession* least_loaded = nullptr;
  for (OriginSession* s : open) {
    if (s->has_capacity()) return s;
    if (s->can_queue() &&
        (!least_loaded || s->active_streams() < least_loaded->active_streams())) {
      least_loaded = s;
    }
  }
  if (open.size() >= context_.config->reloadable.origin.max_connections_per_endpoint) {
    // Every connection is at the origin's stream limit and no more may be
    // opened: wait for a slot on the least loaded one (bounded; the
    // response_headers timeout covers the wait).
    if (least_loaded) return least_loaded;
    *error = "every connection to " + endpoint.authority() + " is full";
    return nullptr;
  }
  auto session = std::make_unique<OriginSession>(*this, endpoint);
  OriginSession* raw = session.get();
  sessions_.emplace(raw, std::move(session));
  open.push_back(raw);
  raw->begin();
  if (raw->closed()) {  // a DNS failure or no address could be connected to
    *error = raw->close_reason();
    return nullptr;
  }
  return raw;
}

void OriginPool::retire(OriginSession* session) {
  auto& open = by_endpoint_[session->key()];
  open.erase(std::remove(open.begin(), open.end(), session), open.end());
}

void OriginPool::session_closed(OriginSession* session, const std::string&) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  retire(session);
  closed_.bury(std::move(it->second));
  sessions_.erase(it);
}

void OriginPool::close_all() {
  std::vector<OriginSession*> all;
  for (auto& [ptr, s] : sessions_) all.push_back(ptr);
  for (OriginSession* s : all) s->close("gateway stopping");
}


}  // namespace regiongate
