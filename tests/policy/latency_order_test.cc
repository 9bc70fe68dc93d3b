// "Nearest" by measured latency: the ordering rule (latency_order.h) on its
// own, and inside decide(), where it may only reorder each part of the
// allowed candidates, never add, drop or mix the parts.

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "policy/latency_order.h"
#include "tests/policy/policy_fixture.h"

namespace regiongate::testing {
namespace {

// Data centres 0..n-1 given in distance order `order`, with round trips
// `us` (by index), ordered; returns the new order.
std::vector<DataCenterIndex> ordered(std::vector<DataCenterIndex> order,
                                     const std::vector<std::uint32_t>& us,
                                     std::uint32_t tolerance_us) {
  DataCenterLatencies l;
  for (std::size_t i = 0; i < us.size(); ++i) l.us[i] = us[i];
  l.tolerance_us = tolerance_us;
  order_by_latency(order.data(), order.size(), l);
  return order;
}

using Order = std::vector<DataCenterIndex>;

TEST(LatencyOrder, NothingMeasuredKeepsTheDistanceOrder) {
  EXPECT_EQ(ordered({2, 0, 1}, {0, 0, 0}, 5000), (Order{2, 0, 1}));
}

TEST(LatencyOrder, FasterByMoreThanTheToleranceGoesFirst) {
  // 0 is nearest but 80 ms away; 1 answers in 2 ms.
  EXPECT_EQ(ordered({0, 1}, {80000, 2000}, 5000), (Order{1, 0}));
}

TEST(LatencyOrder, WithinTheToleranceDistanceDecides) {
  EXPECT_EQ(ordered({0, 1}, {24000, 20000}, 5000), (Order{0, 1}));
  EXPECT_EQ(ordered({0, 1}, {25000, 20000}, 5000), (Order{0, 1}));  // the band is inclusive
  EXPECT_EQ(ordered({0, 1}, {25001, 20000}, 5000), (Order{1, 0}));
}

TEST(LatencyOrder, MeasuredComeBeforeUnmeasuredWhichKeepTheirDistanceOrder) {
  // 3 and 1 have no measurement: after the measured ones, 3 then 1 as given.
  EXPECT_EQ(ordered({3, 1, 0, 2}, {90000, 0, 10000, 0}, 5000), (Order{2, 0, 3, 1}));
}

TEST(LatencyOrder, EachPickIsTheNearestOfThoseWithinToleranceOfTheFastestLeft) {
  // In distance order 0, 1, 2 at 18, 14 and 10 ms, tolerance 5 ms: of those
  // within 5 ms of the fastest (10) the nearest is 1 (14); then, of 0 and 2,
  // only 2 is within 5 ms of 10; then 0. "Within the tolerance" is measured
  // from the fastest each time, so it cannot chain 18 ~ 14 ~ 10.
  EXPECT_EQ(ordered({0, 1, 2}, {18000, 14000, 10000}, 5000), (Order{1, 2, 0}));
}

TEST(LatencyOrder, AHugeToleranceMakesEveryMeasuredOneEqual) {
  EXPECT_EQ(ordered({0, 1, 2}, {300000, 1, 0}, 0xFFFFFFFF), (Order{0, 1, 2}));
}

// For random parts and round trips: a permutation, measured first, and
// every pick within the tolerance of the fastest left, the nearest such.
TEST(LatencyOrder, IsAPermutationThatFollowsTheRule) {
  std::mt19937 random(7);
  for (int round = 0; round < 2000; ++round) {
    const std::size_t n = 1 + random() % 8;
    Order distance(n);
    for (std::size_t i = 0; i < n; ++i) distance[i] = static_cast<DataCenterIndex>(i);
    std::shuffle(distance.begin(), distance.end(), random);
    std::vector<std::uint32_t> us(n);
    for (auto& u : us) u = random() % 3 == 0 ? 0 : 1 + random() % 50000;
    const std::uint32_t tolerance = random() % 10000;
    Order got = ordered(distance, us, tolerance);

    ASSERT_TRUE(std::is_permutation(got.begin(), got.end(), distance.begin()));
    auto rank = [&](DataCenterIndex dc) {
      return std::find(distance.begin(), distance.end(), dc) - distance.begin();
    };
    for (std::size_t i = 0; i < n; ++i) {
      if (us[got[i]] == 0) {  // unmeasured: only unmeasured after it, in distance order
        for (std::size_t j = i + 1; j < n; ++j) {
          ASSERT_EQ(us[got[j]], 0u);
          ASSERT_LT(rank(got[j - 1]), rank(got[j]));
        }
        break;
      }
      std::uint32_t fastest = us[got[i]];
      for (std::size_t j = i; j < n; ++j) {
        if (us[got[j]] != 0) fastest = std::min(fastest, us[got[j]]);
      }
      ASSERT_LE(us[got[i]], std::uint64_t{fastest} + tolerance);
      for (std::size_t j = i + 1; j < n; ++j) {  // no nearer one was equally fast
        if (us[got[j]] != 0 && us[got[j]] <= std::uint64_t{fastest} + tolerance) {
          ASSERT_LT(rank(got[i]), rank(got[j]));
        }
      }
    }
  }
}

// --- Inside decide() --------------------------------------------------------

std::string policy(std::string_view rules) {
  return std::string(kTwoServices) + "rules:\n" + std::string(rules);
}

DataCenterLatencies latencies(const Compiled& p,
                              std::initializer_list<std::pair<const char*, std::uint32_t>> ms) {
  DataCenterLatencies l;
  l.tolerance_us = 5000;
  for (const auto& [dc, v] : ms) l.us[p.dc(dc)] = v * 1000;
  return l;
}

TEST(DecideByLatency, TheFasterAllowedDataCentreGoesFirstAndNothingElseChanges) {
  auto p = compile_policy(policy("  - {id: in, accounts: IN, allow: [SG, US]}\n"));
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  const UnixSeconds at = *parse_rfc3339("2020-01-01T00:00:00Z");
  const DataCenterMask all = ~DataCenterMask{0};
  Decision by_distance = p.table.decide(p.c("IN"), p.s("cloud"), kEveryConsent, at, kNoCountry, all);
  ASSERT_EQ(p.candidates(by_distance), "singapore oregon virginia");
  // Beijing and Frankfurt answer fastest of all: forbidden, they stay out.
  DataCenterLatencies l = latencies(
      p, {{"beijing", 1}, {"frankfurt", 1}, {"singapore", 90}, {"oregon", 40}, {"virginia", 20}});
  Decision d = p.table.decide(p.c("IN"), p.s("cloud"), kEveryConsent, at, kNoCountry, all, &l);
  EXPECT_EQ(p.candidates(d), "virginia oregon singapore");
  EXPECT_EQ(d.chosen, p.dc("virginia"));
  EXPECT_EQ(d.allowed, by_distance.allowed);
  EXPECT_EQ(d.rule, by_distance.rule);
  // Down, the fastest is passed over like any other.
  d = p.table.decide(p.c("IN"), p.s("cloud"), kEveryConsent, at, kNoCountry, all & ~dc_bit(p.dc("virginia")), &l);
  EXPECT_EQ(d.chosen, p.dc("oregon"));
}

TEST(DecideByLatency, InCountryStaysFirstAndIsOrderedByLatencyAmongItself) {
  auto p = compile_policy(policy("  - {id: us, accounts: US, allow: [in-country, SG]}\n"));
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  const UnixSeconds at = *parse_rfc3339("2020-01-01T00:00:00Z");
  DataCenterLatencies l = latencies(p, {{"singapore", 1}, {"oregon", 70}, {"virginia", 10}});
  Decision d = p.table.decide(p.c("US"), p.s("shop"), kEveryConsent, at, p.c("SG"), ~DataCenterMask{0}, &l);
  // From Singapore, Oregon is the nearer of the two; Virginia answers faster.
  EXPECT_EQ(p.candidates(d), "virginia oregon singapore");
}

TEST(DecideByLatency, RefusalsAreTheSame) {
  auto p = compile_policy(policy("  - {id: in, accounts: IN, allow: [SG]}\n"));
  const UnixSeconds at = *parse_rfc3339("2020-01-01T00:00:00Z");
  DataCenterLatencies l = latencies(p, {{"singapore", 10}});
  Decision none = p.table.decide(p.c("CN"), p.s("shop"), kEveryConsent, at, kNoCountry, ~DataCenterMask{0}, &l);
  EXPECT_EQ(none.status(), 451);
  EXPECT_EQ(none.candidate_count, 0);
  Decision down =
      p.table.decide(p.c("IN"), p.s("shop"), kEveryConsent, at, kNoCountry, ~dc_bit(p.dc("singapore")), &l);
  EXPECT_EQ(down.status(), 503);
}

}  // namespace
}  // namespace regiongate::testing
