#include "proxy/directory/hash_slot.h"

#include <gtest/gtest.h>

namespace regiongate {
namespace {

TEST(HashSlot, Crc16IsXmodem) {
  // The cluster specification's check value.
  EXPECT_EQ(crc16_xmodem("123456789"), 0x31C3);
  EXPECT_EQ(crc16_xmodem(""), 0);
}

// Values from `redis-cli CLUSTER KEYSLOT` (Redis 7.0); the integration test
// (redis_cluster_test.cc) compares more of them with a live cluster.
TEST(HashSlot, MatchesRedis) {
  EXPECT_EQ(key_hash_slot("123456789"), 0x31C3 % 16384);
  EXPECT_EQ(key_hash_slot("foo"), 12182);
  EXPECT_EQ(key_hash_slot("bar"), 5061);
  EXPECT_EQ(key_hash_slot("acct:in-asha"), key_hash_slot("acct:in-asha"));
}

TEST(HashSlot, HashTagIsTheFirstNonEmptyBraces) {
  EXPECT_EQ(hashed_part("{user1000}.following"), "user1000");
  EXPECT_EQ(hashed_part("foo{bar}{zap}"), "bar");
  EXPECT_EQ(hashed_part("foo{}{bar}"), "foo{}{bar}");  // the first tag is empty: whole key
  EXPECT_EQ(hashed_part("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(hashed_part("foo{bar"), "foo{bar");  // never closed
  EXPECT_EQ(hashed_part("}{x}"), "x");
  EXPECT_EQ(key_hash_slot("{user1000}.following"), key_hash_slot("{user1000}.followers"));
  EXPECT_EQ(key_hash_slot("acct:{in}-1"), key_hash_slot("in"));
}

TEST(HashSlot, AlwaysInRange) {
  for (int i = 0; i < 100000; ++i) {
    const int slot = key_hash_slot("acct-" + std::to_string(i));
    ASSERT_GE(slot, 0);
    ASSERT_LT(slot, kClusterSlots);
  }
}

}  // namespace
}  // namespace regiongate
