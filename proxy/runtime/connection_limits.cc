#include "proxy/runtime/connection_limits.h"

#include <cstring>

namespace regiongate {

ConnectionLimits::Key ConnectionLimits::key_of(const IpAddress& peer) {
  Key k;
  std::memcpy(&k.high, peer.bytes.data(), 8);
  // IPv4 (::ffff:a.b.c.d) is all in the low half; IPv6 is counted by its /64.
  if (peer.is_v4()) std::memcpy(&k.low, peer.bytes.data() + 8, 8);
  return k;
}

ConnectionLimits::Admit ConnectionLimits::admit(const IpAddress& peer, std::uint32_t total_cap,
                                                std::uint32_t per_address_cap) {
  if (total_.fetch_add(1, std::memory_order_relaxed) >= total_cap) {
    total_.fetch_sub(1, std::memory_order_relaxed);
    return Admit::kTotal;
  }
  const Key key = key_of(peer);
  Shard& shard = shard_of(key);
  std::lock_guard<std::mutex> lock(shard.mutex);
  std::uint32_t& n = shard.counts[key];
  if (n >= per_address_cap) {
    if (n == 0) shard.counts.erase(key);
    total_.fetch_sub(1, std::memory_order_relaxed);
    return Admit::kPerAddress;
  }
  ++n;
  return Admit::kYes;
}

void ConnectionLimits::release(const IpAddress& peer) {
  const Key key = key_of(peer);
  Shard& shard = shard_of(key);
  {
    std::lock_guard<std::mutex> lock(shard.mutex);
    auto it = shard.counts.find(key);
    if (it != shard.counts.end() && --it->second == 0) shard.counts.erase(it);
  }
  total_.fetch_sub(1, std::memory_order_relaxed);
}

std::uint32_t ConnectionLimits::from(const IpAddress& peer) {
  const Key key = key_of(peer);
  Shard& shard = shard_of(key);
  std::lock_guard<std::mutex> lock(shard.mutex);
  auto it = shard.counts.find(key);
  return it == shard.counts.end() ? 0 : it->second;
}

}  // namespace regiongate
