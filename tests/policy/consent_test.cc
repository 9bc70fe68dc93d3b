// Opt-in services: a service that names a `consent` is refused (403) for a
// request without it, for every account country and whatever the rules
// say; the proof checks it over the whole domain.

#include <gtest/gtest.h>

#include "policy/proof.h"
#include "tests/policy/policy_fixture.h"

namespace regiongate::testing {
namespace {

constexpr std::string_view kOptIn = R"(
groups:
  rest-of-world: {all_except: [CN]}
services:
  shop: {match: [{host: shop.example.com}]}
  cloud: {match: [{host: cloud.example.com}], consent: cloud-backup}
  messaging: {match: [{host: msg.example.com}], consent: messaging}
rules:
  - {id: cn, accounts: CN, allow: in-country}
  - {id: rest, accounts: rest-of-world, allow: [SG, US]}
)";

constexpr std::string_view kAt = "2020-01-01T00:00:00Z";

TEST(Consent, AnOptInServiceIsRefusedWithoutItsConsentEverywhere) {
  auto p = compile_policy(kOptIn);
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  ASSERT_EQ(p.policy.consents, (std::vector<std::string>{"cloud-backup", "messaging"}));
  const ConsentId backup = p.policy.find_consent("cloud-backup");
  const ConsentId messaging = p.policy.find_consent("messaging");
  for (std::string_view country : {"CN", "IN", "US", "DE"}) {
    for (ConsentMask granted : {ConsentMask{0}, consent_bit(messaging)}) {
      Decision d = p.decide_with(granted, country, "cloud", kAt);
      EXPECT_EQ(d.reason, DecisionReason::kNoConsent) << country;
      EXPECT_EQ(d.status(), 403);
      EXPECT_EQ(d.candidate_count, 0);
      EXPECT_EQ(d.chosen, kNoDataCenterIndex);
      EXPECT_EQ(d.allowed, 0u);
    }
    // With it, the rules decide as for any service.
    Decision with = p.decide_with(consent_bit(backup), country, "cloud", kAt);
    EXPECT_EQ(with.reason, DecisionReason::kAllowed) << country;
    EXPECT_EQ(p.candidates(with), p.candidates(p.decide_with(0, country, "shop", kAt)));
  }
  EXPECT_EQ(reason_code(DecisionReason::kNoConsent), "consent-required");
  // A service that needs none is decided the same without any.
  EXPECT_EQ(p.decide_with(0, "IN", "shop", kAt).reason, DecisionReason::kAllowed);
}

TEST(Consent, TheProofCoversItAndNamesTheOptInServices) {
  auto p = compile_policy(kOptIn);
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  ProofResult proof = prove_policy(p.policy, p.dcs, p.table);
  EXPECT_TRUE(proof.holds) << proof.summary();
  EXPECT_GT(proof.consent_decisions, 0u);
  EXPECT_EQ(proof.opt_in_services, "cloud (cloud-backup), messaging (messaging)");
  EXPECT_NE(proof.summary().find("Without its consent, no request for cloud (cloud-backup), "
                                 "messaging (messaging) reaches any data centre"),
            std::string::npos)
      << proof.summary();
}

TEST(Consent, ServicesShareAConsentByName) {
  auto p = compile_policy(
      "groups:\n  everyone: {all_except: []}\n"
      "services:\n"
      "  photos: {match: [{host: photos.example.com}], consent: cloud-backup}\n"
      "  files: {match: [{host: files.example.com}], consent: cloud-backup}\n"
      "rules:\n  - {id: all, accounts: everyone, allow: [SG]}\n");
  ASSERT_FALSE(p.diags.has_errors()) << p.errors();
  EXPECT_EQ(p.policy.consents.size(), 1u);
  EXPECT_EQ(p.policy.services[0].consent, p.policy.services[1].consent);
}

TEST(Consent, BadConsentNamesAreErrorsWithTheirPlace) {
  auto p = compile_policy(
      "services:\n"
      "  cloud: {match: [{host: cloud.example.com}], consent: 'Cloud Backup'}\n"
      "  msg: {match: [{host: msg.example.com}], consent: [a, b]}\n"
      "rules: []\n");
  EXPECT_ERROR(p, "policy.yaml:2:56:", "consent names are 1-64 characters");
  EXPECT_ERROR(p, "policy.yaml:3:", "consent");
}

}  // namespace
}  // namespace regiongate::testing
