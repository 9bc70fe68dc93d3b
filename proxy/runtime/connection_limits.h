#pragma once
// Client connections in total and per client address, shared by every
// worker: one client must not take all the descriptors (a thousand idle
// connections used to exhaust a default file limit). Touched only when a
// connection is accepted or closed: the total is an atomic, the
// per-address counts sit in shards of their own, each behind its own
// mutex, so workers accepting from different addresses rarely meet.
//
// An IPv6 client is counted by its /64: a single subscriber gets a /64 (or
// more) and picks any address in it, so counting whole addresses would
// bound nothing. IPv4 by the whole address. Behind carrier-grade NAT many
// phones share one IPv4 address: the default per-address cap is set with
// that in mind (docs/operators.md).

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "maps/ip_network.h"

namespace regiongate {

class ConnectionLimits {
 public:
  enum class Admit : std::uint8_t { kYes, kTotal, kPerAddress };

  // Counts the connection in when both counts are under their caps (taken
  // from the caller's configuration, so they follow reloads); a connection
  // admitted must be released() once.
  Admit admit(const IpAddress& peer, std::uint32_t total_cap, std::uint32_t per_address_cap);
  void release(const IpAddress& peer);

  std::uint32_t total() const { return total_.load(std::memory_order_relaxed); }
  std::uint32_t from(const IpAddress& peer);

 private:
  // The address as counted: IPv4 whole, IPv6 its first 64 bits.
  struct Key {
    std::uint64_t high = 0, low = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<std::uint64_t>{}(k.high * 31 + k.low);
    }
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<Key, std::uint32_t, KeyHash> counts;
  };
  static Key key_of(const IpAddress& peer);
  Shard& shard_of(const Key& key) { return shards_[KeyHash{}(key) % shards_.size()]; }

  std::atomic<std::uint32_t> total_{0};
  std::array<Shard, 64> shards_;
};

}  // namespace regiongate
