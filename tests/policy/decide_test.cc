// Rule semantics: what decide() answers for each kind of rule.

#include <gtest/gtest.h>

#include "tests/policy/policy_fixture.h"

namespace regiongate::testing {
namespace {

std::string policy(std::string_view rules, std::string_view extra = "") {
  return std::string(kTwoServices) + std::string(extra) + "rules:\n" + std::string(rules);
}

TEST(Decide, InCountryOnly) {
  auto p = compile_policy(policy("  - {id: cn, accounts: CN, allow: in-country}\n"));
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  Decision d = p.decide("CN", "shop", "2020-01-01T00:00:00Z");
  EXPECT_EQ(d.status(), 200);
  EXPECT_EQ(p.candidates(d), "beijing");
  EXPECT_EQ(d.chosen, p.dc("beijing"));
  EXPECT_EQ(d.rule, 0);
}

TEST(Decide, AllowListIsOrderedNearestToTheAccountCountryWhenLocationUnknown) {
  auto p = compile_policy(policy("  - {id: in, accounts: IN, allow: [SG, US]}\n"));
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  Decision d = p.decide("IN", "cloud", "2020-01-01T00:00:00Z");
  // From India's point (Kolkata), Oregon is nearer than Virginia, over the pole.
  EXPECT_EQ(p.candidates(d), "singapore oregon virginia");
  EXPECT_EQ(d.chosen, p.dc("singapore"));
}

TEST(Decide, NearestToWhereTheClientIsNow) {
  // An Indian account travelling in the US whose data may live in SG or US goes to the US.
  auto p = compile_policy(policy("  - {id: in, accounts: IN, allow: [SG, US]}\n"));
  Decision d = p.decide("IN", "cloud", "2020-01-01T00:00:00Z", "US");
  EXPECT_EQ(p.candidates(d), "virginia oregon singapore");
  // Travelling in Canada, west coast is not nearer than east (Toronto): virginia first.
  EXPECT_EQ(p.candidates(p.decide("IN", "cloud", "2020-01-01T00:00:00Z", "CA")),
            "virginia oregon singapore");
  EXPECT_EQ(p.candidates(p.decide("IN", "cloud", "2020-01-01T00:00:00Z", "AU")),
            "singapore oregon virginia");
}

TEST(Decide, InCountryComesFirstEvenWhenTheClientIsAbroad) {
  auto p = compile_policy(policy("  - {id: us, accounts: US, allow: [in-country, SG]}\n"));
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  Decision d = p.decide("US", "shop", "2020-01-01T00:00:00Z", "SG");
  EXPECT_EQ(p.candidates(d), "oregon virginia singapore");
}

TEST(Decide, DataCentreIdsAndGroupsInAllowLists) {
  auto p = compile_policy(policy("  - {id: de, accounts: DE, allow: [eu, oregon]}\n",
                                 "groups:\n  eu: [DE, FR, NL]\n"));
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  EXPECT_EQ(p.candidates(p.decide("DE", "shop", "2020-01-01T00:00:00Z")), "frankfurt oregon");
  // A data centre id admits that site only, not its whole country.
  EXPECT_EQ(p.decide("DE", "shop", "2020-01-01T00:00:00Z").allowed & dc_bit(p.dc("virginia")), 0u);
}

TEST(Decide, AllExceptGroupsCoverEveryOtherCountry) {
  auto p = compile_policy(policy("  - {id: rest, accounts: rest, allow: [SG]}\n",
                                 "groups:\n  rest: {all_except: [CN]}\n"));
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  EXPECT_EQ(p.decide("FR", "shop", "2020-01-01T00:00:00Z").status(), 200);
  EXPECT_EQ(p.decide("XK", "shop", "2020-01-01T00:00:00Z").status(), 200);
  Decision cn = p.decide("CN", "shop", "2020-01-01T00:00:00Z");
  EXPECT_EQ(cn.status(), 451);
  EXPECT_EQ(cn.reason, DecisionReason::kNoRule);
}

TEST(Decide, WindowsAreHalfOpenAndSwitchExactlyOnTheBoundary) {
  auto p = compile_policy(policy(
      "  - {id: old, accounts: IN, until: '2014-10-31T00:00:00+05:30', allow: beijing}\n"
      "  - {id: new, accounts: IN, from: '2014-10-31T00:00:00+05:30', allow: [SG]}\n"));
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  // 2014-10-31T00:00:00+05:30 is 2014-10-30T18:30:00Z.
  EXPECT_EQ(p.candidates(p.decide("IN", "shop", "2014-10-30T18:29:59Z")), "beijing");
  EXPECT_EQ(p.candidates(p.decide("IN", "shop", "2014-10-30T18:30:00Z")), "singapore");
  EXPECT_EQ(p.candidates(p.decide("IN", "shop", "1970-01-01T00:00:00Z")), "beijing");
  EXPECT_EQ(p.candidates(p.decide("IN", "shop", "2999-01-01T00:00:00Z")), "singapore");
}

TEST(Decide, RulesCanBeLimitedToServices) {
  auto p = compile_policy(policy("  - {id: a, accounts: IN, services: shop, allow: [SG]}\n"
                                 "  - {id: b, accounts: IN, services: [cloud], allow: [US]}\n"));
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  EXPECT_EQ(p.candidates(p.decide("IN", "shop", "2020-01-01T00:00:00Z")), "singapore");
  EXPECT_EQ(p.candidates(p.decide("IN", "cloud", "2020-01-01T00:00:00Z")), "oregon virginia");
}

TEST(Decide, DenyRulesRefuseWith451AndTheirReason) {
  auto p = compile_policy(policy("  - {id: embargo, accounts: KP, deny: export controls}\n"));
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  Decision d = p.decide("KP", "shop", "2020-01-01T00:00:00Z");
  EXPECT_EQ(d.status(), 451);
  EXPECT_EQ(d.reason, DecisionReason::kDeniedByRule);
  EXPECT_EQ(d.rule, 0);
  EXPECT_EQ(d.candidate_count, 0);
}

TEST(Decide, AnUncoveredCountryIsRefusedAndWarnedAbout) {
  auto p = compile_policy(policy("  - {id: cn, accounts: CN, allow: in-country}\n"));
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  Decision d = p.decide("FR", "shop", "2020-01-01T00:00:00Z");
  EXPECT_EQ(d.status(), 451);
  EXPECT_EQ(d.reason, DecisionReason::kNoRule);
  EXPECT_EQ(d.rule, kNoRule);
  EXPECT_NE(p.errors().find("no rule covers accounts of"), std::string::npos) << p.errors();
}

TEST(Decide, InCountryWithNoDataCentreThereIsRefusedAndWarnedAbout) {
  auto p = compile_policy(policy("  - {id: br, accounts: BR, allow: in-country}\n"));
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  Decision d = p.decide("BR", "shop", "2020-01-01T00:00:00Z");
  EXPECT_EQ(d.status(), 451);
  EXPECT_EQ(d.reason, DecisionReason::kNoDataCenter);
  EXPECT_NE(p.errors().find("rule 'br' leaves accounts of BR"), std::string::npos) << p.errors();
}

TEST(Decide, FailoverWalksOnlyAllowedDataCentresThen503) {
  auto p = compile_policy(policy("  - {id: in, accounts: IN, allow: [SG, US]}\n"));
  DataCenterMask healthy = ~DataCenterMask{0};
  healthy &= ~dc_bit(p.dc("singapore"));
  Decision d = p.decide("IN", "shop", "2020-01-01T00:00:00Z", "", healthy);
  EXPECT_EQ(d.chosen, p.dc("oregon"));
  healthy &= ~(dc_bit(p.dc("virginia")) | dc_bit(p.dc("oregon")));
  // Beijing, Mumbai and Frankfurt are up, but not allowed: 503, never a forbidden one.
  d = p.decide("IN", "shop", "2020-01-01T00:00:00Z", "", healthy);
  EXPECT_EQ(d.status(), 503);
  EXPECT_EQ(d.reason, DecisionReason::kAllDown);
  EXPECT_EQ(d.chosen, kNoDataCenterIndex);
  EXPECT_EQ(p.candidates(d), "singapore oregon virginia");
}

TEST(Decide, NeverRemovesDestinationsEvenFromAnUnrelatedWindow) {
  // The never entry starts later than the rule; validation rejects the overlap,
  // so here it only starts after the rule ends: nothing to remove, no error.
  auto p = compile_policy(policy("  - {id: a, accounts: IN, until: 2015-01-01, allow: [CN]}\n"
                                 "  - {id: b, accounts: IN, from: 2015-01-01, allow: [SG]}\n"
                                 "never:\n  - {id: n, accounts: IN, from: 2015-01-01, to: CN}\n"));
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  EXPECT_EQ(p.candidates(p.decide("IN", "shop", "2014-12-31T23:59:59Z")), "beijing");
  EXPECT_EQ(p.candidates(p.decide("IN", "shop", "2015-01-01T00:00:00Z")), "singapore");
}

TEST(Decide, UnknownCountryAndServiceAreRefused) {
  auto p = compile_policy(policy("  - {id: cn, accounts: CN, allow: in-country}\n"));
  Decision d = p.table.decide(kNoCountry, 0, kEveryConsent, 0, kNoCountry, ~DataCenterMask{0});
  EXPECT_EQ(d.status(), 451);
  EXPECT_EQ(d.reason, DecisionReason::kUnknownCountry);
  d = p.table.decide(p.c("CN"), kNoService, kEveryConsent, 0, kNoCountry, ~DataCenterMask{0});
  EXPECT_EQ(d.status(), 404);
  EXPECT_EQ(d.reason, DecisionReason::kUnknownService);
}

TEST(Decide, IdenticalAnswersMayOverlap) {
  auto p = compile_policy(policy("  - {id: a, accounts: [IN, SG], allow: [SG]}\n"
                                 "  - {id: b, accounts: [IN], services: shop, allow: [SG], "
                                 "until: 2020-01-01}\n"
                                 "  - {id: c, accounts: [DE], allow: [SG]}\n"));
  // b only repeats what a says for a subset: it can never apply, which is an error.
  EXPECT_NE(p.errors().find("rule 'b' can never apply"), std::string::npos) << p.errors();
  EXPECT_EQ(p.errors().find("overlaps"), std::string::npos) << p.errors();
}

}  // namespace
}  // namespace regiongate::testing
