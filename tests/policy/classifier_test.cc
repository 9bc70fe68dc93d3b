#include <gtest/gtest.h>

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
  std::string classify(std::string_view host, std::string_view path) {
    ServiceId s = classifier_.classify(host, path);
    return s == kNoService ? "none" : p_.policy.services[s].name;
  }
  Compiled p_;
  ServiceClassifier classifier_;
};

TEST_F(ClassifierTest, ExactHostsMatchWhateverThePath) {
  EXPECT_EQ(classify("shop.example.com", "/"), "shop");
  EXPECT_EQ(classify("SHOP.Example.COM:443", "/cart"), "shop");
  EXPECT_EQ(classify("shop.example.com.", "/cart"), "shop");
}

TEST_F(ClassifierTest, PathPrefixesMatchWholeSegments) {
  EXPECT_EQ(classify("api.example.com", "/shop"), "shop");
  EXPECT_EQ(classify("api.example.com", "/shop/cart?x=1"), "shop");
  EXPECT_EQ(classify("api.example.com", "/shop?x=1"), "shop");
  EXPECT_EQ(classify("api.example.com", "/shopping"), "fallback");
  EXPECT_EQ(classify("api.example.com", "/cloud"), "cloud");
  EXPECT_EQ(classify("api.example.com", "/Cloud"), "fallback");  // paths are case-sensitive
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
  EXPECT_EQ(classify("user@shop.example.com", "/"), "shop");
  EXPECT_EQ(classify("[::1]:443", "/account"), "account");
  EXPECT_EQ(classify(std::string(300, 'a'), "/x"), "none");
}

}  // namespace
}  // namespace regiongate::testing
