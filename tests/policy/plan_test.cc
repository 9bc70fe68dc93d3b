// `plan` on the example story: who moves where, and when.

#include "policy/plan.h"

#include <gtest/gtest.h>

#include "tests/policy/example_snapshot.h"

#include <set>

#include "policy/snapshot.h"

namespace regiongate {
namespace {

const Snapshot& example() { return example_snapshot(); }

std::vector<PlanChange> plan(const char* from, const char* to) {
  const Snapshot& s = example();
  return plan_changes(s.policy, s.datacenters, s.table, *parse_rfc3339(from), *parse_rfc3339(to));
}

TEST(Plan, TheStorysPhasesInOrder) {
  std::vector<PlanChange> c = plan("2014-01-01", "2016-01-01");
  ASSERT_EQ(c.size(), 4u);
  const Policy& p = example().policy;
  EXPECT_EQ(format_rfc3339(c[0].at), "2014-10-31T00:00:00Z");
  EXPECT_EQ(country_list(c[0].accounts), "IN");
  EXPECT_EQ(p.service_names(c[0].services), "shop");
  EXPECT_EQ(c[0].before, "beijing");
  EXPECT_EQ(c[0].after, "nearest of singapore/oregon/california");
  EXPECT_EQ(example().policy.rules[c[0].after_decision.rule].id, "india-shop-sg-us");
  EXPECT_EQ(format_rfc3339(c[1].at), "2014-12-31T00:00:00Z");
  EXPECT_EQ(p.service_names(c[1].services), "account,cloud,messaging");
  // 2015-06-01: Brazil and India both come home, as two changes.
  EXPECT_EQ(format_rfc3339(c[2].at), "2015-06-01T00:00:00Z");
  EXPECT_EQ(c[2].at, c[3].at);
  std::set<std::string> homes = {c[2].after, c[3].after};
  EXPECT_EQ(homes, (std::set<std::string>{"mumbai", "sao-paulo"}));
}

// The range is (from, to]: a change exactly at `from` is already in force.
TEST(Plan, TheRangeIncludesItsEndAndNotItsStart) {
  EXPECT_EQ(plan("2014-10-31", "2014-12-31").size(), 1u);       // the cloud move only
  EXPECT_EQ(plan("2014-10-30", "2014-10-31").size(), 1u);       // the shop move
  EXPECT_TRUE(plan("2015-06-01", "2030-01-01").empty());        // nothing after the last phase
  EXPECT_TRUE(plan("2014-11-01", "2014-11-30").empty());
}

}  // namespace
}  // namespace regiongate
