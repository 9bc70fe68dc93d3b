// Fuzzes what the Redis directory reads from a server: the bytes go through
// hiredis's own RESP reader, as on the wire, and each reply it makes is
// given to the gateway's parsers: the CLUSTER SLOTS map, the MOVED/ASK
// redirect of an error reply, and a GET's value.
//
// Properties, each a trap when broken: a slot map's ranges are within
// 0..16383, in order within a range, and name an IP literal and a port;
// a redirect names a slot below 16384 and an IP literal and a port (never
// a Unix socket: a server cannot send the gateway to a local file); a
// value is a country only when it is two letters of a known code.
//
// The reader is bounded as the gateway's are (directory/reply_limits.h):
// hiredis 0.14 (Debian 12's) allocates the array an aggregate declares
// before its elements arrive, and this target found "*1466890123" asking
// for 11 GB at once. A type byte can start anywhere (a bulk string's
// declared length decides where the next reply begins), so no filter on
// the input's lines can catch it: the bound in the reader does.

#include <hiredis/read.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "maps/country.h"
#include "maps/ip_network.h"
#include "proxy/directory/cluster_replies.h"
#include "proxy/directory/reply_limits.h"

namespace {

using namespace regiongate;

void check(bool ok) {
  if (!ok) std::abort();
}

void check_node(const RedisNodeAddress& node) {
  check(node.socket_path.empty());
  check(node.port != 0);
  check(IpAddress::parse(node.host).has_value());
}

void take(const redisReply& reply, const RedisNodeAddress& asked) {
  if (auto ranges = parse_cluster_slots(reply, asked)) {
    for (const SlotRange& r : *ranges) {
      check(r.first >= 0 && r.first <= r.last && r.last <= 16383);
      check_node(r.master);
    }
  }
  if (reply.type == REDIS_REPLY_ERROR || reply.type == REDIS_REPLY_STATUS) {
    if (auto redirect = parse_redirect(std::string_view(reply.str, reply.len), asked)) {
      check(redirect->slot >= 0 && redirect->slot < 16384);
      check_node(redirect->to);
    }
  }
  if (reply.type == REDIS_REPLY_STRING) {
    const std::string_view value(reply.str, reply.len);
    if (auto country = value.size() == 2 ? country_from_code_any_case(value) : std::nullopt) {
      check(country_code(*country).size() == 2);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const RedisNodeAddress asked{"127.0.0.1", 7000};
  redisReader* reader = redisReaderCreate();
  if (!reader) return 0;
  bound_reply_sizes(reader);
  reader->maxbuf = 0;  // never shrink: the input is small
  if (redisReaderFeed(reader, reinterpret_cast<const char*>(data), size) == REDIS_OK) {
    for (int replies = 0; replies < 64; ++replies) {
      void* reply = nullptr;
      if (redisReaderGetReply(reader, &reply) != REDIS_OK || reply == nullptr) break;
      take(*static_cast<redisReply*>(reply), asked);
      freeReplyObject(reply);
    }
  }
  redisReaderFree(reader);
  return 0;
}
