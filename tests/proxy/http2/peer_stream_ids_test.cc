// Stream ids a client used, to catch HEADERS opening a stream below one
// already used (RFC 9113 5.1.1) without mistaking trailers for it.

#include "proxy/http2/peer_stream_ids.h"

#include <gtest/gtest.h>

#include <limits>

namespace regiongate {
namespace {

using Use = PeerStreamIds::Use;

TEST(PeerStreamIdsTest, InOrderIdsAreNewAndThenUsed) {
  PeerStreamIds ids;
  for (std::int32_t id = 1; id < 200; id += 2) EXPECT_EQ(ids.on_headers(id), Use::kNew) << id;
  // Trailers, or late frames on streams closed since: for nghttp2 to handle.
  EXPECT_EQ(ids.on_headers(1), Use::kUsed);
  EXPECT_EQ(ids.on_headers(199), Use::kUsed);
  EXPECT_EQ(ids.gaps(), 0u);
}

TEST(PeerStreamIdsTest, SkippedIdsCanNeverBeOpened) {
  PeerStreamIds ids;
  EXPECT_EQ(ids.on_headers(5), Use::kNew);  // 1 and 3 skipped
  EXPECT_EQ(ids.on_headers(3), Use::kSkipped);
  EXPECT_EQ(ids.on_headers(1), Use::kSkipped);
  EXPECT_EQ(ids.on_headers(5), Use::kUsed);
  EXPECT_EQ(ids.on_headers(7), Use::kNew);
  EXPECT_EQ(ids.on_headers(15), Use::kNew);  // 9..13 skipped
  EXPECT_EQ(ids.on_headers(7), Use::kUsed);
  EXPECT_EQ(ids.on_headers(9), Use::kSkipped);
  EXPECT_EQ(ids.on_headers(11), Use::kSkipped);
  EXPECT_EQ(ids.on_headers(13), Use::kSkipped);
  EXPECT_EQ(ids.on_headers(15), Use::kUsed);
}

TEST(PeerStreamIdsTest, TheHighestIdDoesNotOverflow) {
  PeerStreamIds ids;
  const std::int32_t top = std::numeric_limits<std::int32_t>::max();  // 2^31-1, odd
  EXPECT_EQ(ids.on_headers(top - 4), Use::kNew);
  EXPECT_EQ(ids.on_headers(top), Use::kNew);
  EXPECT_EQ(ids.on_headers(top - 2), Use::kSkipped);
  EXPECT_EQ(ids.on_headers(top - 4), Use::kUsed);
  EXPECT_EQ(ids.on_headers(top - 6), Use::kSkipped);
}

TEST(PeerStreamIdsTest, OnlyTheNewestGapsAreKept) {
  PeerStreamIds ids;
  std::int32_t id = 1;
  for (std::size_t i = 0; i < PeerStreamIds::kMaxGaps + 10; ++i) {
    ASSERT_EQ(ids.on_headers(id), Use::kNew);
    id += 4;  // one id skipped each time
  }
  EXPECT_EQ(ids.gaps(), PeerStreamIds::kMaxGaps);
  EXPECT_EQ(ids.on_headers(id - 6), Use::kSkipped);  // a recent gap
  EXPECT_EQ(ids.on_headers(3), Use::kUsed);          // forgotten: left to nghttp2
}

TEST(PeerStreamIdsTest, AServersStreamsStartAtTwo) {
  PeerStreamIds ids(2);
  EXPECT_EQ(ids.on_headers(2), Use::kNew);
  EXPECT_EQ(ids.on_headers(6), Use::kNew);
  EXPECT_EQ(ids.on_headers(4), Use::kSkipped);
}

}  // namespace
}  // namespace regiongate
