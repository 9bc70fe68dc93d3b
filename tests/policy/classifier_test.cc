#include <gtest/gtest.h>

#include "policy/canonical_request.h"
#include "tests/policy/policy_fixture.h"

namespace regiongate::testing {
namespace {

constexpr std::string_view kServices = R"(
services:
  shop:
    match:
      - host: shop.example.com
      - host: api.example.com
        path: /shop
  cloud:
    match:
      - host: "*.cloud.example.com"
      - host: api.example.com
        path: /cloud/
  account:
    match:
      - path: /account
  fallback:
    match:
      - host: api.example.com
rules: []
)";

class ClassifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    p_ = compile_policy(kServices);
    classifier_ = ServiceClassifier(p_.policy, p_.diags);
    ASSERT_FALSE(p_.diags.has_errors()) << p_.errors();
  }
  // As the gateway does: the target made canonical first, then classified.
  std::string classify(std::string_view authority, std::string_view path) {
    TargetStorage storage;
    CanonicalTarget t = canonical_target({"GET", "https", authority, "", path}, {}, storage);
    if (t.fault != RequestFault::kNone) return "refused:" + std::string(fault_code(t.fault));
    ServiceId s = classifier_.classify(t.authority.host, t.path);
    return s == kNoService ? "none" : p_.policy.services[s].name;
  }
  Compiled p_;
  ServiceClassifier classifier_;
};

TEST_F(ClassifierTest, ExactHostsMatchWhateverThePath) {
  EXPECT_EQ(classify("shop.example.com", "/"), "shop");
  EXPECT_EQ(classify("SHOP.Example.COM:443", "/cart"), "shop");
  EXPECT_EQ(classify("shop.example.com:8443", "/cart"), "shop");
  EXPECT_EQ(classify("shop.example.com.", "/cart"), "shop");
}

TEST_F(ClassifierTest, PathPrefixesMatchWholeSegments) {
  EXPECT_EQ(classify("api.example.com", "/shop"), "shop");
  EXPECT_EQ(classify("api.example.com", "/shop/cart?x=1"), "shop");
  EXPECT_EQ(classify("api.example.com", "/shop?x=1"), "shop");
  EXPECT_EQ(classify("api.example.com", "/shopping"), "fallback");
  EXPECT_EQ(classify("api.example.com", "/cloud"), "cloud");
  EXPECT_EQ(classify("api.example.com", "/Cloud"), "fallback");  // paths are case-sensitive
  // Parameters belong to their segment: servers that strip them serve /shop.
  EXPECT_EQ(classify("api.example.com", "/shop;jsessionid=1/cart"), "shop");
  EXPECT_EQ(classify("api.example.com", "/shop%3Bx/cart"), "shop");
  EXPECT_EQ(classify("api.example.com", "/shop%3bx/cart"), "shop");
}

TEST_F(ClassifierTest, TheQueryNeverTakesPart) {
  EXPECT_EQ(classify("api.example.com", "/x?/shop/cart"), "fallback");
  EXPECT_EQ(classify("api.example.com", "/?/../shop"), "fallback");
  EXPECT_EQ(classify("other.example.org", "/q?path=/account"), "none");
}

TEST_F(ClassifierTest, ClassifiesTheCanonicalPath) {
  EXPECT_EQ(classify("api.example.com", "/cloud/../shop/cart"), "shop");
  EXPECT_EQ(classify("api.example.com", "/%73hop"), "shop");
  EXPECT_EQ(classify("api.example.com", "//shop/cart"), "shop");
  EXPECT_EQ(classify("api.example.com", "/./shop/./cart"), "shop");
  EXPECT_EQ(classify("api.example.com", "/x/%2e%2E/shop"), "shop");
  EXPECT_EQ(classify("api.example.com", "/shop%2fcart"), "refused:encoded-slash");
  EXPECT_EQ(classify("api.example.com", "/x/..;/shop"), "refused:dot-segment-parameters");
}

TEST_F(ClassifierTest, WildcardsNeedALabelBeforeTheSuffix) {
  EXPECT_EQ(classify("photos.cloud.example.com", "/"), "cloud");
  EXPECT_EQ(classify("a.b.cloud.example.com", "/"), "cloud");
  EXPECT_EQ(classify("cloud.example.com", "/"), "none");
  EXPECT_EQ(classify("evilcloud.example.com", "/"), "none");
}

TEST_F(ClassifierTest, AnyHostMatchesComeLast) {
  EXPECT_EQ(classify("other.example.org", "/account/me"), "account");
  EXPECT_EQ(classify("shop.example.com", "/account"), "shop");  // exact host is more specific
  EXPECT_EQ(classify("", "/account"), "account");
  EXPECT_EQ(classify("", "/shop"), "none");
}

TEST_F(ClassifierTest, OddAuthoritiesDoNotConfuseIt) {
  EXPECT_EQ(classify("user@shop.example.com", "/"), "refused:authority-userinfo");
  EXPECT_EQ(classify("[::1]:443", "/account"), "account");
  EXPECT_EQ(classify("[::1]:443", "/shop"), "none");
  EXPECT_EQ(classify(std::string(300, 'a'), "/x"), "refused:invalid-authority");
  EXPECT_EQ(classify("shop.example.com%2eevil", "/"), "refused:invalid-authority");
}

TEST_F(ClassifierTest, NonCanonicalPrefixesInThePolicyAreErrors) {
  Compiled bad = compile_policy(R"(
services:
  a: {match: [{path: /x/../a}]}
  b: {match: [{path: "/%62"}]}
  c: {match: [{path: "/c%2fd"}]}
  d: {match: [{host: "API.example.com."}]}
rules: []
)");
  ServiceClassifier classifier(bad.policy, bad.diags);
  std::string e = bad.errors();
  EXPECT_NE(e.find("'/x/../a' is not canonical"), std::string::npos) << e;
  EXPECT_NE(e.find("write '/a'"), std::string::npos) << e;
  EXPECT_NE(e.find("write '/b'"), std::string::npos) << e;
  EXPECT_NE(e.find("'/c%2fd' can never match a request"), std::string::npos) << e;
  EXPECT_NE(e.find(":6:"), std::string::npos) << e;  // file:line:col of the host
}

}  // namespace
}  // namespace regiongate::testing
