// Validation: every error names file:line:col and says why; all are reported at once.

#include <gtest/gtest.h>

#include "tests/policy/policy_fixture.h"

namespace regiongate::testing {
namespace {

std::string policy(std::string_view rules, std::string_view extra = "") {
  return std::string(kTwoServices) + std::string(extra) + "rules:\n" + std::string(rules);
}


TEST(Validation, UnknownKeysNameTheKeyAndPlace) {
  auto p = compile_policy(policy("  - id: a\n    accounts: CN\n    allow: in-country\n"
                                 "    allwo: [SG]\n"));
  EXPECT_ERROR(p, "policy.yaml:9:5:", "unknown key 'allwo'");
  auto top = compile_policy(std::string(kTwoServices) + "rulez: []\nrules: []\n");
  EXPECT_ERROR(top, "policy.yaml:5:1:", "unknown key 'rulez'");
}

TEST(Validation, UnknownCountriesGroupsServicesAndDataCentres) {
  auto p = compile_policy(policy("  - {id: a, accounts: [CN, ZZ], allow: in-country}\n"
                                 "  - {id: b, accounts: IN, services: [shop, books], allow: [SG]}\n"
                                 "  - {id: c, accounts: SG, allow: [narnia]}\n"
                                 "  - {id: d, accounts: asia, allow: [SG]}\n"
                                 "  - {id: e, accounts: in, allow: [SG]}\n"));
  EXPECT_ERROR(p, "policy.yaml:6:28:", "'ZZ' is neither an ISO 3166-1 alpha-2 country code");
  EXPECT_ERROR(p, "policy.yaml:7:44:", "unknown service 'books'");
  EXPECT_ERROR(p, "policy.yaml:8:35:", "'narnia' is not 'in-country', a country code, a group");
  EXPECT_ERROR(p, "policy.yaml:9:23:", "'asia' is neither");
  EXPECT_ERROR(p, "policy.yaml:10:23:", "'in' is neither");  // codes are upper case
}

TEST(Validation, GroupsMayOnlyUseGroupsDefinedAbove) {
  auto p = compile_policy(policy("  - {id: a, accounts: b, allow: [SG]}\n",
                                 "groups:\n  b: [a]\n  a: [FR]\n  c: {all_except: []}\n"));
  EXPECT_ERROR(p, "policy.yaml:6:7:", "'a' is neither an ISO 3166-1 alpha-2 country code nor a group defined above");
}

TEST(Validation, BadDatesAndEmptyWindows) {
  auto p = compile_policy(policy("  - {id: a, accounts: CN, from: 2014-13-01, allow: in-country}\n"
                                 "  - {id: b, accounts: IN, from: '2015-01-01', until: 2014-01-01, allow: [SG]}\n"
                                 "  - {id: c, accounts: SG, until: 'yesterday', allow: [SG]}\n"
                                 "  - {id: d, accounts: DE, from: 2015-01-01, until: 2015-01-01, allow: [SG]}\n"));
  EXPECT_ERROR(p, "policy.yaml:6:33:", "not an RFC 3339 date or date-time");
  EXPECT_ERROR(p, "policy.yaml:7:54:", "empty window");
  EXPECT_ERROR(p, "policy.yaml:8:34:", "'yesterday'");
  EXPECT_ERROR(p, "policy.yaml:7:54:", "empty window");
}

TEST(Validation, OverlappingRulesWithDifferentAnswers) {
  auto p = compile_policy(policy("  - {id: a, accounts: IN, until: 2015-06-01, allow: [SG]}\n"
                                 "  - {id: b, accounts: [IN, BR], from: 2015-01-01, services: shop, "
                                 "allow: in-country}\n"));
  EXPECT_ERROR(p, "policy.yaml:7:5:",
               "rule 'b' overlaps rule 'a' (policy.yaml:6:5) with a different answer, e.g. for IN "
               "accounts, service shop, 2015-01-01 .. 2015-06-01: 'a' allows SG, 'b' allows in-country");
}

TEST(Validation, AnAllowThatANeverForbids) {
  auto p = compile_policy(policy("  - {id: a, accounts: IN, allow: [SG, CN]}\n"
                                 "  - {id: b, accounts: CN, allow: [beijing, oregon]}\n"
                                 "  - {id: c, accounts: DE, allow: in-country}\n",
                                 "never:\n"
                                 "  - {id: n1, accounts: IN, from: 2014-10-31, to: CN}\n"
                                 "  - {id: n2, accounts: [CN], to: [US]}\n"
                                 "  - {id: n3, accounts: [DE], services: cloud, to: [DE]}\n"));
  EXPECT_ERROR(p, "policy.yaml:10:5:", "rule 'a' allows data of IN accounts to go to CN (all services, from 2014-10-31), which never 'n1' (policy.yaml:6:5) forbids");
  EXPECT_ERROR(p, "policy.yaml:11:5:", "rule 'b' allows data of CN accounts to go to US");
  EXPECT_ERROR(p, "policy.yaml:12:5:", "rule 'c' allows data of DE accounts to go to DE (cloud, always)");
}

TEST(Validation, RulesThatNoRequestCanReach) {
  auto p = compile_policy(policy("  - {id: a, accounts: IN, allow: [SG]}\n"
                                 "  - {id: b, accounts: IN, services: shop, from: 2020-01-01, allow: [SG]}\n"));
  EXPECT_ERROR(p, "policy.yaml:7:5:", "rule 'b' can never apply: every request it covers is already decided");
}

TEST(Validation, RuleShapeErrors) {
  auto p = compile_policy(policy("  - {id: a, accounts: IN, allow: [SG], deny: no}\n"
                                 "  - {id: b, accounts: IN}\n"
                                 "  - {id: a, accounts: SG, allow: []}\n"
                                 "  - {accounts: SG, allow: [SG]}\n"
                                 "  - {id: Bad Id, accounts: FR, allow: [SG]}\n"));
  EXPECT_ERROR(p, "policy.yaml:6:5:", "either allow or deny, not both");
  EXPECT_ERROR(p, "policy.yaml:7:5:", "a rule needs allow");
  EXPECT_ERROR(p, "policy.yaml:8:10:", "duplicate id 'a'");
  EXPECT_ERROR(p, "policy.yaml:8:34:", "an empty allow list forbids everything: use deny");
  EXPECT_ERROR(p, "policy.yaml:9:5:", "missing required key 'id'");
  EXPECT_ERROR(p, "policy.yaml:10:10:", "ids are 1-64 characters");
}

TEST(Validation, YamlSyntaxErrorsHaveLineAndColumn) {
  auto p = compile_policy("services:\n  shop: {match: [{host: a}]\nrules: []\n");
  ASSERT_TRUE(p.diags.has_errors());
  EXPECT_EQ(p.diags.all()[0].mark.file, "policy.yaml");
  EXPECT_GT(p.diags.all()[0].mark.line, 0);
  EXPECT_NE(p.errors().find("YAML syntax"), std::string::npos) << p.errors();
}

// What the policy says is printed by explain, plan and the 451 body: a deny
// reason, a note or a city that is not UTF-8 is an error at its place (and
// the rest of the policy is still checked).
TEST(Validation, TextThatIsNotUtf8IsAnErrorAtItsPlace) {
  auto p = compile_policy(policy("  - {id: a, accounts: CN, deny: \"caf\xe9 ferm\xe9\"}\n"
                                 "  - id: b\n    note: \"\xff\"\n    accounts: IN\n"
                                 "    allow: [SG]\n"
                                 "  - {id: c, accounts: ZZ, allow: [SG]}\n"),
                          "x: {country: SG, city: \"Singap\xf6re\", latitude: 1, longitude: 2, "
                          "endpoints: [\"127.0.0.1:1\"]}\n");
  EXPECT_ERROR(p, "policy.yaml:6:33:", "rules[0].deny: not UTF-8: byte 4 of the value is 0xE9");
  EXPECT_ERROR(p, "policy.yaml:8:11:", "rules[1].note: not UTF-8: byte 1 of the value is 0xFF");
  EXPECT_ERROR(p, "datacenters.yaml:1:24:", "x.city: not UTF-8: byte 7 of the value is 0xF6");
  EXPECT_ERROR(p, "policy.yaml:11:23:", "'ZZ' is neither");
  // The same text in UTF-8 is fine.
  auto good = compile_policy(
      policy("  - {id: a, accounts: CN, deny: \"caf\xc3\xa9 ferm\xc3\xa9\"}\n"
             "  - {id: r, accounts: [IN, SG], allow: [SG]}\n"));
  EXPECT_FALSE(good.diags.has_errors()) << good.errors();
}

TEST(Validation, DuplicateKeysAreErrors) {
  auto p = compile_policy(policy("  - {id: a, accounts: CN, accounts: IN, allow: [SG]}\n"));
  EXPECT_ERROR(p, "policy.yaml:6:27:", "duplicate key");
}

TEST(Validation, EveryErrorIsReportedInOneRun) {
  auto p = compile_policy(policy("  - {id: a, accounts: ZZ, allow: [SG]}\n"
                                 "  - {id: b, accounts: IN, allow: [SG], bogus: 1}\n"
                                 "  - {id: c, accounts: IN, from: 2020-01-01, allow: [US]}\n"
                                 "  - {id: d, accounts: FR, from: nope, allow: [US]}\n"));
  EXPECT_ERROR(p, "policy.yaml:6:", "'ZZ'");
  EXPECT_ERROR(p, "policy.yaml:7:", "unknown key 'bogus'");
  EXPECT_ERROR(p, "policy.yaml:9:", "'nope'");
  // b did not read cleanly, so the overlap of c with b is not piled on top;
  // but c is complete and checked against the complete rules.
  EXPECT_EQ(p.diags.error_count(), 3) << p.errors();
}

TEST(Validation, ServicesNeedMatchesAndDistinctRoutes) {
  auto p = compile_policy(
      "services:\n"
      "  shop: {match: [{host: api.example.com, path: /shop}]}\n"
      "  cloud: {match: [{host: API.example.com, path: /shop/}]}\n"
      "  empty: {match: []}\n"
      "  bad: {match: [{host: 'a b', path: 'x'}, {}]}\n"
      "rules: []\n");
  ServiceClassifier classifier(p.policy, p.diags);
  EXPECT_ERROR(p, "policy.yaml:4:18:", "needs a match");
  EXPECT_ERROR(p, "policy.yaml:5:24:", "host must be a name");
  EXPECT_ERROR(p, "policy.yaml:5:37:", "path must start with '/'");
  EXPECT_ERROR(p, "policy.yaml:5:43:", "a match needs a host, a path or both");
  EXPECT_ERROR(p, "policy.yaml:3:19:", "the same host and path is already matched by service 'shop'");
}

}  // namespace
}  // namespace regiongate::testing

