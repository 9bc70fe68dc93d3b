#pragma once
// The stream ids a peer has used on one connection, enough to catch a
// HEADERS frame that opens a stream numerically below one the peer already
// used (RFC 9113 5.1.1: a connection error of type PROTOCOL_ERROR), which
// nghttp2 1.52 ignores: it cannot tell such a frame on a never-used id from
// late trailers on a stream it reset, so it drops both without a word.
//
// A peer opens streams in increasing order, so the ids it used are every id
// of its parity up to the highest, less the ones it skipped (which the
// first use of a higher id closed, unused: 5.1.1). Only those gaps are kept:
// none for a client that counts 1, 3, 5, ... A HEADERS frame on a skipped
// id is never legitimate; one on an id that was used is left to nghttp2
// (trailers, or late frames after a reset). At most kMaxGaps gaps are kept
// (a peer that skips that often is odd); past that the oldest are
// forgotten, and a HEADERS frame on them is let through to nghttp2, which
// ignores it as before.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace regiongate {

class PeerStreamIds {
 public:
  enum class Use : std::uint8_t {
    kNew,      // above every id used so far: opens a stream
    kUsed,     // an id the peer used before
    kSkipped,  // below the highest, never used: a protocol error
  };
  static constexpr std::size_t kMaxGaps = 64;

  // `first`: the peer's first stream id (1: a client, 2: a server).
  explicit PeerStreamIds(std::int32_t first = 1) : highest_(first - 2) {}

  // A HEADERS frame from the peer on `id` (of the peer's parity, > 0).
  Use on_headers(std::int32_t stream_id) {
    const std::int64_t id = stream_id;
    if (id > highest_) {
      if (id > highest_ + 2) add_gap(highest_ + 2, id - 2);
      highest_ = id;
      return Use::kNew;
    }
    return skipped(id) ? Use::kSkipped : Use::kUsed;
  }
  std::size_t gaps() const { return gaps_.size(); }

 private:
  struct Gap {
    std::int64_t first, last;  // both skipped
  };
  void add_gap(std::int64_t first, std::int64_t last) {
    if (gaps_.size() == kMaxGaps) gaps_.erase(gaps_.begin());  // the oldest, lowest
    gaps_.push_back({first, last});  // above every gap kept: still in order
  }
  bool skipped(std::int64_t id) const {
    // The last gap starting at or below id.
    auto it = std::upper_bound(gaps_.begin(), gaps_.end(), id,
                               [](std::int64_t v, const Gap& g) { return v < g.first; });
    return it != gaps_.begin() && id <= std::prev(it)->last;
  }

  std::int64_t highest_;  // the highest id used; first - 2 before any
  std::vector<Gap> gaps_;  // in increasing order, disjoint
};

}  // namespace regiongate
