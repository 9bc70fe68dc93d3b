#pragma once
// What Redis Cluster tells a client about where slots live: the CLUSTER
// SLOTS reply and the MOVED / ASK redirect errors (the cluster
// specification, "Redirection and resharding").

#include <hiredis/hiredis.h>

#include <optional>
#include <string_view>
#include <vector>

#include "maps/redis_config.h"

namespace regiongate {

struct SlotRange {
  int first = 0;  // inclusive, 0..16383
  int last = 0;   // inclusive
  RedisNodeAddress master;
};

// The ranges of a CLUSTER SLOTS reply: [[first, last, [ip, port, id, ...],
// replicas...], ...]. An empty ip (a node that does not know its own
// address) means the node that answered, `asked`. A range whose master is
// not an IP literal (a hostname, "?") is left out: its slots stay unknown.
// Nullopt when the reply is not of that shape.
std::optional<std::vector<SlotRange>> parse_cluster_slots(const redisReply& reply,
                                                          const RedisNodeAddress& asked);

struct Redirect {
  enum class Kind { kMoved, kAsk };
  Kind kind = Kind::kMoved;
  int slot = 0;
  RedisNodeAddress to;
};

// "MOVED 3999 127.0.0.1:6381" or "ASK 3999 127.0.0.1:6381" (the host may be
// empty: the host of `from`). Nullopt for any other error.
std::optional<Redirect> parse_redirect(std::string_view error, const RedisNodeAddress& from);

}  // namespace regiongate