namespace regiongate::testing {
namespace {

// Found by the fuzzer: sections of the wrong kind must only produce errors.
TEST(Validation, SectionsOfTheWrongKind) {
  auto p = compile_policy("services: {shop: {match: [{host: a.example}]}}\n"
                          "rules: {a: 1}\nnever: {b: 2}\ngroups: [x]\n");
  EXPECT_ERROR(p, "policy.yaml:2:8:", "rules: must be a list");
  EXPECT_ERROR(p, "policy.yaml:3:8:", "never: must be a list");
  EXPECT_ERROR(p, "policy.yaml:4:9:", "groups: must be a map");
}

}  // namespace
}  // namespace regiongate::testing

namespace regiongate::testing {
namespace {

// A rule per (country, month): `rules` of them, `months` months long each
// (1: a new date for every month).
std::string many_rules(int rules, const std::vector<std::string>& countries) {
  std::string text = std::string(kTwoServices) + "rules:\n";
  for (int n = 0; n < rules; ++n) {
    const int month = n / static_cast<int>(countries.size());
    auto date = [](int m) {
      char buffer[16];
      std::snprintf(buffer, sizeof buffer, "%04d-%02d-01", 2000 + m / 12, m % 12 + 1);
      return std::string(buffer);
    };
    text += "  - {id: r" + std::to_string(n) + ", accounts: " + countries[n % countries.size()] +
            ", from: " + date(month) + ", until: " + date(month + 1) + ", allow: [SG, US]}\n";
  }
  return text;
}

// Ten thousand rules compile (the README's reload time is measured with
// them); a table that would be too large is refused before it is built.
TEST(Validation, TenThousandRulesCompileAndATooLargeTableIsRefused) {
  std::vector<std::string> fifty;
  for (const char* cc : {"AR", "AU", "AT", "BE", "BG", "CA", "CL", "CO", "CZ", "DK", "EG", "FI",
                         "FR", "DE", "GR", "HU", "ID", "IE", "IL", "IT", "JP", "KE", "KR", "MX",
                         "MA", "NL", "NZ", "NG", "NO", "PK", "PE", "PH", "PL", "PT", "RO", "RU",
                         "SA", "ZA", "ES", "SE", "CH", "TW", "TH", "TR", "UA", "AE", "GB", "VN",
                         "BD", "MY"}) {
    fifty.push_back(cc);
  }
  Compiled ok = compile_policy(many_rules(10000, fifty));  // 200 months: 201 dates
  EXPECT_FALSE(ok.diags.has_errors()) << ok.errors().substr(0, 2000);
  EXPECT_EQ(ok.policy.rules.size(), 10000u);
  EXPECT_EQ(ok.decide("AR", "shop", "2005-01-15T00:00:00Z").chosen, ok.dc("virginia"));  // nearest allowed

  Compiled over = compile_policy(many_rules(10001, fifty));
  EXPECT_NE(over.errors().find("at most 10000 entries"), std::string::npos) << over.errors().substr(0, 500);

  // 5,000 dates (one country, a rule a month) × 2 services × every country:
  // about 2.5 million cells, refused with the reason.
  Compiled dates = compile_policy(many_rules(5000, {"FR"}));
  EXPECT_NE(dates.errors().find("distinct dates"), std::string::npos) << dates.errors().substr(0, 500);
  EXPECT_NE(dates.errors().find("more than 2000000"), std::string::npos) << dates.errors().substr(0, 500);
}

}  // namespace
}  // namespace regiongate::testing
