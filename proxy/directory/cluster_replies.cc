#include "proxy/directory/cluster_replies.h"

#include <charconv>

#include "maps/ip_network.h"
#include "proxy/directory/hash_slot.h"

namespace regiongate {
namespace {

bool is_slot(long long v) { return v >= 0 && v < kClusterSlots; }

std::optional<RedisNodeAddress> node_of(const redisReply& node, const RedisNodeAddress& asked) {
  if (node.type != REDIS_REPLY_ARRAY || node.elements < 2) return std::nullopt;
  const redisReply& ip = *node.element[0];
  const redisReply& port = *node.element[1];
  if (ip.type != REDIS_REPLY_STRING || port.type != REDIS_REPLY_INTEGER || port.integer <= 0 ||
      port.integer > 65535) {
    return std::nullopt;
  }
  RedisNodeAddress out;
  out.host = ip.len == 0 ? asked.host : std::string(ip.str, ip.len);
  out.port = static_cast<std::uint16_t>(port.integer);
  return out;
}

// Only an IP literal is connected to: a name ("redis-1.internal", which a
// Redis 7 node announces with cluster-preferred-endpoint-type: hostname)
// would make hiredis resolve it with a blocking getaddrinfo() on the
// worker's thread, and "?" (an endpoint the node does not know) or a string
// with a NUL byte is no address at all.
bool connectable(const RedisNodeAddress& node) { return IpAddress::parse(node.host).has_value(); }

}  // namespace

std::optional<std::vector<SlotRange>> parse_cluster_slots(const redisReply& reply,
                                                          const RedisNodeAddress& asked) {
  if (reply.type != REDIS_REPLY_ARRAY) return std::nullopt;
  std::vector<SlotRange> ranges;
  ranges.reserve(reply.elements);
  for (std::size_t i = 0; i < reply.elements; ++i) {
    const redisReply& r = *reply.element[i];
    if (r.type != REDIS_REPLY_ARRAY || r.elements < 3 || r.element[0]->type != REDIS_REPLY_INTEGER ||
        r.element[1]->type != REDIS_REPLY_INTEGER) {
      return std::nullopt;
    }
    const long long first = r.element[0]->integer, last = r.element[1]->integer;
    auto master = node_of(*r.element[2], asked);
    if (!is_slot(first) || !is_slot(last) || first > last || !master) return std::nullopt;
    // A master that cannot be connected to leaves its slots unknown (their
    // lookups are unavailable); the rest of the map still serves.
    if (!connectable(*master)) continue;
    ranges.push_back({static_cast<int>(first), static_cast<int>(last), std::move(*master)});
  }
  return ranges;
}

std::optional<Redirect> parse_redirect(std::string_view error, const RedisNodeAddress& from) {
  Redirect out;
  if (error.starts_with("MOVED ")) {
    out.kind = Redirect::Kind::kMoved;
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    out.kind = Redirect::Kind::kAsk;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  auto [end, ec] = std::from_chars(error.data(), error.data() + error.size(), out.slot);
  if (ec != std::errc() || !is_slot(out.slot) || end == error.data() + error.size() || *end != ' ') {
    return std::nullopt;
  }
  std::string_view address(end + 1, static_cast<std::size_t>(error.data() + error.size() - end - 1));
  // ":6381": the node does not know the host it is reached at; it is the
  // one that answered.
  const bool same_host = address.starts_with(':');
  std::string full = same_host ? RedisNodeAddress{from.host, 0}.authority() : std::string();
  if (same_host) full.replace(full.size() - 2, 2, address);  // "host:0" → "host:6381"
  auto to = parse_redis_node(same_host ? std::string_view(full) : address);
  if (!to) return std::nullopt;
  out.to = std::move(*to);
  return out;
}

}  // namespace regiongate
