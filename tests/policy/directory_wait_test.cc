// Resolving with an asynchronous directory (Redis on the data path): a
// pending lookup leaves the request waiting, its answer resumes it, and a
// directory that cannot answer leaves the country to the service's
// identity.directory_unavailable: a 503, or GeoIP as "geoip-fallback".
// Never a guess from whatever source comes next.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "policy/request_decision.h"
#include "tests/policy/example_snapshot.h"

namespace regiongate {
namespace {

// A directory as the gateway's Redis one looks to resolve_country: it
// answers what it was told, and records what it was asked.
class ScriptedDirectory final : public AccountDirectory {
 public:
  explicit ScriptedDirectory(DirectoryStatus status) : status_(status) {}
  DirectoryResult find(std::string_view id) const override {
    asked.emplace_back(id);
    return {status_, kNoCountry};
  }
  std::size_t size() const override { return 0; }
  std::string_view describe() const override { return "scripted"; }
  mutable std::vector<std::string> asked;

 private:
  DirectoryStatus status_;
};

const CountryId kIndia = *country_from_code("IN");

RequestInput request(const char* path, const char* account, const char* peer = "127.0.0.1") {
  RequestInput in;
  in.target.method = "GET";
  in.target.scheme = "https";
  in.target.authority = "api.example.com";
  in.target.path = path;
  in.account_id = account;
  in.peer = *IpAddress::parse(peer);
  in.now = *parse_rfc3339("2015-07-01T00:00:00Z");  // India in its own data centre
  return in;
}

// The example, with identity.directory_unavailable as given.
Snapshot with_fallback(const std::string& yaml) {
  Snapshot snap = example_snapshot();
  Diagnostics diags;
  auto root = load_yaml_text("identity:\n  directory_unavailable: " + yaml + "\n", "gw.yaml", diags);
  EXPECT_TRUE(root) << diags.format_all();
  YamlContext ctx("gw.yaml", diags);
  std::vector<std::string_view> services;
  for (const Service& s : snap.policy.services) services.push_back(s.name);
  IdentityConfig read = read_identity((*root)["identity"], "identity", ctx, services);
  EXPECT_FALSE(diags.has_errors()) << diags.format_all();
  snap.identity.directory_unavailable = read.directory_unavailable;
  snap.identity.directory_unavailable_by_service = read.directory_unavailable_by_service;
  return snap;
}

TEST(DirectoryWait, APendingLookupWaitsAndItsAnswerDecides) {
  const Snapshot& snap = example_snapshot();
  ScriptedDirectory redis(DirectoryStatus::kPending);
  RequestInput in = request("/shop/cart", "in-ravi", "127.4.0.9");  // a phone in the US
  in.directory = &redis;
  TargetStorage storage;
  RoutedRequest r = route_request(snap, in, storage);
  EXPECT_TRUE(r.waiting_for_directory);
  EXPECT_EQ(r.country.directory_id, "in-ravi");
  EXPECT_EQ(r.country.account, kNoCountry);  // not guessed from GeoIP meanwhile
  ASSERT_EQ(redis.asked, std::vector<std::string>{"in-ravi"});

  const DirectoryAnswer answer{"in-ravi", {DirectoryStatus::kFound, kIndia}};
  in.directory_answers = std::span<const DirectoryAnswer>(&answer, 1);
  r = route_request(snap, in, storage);
  EXPECT_FALSE(r.waiting_for_directory);
  EXPECT_EQ(redis.asked.size(), 1u);  // answered, not asked again
  EXPECT_EQ(r.country.account, kIndia);
  EXPECT_EQ(r.country.source, CountrySource::kDirectory);
  ASSERT_TRUE(r.decision.routed());
  EXPECT_EQ(snap.datacenters.all[r.decision.chosen].id, "mumbai");
}

TEST(DirectoryWait, ANotFoundAnswerGoesOnToTheNextSource) {
  const Snapshot& snap = example_snapshot();
  ScriptedDirectory redis(DirectoryStatus::kPending);
  RequestInput in = request("/shop/cart", "nobody", "127.1.0.9");  // a phone in India
  in.directory = &redis;
  const DirectoryAnswer answer{"nobody", {DirectoryStatus::kNotFound, kNoCountry}};
  in.directory_answers = std::span<const DirectoryAnswer>(&answer, 1);
  TargetStorage storage;
  RoutedRequest r = route_request(snap, in, storage);
  EXPECT_FALSE(r.waiting_for_directory);
  EXPECT_EQ(r.country.source, CountrySource::kGeoip);  // identity.order: [directory, geoip]
  EXPECT_EQ(r.country.account, kIndia);
}

TEST(DirectoryWait, NothingWaitsWhenTheAnswerCannotChangeTheDecision) {
  const Snapshot& snap = example_snapshot();
  ScriptedDirectory redis(DirectoryStatus::kPending);
  RequestInput in = request("/nowhere", "in-ravi");
  in.target.authority = "www.example.org";  // no service
  in.directory = &redis;
  TargetStorage storage;
  RoutedRequest r = route_request(snap, in, storage);
  EXPECT_FALSE(r.waiting_for_directory);
  EXPECT_EQ(r.decision.status(), 404);
}

TEST(DirectoryWait, UnavailableRefusesByDefaultAndNeverGuesses) {
  const Snapshot& snap = example_snapshot();
  ScriptedDirectory redis(DirectoryStatus::kUnavailable);
  // The phone is in China; the account's country is unknown while Redis is down.
  RequestInput in = request("/account/profile", "in-ravi", "127.2.0.9");
  in.directory = &redis;
  TargetStorage storage;
  RoutedRequest r = route_request(snap, in, storage);
  EXPECT_FALSE(r.waiting_for_directory);
  EXPECT_EQ(r.country.account, kNoCountry);
  EXPECT_EQ(r.decision.reason, DecisionReason::kDirectoryUnavailable);
  EXPECT_EQ(r.decision.status(), 503);
  EXPECT_EQ(reason_code(r.decision.reason), "account-directory-unavailable");
}

TEST(DirectoryWait, PerServiceGeoipFallbackIsNamedAsSuch) {
  const Snapshot snap = with_fallback("{default: refuse, services: {shop: geoip}}");
  ScriptedDirectory redis(DirectoryStatus::kUnavailable);
  TargetStorage storage;
  RequestInput shop = request("/shop/cart", "in-ravi", "127.2.0.9");  // the phone in China
  shop.directory = &redis;
  RoutedRequest r = route_request(snap, shop, storage);
  EXPECT_EQ(r.country.source, CountrySource::kGeoipFallback);
  EXPECT_EQ(source_name(r.country.source), "geoip-fallback");
  EXPECT_EQ(country_code(r.country.account), "CN");
  ASSERT_TRUE(r.decision.routed());
  EXPECT_EQ(snap.datacenters.all[r.decision.chosen].id, "beijing");

  RequestInput account = request("/account/profile", "in-ravi", "127.2.0.9");
  account.directory = &redis;
  EXPECT_EQ(route_request(snap, account, storage).decision.reason,
            DecisionReason::kDirectoryUnavailable);

  // GeoIP knows no country for the phone: nothing to fall back on.
  RequestInput nowhere = request("/shop/cart", "in-ravi", "127.0.0.1");
  nowhere.directory = &redis;
  EXPECT_EQ(route_request(snap, nowhere, storage).decision.reason,
            DecisionReason::kDirectoryUnavailable);
}

TEST(DirectoryWait, TheFallbackSettingIsCheckedWithFileLineAndColumn) {
  Diagnostics diags;
  auto root = load_yaml_text(
      "identity:\n  directory_unavailable:\n    default: maybe\n    services: {shopping: geoip}\n",
      "gw.yaml", diags);
  ASSERT_TRUE(root);
  YamlContext ctx("gw.yaml", diags);
  const std::vector<std::string_view> services = {"shop", "account"};
  read_identity((*root)["identity"], "identity", ctx, services);
  const std::string all = diags.format_all();
  EXPECT_NE(all.find("gw.yaml:3:14: error: identity.directory_unavailable.default: 'maybe': refuse or geoip"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("gw.yaml:4:16: error: identity.directory_unavailable.services: 'shopping' is "
                     "not a service of the policy"),
            std::string::npos)
      << all;
}

}  // namespace
}  // namespace regiongate
