#pragma once
// A bound on what a Redis server's reply can make hiredis allocate before
// it arrives. hiredis 0.14 (Debian 12's) allocates the element array an
// aggregate declares as soon as it reads "*N": "*1466890123" from a server
// asks for 11 GB at once (found by tests/fuzz/redis_reply_fuzzer). Later
// hiredis bounds it (maxelements); here the reader's array constructor is
// wrapped to refuse more than kMaxReplyElements, and the reader then fails
// as out of memory: the connection is dropped and counted like any broken
// one. Strings need no bound: hiredis reads a bulk string's bytes before
// it allocates it.

#include <hiredis/read.h>

namespace regiongate {

// The largest aggregate a reply may declare. The largest the gateway asks
// for is CLUSTER SLOTS: one entry per slot range, at most 16,384.
constexpr int kMaxReplyElements = 65'536;

// Applies the bound to `reader` (a context's c.reader, or one of its own).
void bound_reply_sizes(redisReader* reader);

}  // namespace regiongate
