#pragma once
// The tokens tests' common ground: keys made once per test program
// (tests/tokens/token_keys.h), a verifier over all of them, and tokens
// signed as the identity provider would sign them.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/tokens/token_keys.h"
#include "tokens/token_verifier.h"

namespace regiongate::testing {

constexpr std::int64_t kNow = 1'800'000'000;

class TokenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!keys_) keys_ = new TestKeys();
  }
  static void TearDownTestSuite() {
    delete keys_;
    keys_ = nullptr;
  }

  // Every kind of key: the JWK Set (hs-1, ec-1, rsa-jwk) and three PEM files.
  static TokenConfig config() {
    TokenConfig c;
    c.enabled = true;
    c.keys = {{keys_->path("jwks.json"), "", {}},
              {keys_->path("rsa.pem"), "rsa-1", {}},
              {keys_->path("rsa2.pem"), "rsa-2", {}},
              {keys_->path("ec.pem"), "ec-pem", {}}};
    c.issuers = {"https://id.example.com"};
    c.audience = "regiongate";
    return c;
  }
  static std::shared_ptr<const TokenVerifier> verifier(const TokenConfig& c) {
    Diagnostics diags;
    auto v = TokenVerifier::load(c, diags);
    EXPECT_TRUE(v) << diags.format_all();
    return v;
  }
  static nlohmann::json claims() {
    return {{"iss", "https://id.example.com"}, {"aud", "regiongate"}, {"sub", "in-ravi"},
            {"country", "IN"}, {"exp", kNow + 600}, {"nbf", kNow - 60},
            {"consents", {"cloud-backup"}}};
  }
  // Signed by the private half of the key `kid` names.
  static std::string token(const std::string& alg, const std::string& kid,
                           const nlohmann::json& c = claims()) {
    nlohmann::json header = {{"alg", alg}, {"typ", "JWT"}};
    if (!kid.empty()) header["kid"] = kid;
    const std::string key = alg == "HS256"                        ? keys_->secret()
                            : alg == "ES256"                      ? std::string("ec.key")
                            : kid == "rsa-2" || kid == "rsa-jwk" ? std::string("rsa2.key")
                                                                  : std::string("rsa.key");
    return keys_->sign(header, c, key);
  }
  TokenStatus check(const std::string& t, std::int64_t now = kNow) {
    return v_->verify(t, now, out_);
  }

  static inline TestKeys* keys_ = nullptr;
  std::shared_ptr<const TokenVerifier> v_ = verifier(config());
  VerifiedToken out_;
};

}  // namespace regiongate::testing
