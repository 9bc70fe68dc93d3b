#include "proxy/directory/directory_cache.h"

#include <gtest/gtest.h>

namespace regiongate {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const CountryId kIndia = *country_from_code("IN");
const CountryId kChina = *country_from_code("CN");

DirectoryCacheConfig config(std::size_t entries, milliseconds ttl = seconds(60),
                            milliseconds negative_ttl = seconds(5)) {
  return {entries, ttl, negative_ttl};
}

class DirectoryCacheTest : public ::testing::Test {
 protected:
  DirectoryCache::Clock::time_point now_ = DirectoryCache::Clock::time_point() + seconds(1000);
};

TEST_F(DirectoryCacheTest, FoundUntilTheTtl) {
  DirectoryCache cache(config(16));
  EXPECT_FALSE(cache.find("a", now_));
  cache.store_found("a", kIndia, now_);
  auto hit = cache.find("a", now_ + seconds(59));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->status, DirectoryStatus::kFound);
  EXPECT_EQ(hit->country, kIndia);
  EXPECT_FALSE(cache.find("a", now_ + seconds(60)));
}

TEST_F(DirectoryCacheTest, NotFoundForTheNegativeTtl) {
  DirectoryCache cache(config(16));
  cache.store_not_found("ghost", now_);
  auto hit = cache.find("ghost", now_ + seconds(4));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->status, DirectoryStatus::kNotFound);
  EXPECT_FALSE(cache.find("ghost", now_ + seconds(5)));
}

TEST_F(DirectoryCacheTest, ZeroTtlKeepsNothing) {
  DirectoryCache cache(config(16, seconds(60), milliseconds(0)));
  cache.store_not_found("ghost", now_);
  EXPECT_FALSE(cache.find("ghost", now_));
  DirectoryCache none(config(0));
  none.store_found("a", kIndia, now_);
  EXPECT_FALSE(none.find("a", now_));
  EXPECT_EQ(none.size(), 0u);
}

TEST_F(DirectoryCacheTest, StoreReplaces) {
  DirectoryCache cache(config(4));
  cache.store_not_found("a", now_);
  cache.store_found("a", kChina, now_);
  EXPECT_EQ(cache.find("a", now_)->country, kChina);
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(DirectoryCacheTest, FixedCapacityEvictsWhatWasNotUsed) {
  DirectoryCache cache(config(4));
  for (const char* id : {"a", "b", "c", "d"}) cache.store_found(id, kIndia, now_);
  // "a" and "c" are used; the next two stores take "b" and "d".
  ASSERT_TRUE(cache.find("a", now_));
  ASSERT_TRUE(cache.find("c", now_));
  cache.store_found("e", kChina, now_);
  cache.store_found("f", kChina, now_);
  EXPECT_EQ(cache.size(), 4u);
  EXPECT_TRUE(cache.find("a", now_));
  EXPECT_TRUE(cache.find("c", now_));
  EXPECT_FALSE(cache.find("b", now_));
  EXPECT_FALSE(cache.find("d", now_));
  EXPECT_TRUE(cache.find("e", now_));
  EXPECT_TRUE(cache.find("f", now_));
  EXPECT_EQ(cache.evictions(), 2u);
}

TEST_F(DirectoryCacheTest, ExpiredEntriesGoFirstAndAreNotCountedAsEvictions) {
  DirectoryCache cache(config(2, seconds(10)));
  cache.store_found("old", kIndia, now_);
  cache.store_found("new", kIndia, now_ + seconds(8));
  ASSERT_TRUE(cache.find("old", now_ + seconds(9)));  // marked: but expires at 10 s
  cache.store_found("next", kChina, now_ + seconds(11));
  EXPECT_TRUE(cache.find("new", now_ + seconds(11)));
  EXPECT_TRUE(cache.find("next", now_ + seconds(11)));
  EXPECT_EQ(cache.evictions(), 0u);
}

TEST_F(DirectoryCacheTest, ManyMoreIdsThanEntriesStayBounded) {
  DirectoryCache cache(config(100));
  for (int i = 0; i < 10000; ++i) {
    const std::string id = "acct-" + std::to_string(i);
    cache.store_found(id, kIndia, now_);
    ASSERT_EQ(cache.find(id, now_)->country, kIndia);
    ASSERT_LE(cache.size(), 100u);
  }
  EXPECT_EQ(cache.size(), 100u);
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.find("acct-9999", now_));
}

}  // namespace
}  // namespace regiongate
