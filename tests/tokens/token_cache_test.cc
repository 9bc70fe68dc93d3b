// The per-worker cache of verified tokens: answers a repeat until the
// token's exp and never after, only for the verifier that verified it, and
// stays within its entries and bytes by CLOCK eviction.

#include "tokens/token_cache.h"

#include <gtest/gtest.h>

#include "tests/tokens/token_fixture.h"

namespace regiongate::testing {
namespace {

using nlohmann::json;

TEST_F(TokenTest, TheCacheAnswersRepeatsUntilExpAndOnlyForItsVerifier) {
  TokenCache cache(2);
  const std::string t = token("RS256", "rsa-1");
  ASSERT_EQ(check(t), TokenStatus::kValid);
  EXPECT_EQ(cache.find(t, *v_, kNow), nullptr);
  cache.insert(t, *v_, kNow, out_);
  const VerifiedToken* hit = cache.find(t, *v_, kNow + 10);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->account_id, "in-ravi");
  EXPECT_EQ(cache.hits(), 1u);
  // Never at or past exp, skew or not.
  EXPECT_EQ(cache.find(t, *v_, kNow + 599), hit);
  EXPECT_EQ(cache.find(t, *v_, kNow + 600), nullptr);
  // A reloaded verifier (other keys, perhaps) does not trust this one's verdicts.
  cache.insert(t, *v_, kNow, out_);
  auto reloaded = verifier(config());
  EXPECT_NE(reloaded->generation(), v_->generation());
  EXPECT_EQ(cache.find(t, *reloaded, kNow), nullptr);
  // Bounded: a third token takes a slot.
  const std::string t2 = token("HS256", "hs-1"), t3 = token("ES256", "ec-1");
  cache.insert(t2, *v_, kNow, out_);
  cache.insert(t3, *v_, kNow, out_);
  EXPECT_LE(cache.size(), 2u);
  EXPECT_NE(cache.find(t3, *v_, kNow), nullptr);
  // A token that differs in one byte is another token, whatever it hashes to.
  std::string near = t3;
  near.back() = near.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(cache.find(near, *v_, kNow), nullptr);
}

TEST_F(TokenTest, TheCacheIsBoundedInBytes) {
  const std::string t = token("HS256", "hs-1");
  TokenCache cache(100, 3 * t.size());
  ASSERT_EQ(check(t), TokenStatus::kValid);
  for (int i = 0; i < 10; ++i) {
    cache.insert(t + std::to_string(i), *v_, kNow, out_);
    EXPECT_LE(cache.bytes(), 3 * t.size() + 2);
  }
  EXPECT_LE(cache.size(), 3u);
  EXPECT_NE(cache.find(t + "9", *v_, kNow), nullptr);  // the newest stays
}

// CLOCK: the hand gives each entry used since it last passed a second
// chance, and takes the first one that was not.
TEST_F(TokenTest, EvictionAtCapacityTakesTheEntryNotUsedSinceTheHandPassed) {
  TokenCache cache(3);
  VerifiedToken v;
  v.expires_at = kNow + 600;
  for (const char* t : {"a.b.1", "a.b.2", "a.b.3"}) cache.insert(t, *v_, kNow, v);
  ASSERT_EQ(cache.size(), 3u);
  cache.insert("a.b.4", *v_, kNow, v);  // all had their chance: the first goes
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.find("a.b.1", *v_, kNow), nullptr);
  ASSERT_NE(cache.find("a.b.2", *v_, kNow), nullptr);  // used again: kept
  cache.insert("a.b.5", *v_, kNow, v);
  EXPECT_NE(cache.find("a.b.2", *v_, kNow), nullptr);
  EXPECT_EQ(cache.find("a.b.3", *v_, kNow), nullptr);
  EXPECT_NE(cache.find("a.b.4", *v_, kNow), nullptr);
  EXPECT_NE(cache.find("a.b.5", *v_, kNow), nullptr);
  EXPECT_EQ(cache.size(), 3u);
}

TEST_F(TokenTest, TheCacheKeepsNothingPastExpOrWithoutOne) {
  TokenCache cache(8);
  VerifiedToken v;
  v.expires_at = kNow;  // verified within the clock skew, after exp
  cache.insert("late", *v_, kNow, v);
  EXPECT_EQ(cache.size(), 0u);
  v.expires_at = 0;  // no exp (tokens.require_exp: false): a while only
  cache.insert("no-exp", *v_, kNow, v);
  EXPECT_NE(cache.find("no-exp", *v_, kNow + TokenCache::kMaxUnexpiringSeconds - 1), nullptr);
  EXPECT_EQ(cache.find("no-exp", *v_, kNow + TokenCache::kMaxUnexpiringSeconds), nullptr);
  EXPECT_EQ(cache.size(), 0u);  // an expired entry is dropped when met
  TokenCache off(0);  // tokens.cache.entries: 0
  v.expires_at = kNow + 600;
  off.insert("t", *v_, kNow, v);
  EXPECT_EQ(off.find("t", *v_, kNow), nullptr);
}

}  // namespace
}  // namespace regiongate::testing
