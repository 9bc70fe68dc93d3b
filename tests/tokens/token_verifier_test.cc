// Token verification with keys made by openssl and tokens signed like an
// identity provider's: every way a token can be wrong is refused with its
// own reason, and only the right key's own algorithm verifies.

#include "tokens/token_verifier.h"

#include <gtest/gtest.h>

#include "tests/tokens/token_keys.h"
#include "tokens/token_cache.h"

namespace regiongate::testing {
namespace {

using nlohmann::json;

constexpr std::int64_t kNow = 1'800'000'000;

class TokenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { keys_ = new TestKeys(); }
  static void TearDownTestSuite() { delete keys_; }

  TokenConfig config() const {
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
  std::shared_ptr<const TokenVerifier> verifier(const TokenConfig& c) {
    Diagnostics diags;
    auto v = TokenVerifier::load(c, diags);
    EXPECT_TRUE(v) << diags.format_all();
    return v;
  }
  static json claims() {
    return {{"iss", "https://id.example.com"}, {"aud", "regiongate"}, {"sub", "in-ravi"},
            {"country", "IN"}, {"exp", kNow + 600}, {"nbf", kNow - 60},
            {"consents", {"cloud-backup"}}};
  }
  static std::string token(const std::string& alg, const std::string& kid, const json& c = claims()) {
    json header = {{"alg", alg}, {"typ", "JWT"}};
    if (!kid.empty()) header["kid"] = kid;
    const std::string key = alg == "HS256"   ? keys_->secret()
                            : alg == "ES256" ? std::string("ec.key")
                            : kid == "rsa-2" ? std::string("rsa2.key")
                                             : std::string("rsa.key");
    return keys_->sign(header, c, key);
  }
  TokenStatus check(const std::string& t, std::int64_t now = kNow) {
    return v_->verify(t, now, out_);
  }

  static TestKeys* keys_;
  std::shared_ptr<const TokenVerifier> v_ = verifier(config());
  VerifiedToken out_;
};
TestKeys* TokenTest::keys_ = nullptr;

TEST_F(TokenTest, EachAlgorithmFromJwksAndPemVerifies) {
  ASSERT_EQ(v_->key_count(), 5u);
  for (auto [alg, kid] : {std::pair{"HS256", "hs-1"}, {"ES256", "ec-1"}, {"ES256", "ec-pem"},
                          {"RS256", "rsa-1"}, {"RS256", "rsa-2"}}) {
    ASSERT_EQ(check(token(alg, kid)), TokenStatus::kValid) << alg << " " << kid;
    EXPECT_EQ(country_code(out_.country), "IN");
    EXPECT_EQ(out_.account_id, "in-ravi");
    EXPECT_TRUE(out_.has_consent("cloud-backup"));
    EXPECT_FALSE(out_.has_consent("messaging"));
    EXPECT_EQ(out_.expires_at, kNow + 600);
  }
}

TEST_F(TokenTest, TimeIsCheckedWithTheClockSkew) {
  const std::string t = token("RS256", "rsa-1");
  EXPECT_EQ(check(t, kNow + 600 + 59), TokenStatus::kValid);  // within 60 s of skew
  EXPECT_EQ(check(t, kNow + 600 + 60), TokenStatus::kExpired);
  EXPECT_EQ(check(t, kNow - 60 - 60), TokenStatus::kValid);
  EXPECT_EQ(check(t, kNow - 60 - 61), TokenStatus::kNotYetValid);
  json no_exp = claims();
  no_exp.erase("exp");
  EXPECT_EQ(check(token("RS256", "rsa-1", no_exp)), TokenStatus::kMissingExp);
  json text_exp = claims();
  text_exp["exp"] = "tomorrow";
  EXPECT_EQ(check(token("RS256", "rsa-1", text_exp)), TokenStatus::kMalformed);
}

TEST_F(TokenTest, IssuerAndAudienceMustBeTheConfiguredOnes) {
  json c = claims();
  c["iss"] = "https://evil.example.com";
  EXPECT_EQ(check(token("ES256", "ec-1", c)), TokenStatus::kWrongIssuer);
  c = claims();
  c.erase("iss");
  EXPECT_EQ(check(token("ES256", "ec-1", c)), TokenStatus::kWrongIssuer);
  c = claims();
  c["aud"] = "someone-else";
  EXPECT_EQ(check(token("ES256", "ec-1", c)), TokenStatus::kWrongAudience);
  c["aud"] = {"someone-else", "regiongate"};
  EXPECT_EQ(check(token("ES256", "ec-1", c)), TokenStatus::kValid);
}

TEST_F(TokenTest, TheWrongKeyAndUnknownKidsAreRefused) {
  // Signed by rsa.key, claiming to be rsa-2's.
  json header = {{"alg", "RS256"}, {"kid", "rsa-2"}};
  EXPECT_EQ(check(keys_->sign(header, claims(), "rsa.key")), TokenStatus::kBadSignature);
  header["kid"] = "nobody";
  EXPECT_EQ(check(keys_->sign(header, claims(), "rsa.key")), TokenStatus::kUnknownKid);
  // Several keys: a token must say which.
  EXPECT_EQ(check(keys_->sign({{"alg", "RS256"}}, claims(), "rsa.key")), TokenStatus::kMissingKid);
  // Wrong HMAC secret.
  EXPECT_EQ(check(keys_->sign({{"alg", "HS256"}, {"kid", "hs-1"}}, claims(), "not the secret")),
            TokenStatus::kBadSignature);
}

TEST_F(TokenTest, AlgNoneAndAlgorithmConfusionAreRefused) {
  json c = claims();
  const std::string unsigned_token =
      b64url(json{{"alg", "none"}, {"kid", "rsa-1"}}.dump()) + "." + b64url(c.dump()) + ".";
  EXPECT_NE(check(unsigned_token), TokenStatus::kValid);
  const std::string none_with_sig =
      b64url(json{{"alg", "none"}, {"kid", "rsa-1"}}.dump()) + "." + b64url(c.dump()) + ".AAAA";
  EXPECT_EQ(check(none_with_sig), TokenStatus::kAlgNotAllowed);
  // HS256 "signed" with the RSA public key's PEM text as the HMAC secret.
  const std::string pem = TestKeys::read(keys_->path("rsa.pem"));
  EXPECT_EQ(check(keys_->sign({{"alg", "HS256"}, {"kid", "rsa-1"}}, c, pem)),
            TokenStatus::kAlgNotAllowed);
  // An RS256 token naming the HMAC key.
  EXPECT_EQ(check(keys_->sign({{"alg", "RS256"}, {"kid", "hs-1"}}, c, "rsa.key")),
            TokenStatus::kAlgNotAllowed);
  for (const char* alg : {"HS512", "RS384", "PS256", "ES384", "EdDSA", "NONE"}) {
    EXPECT_EQ(check(b64url(json{{"alg", alg}, {"kid", "rsa-1"}}.dump()) + "." + b64url(c.dump()) + ".AAAA"),
              TokenStatus::kAlgNotAllowed)
        << alg;
  }
}

TEST_F(TokenTest, MalformedTokensAreRefusedNotIgnored) {
  const std::string good = token("HS256", "hs-1");
  EXPECT_EQ(check(good.substr(0, good.size() - 5)), TokenStatus::kBadSignature);  // truncated signature
  EXPECT_EQ(check(good.substr(0, good.rfind('.'))), TokenStatus::kMalformed);     // two parts
  EXPECT_EQ(check(good.substr(0, 20)), TokenStatus::kMalformed);
  EXPECT_EQ(check(""), TokenStatus::kMalformed);
  EXPECT_EQ(check("a.b.c.d"), TokenStatus::kMalformed);
  EXPECT_EQ(check("not base64!.eyJ9.sig"), TokenStatus::kMalformed);
  EXPECT_EQ(check("%%%.%%%.%%%"), TokenStatus::kMalformed);
  EXPECT_EQ(check(b64url("{not json") + "." + b64url("{}") + ".AAAA"), TokenStatus::kMalformed);
  // Signed correctly, but the claims are not a JSON object.
  json header = {{"alg", "HS256"}, {"kid", "hs-1"}};
  std::string array_claims = keys_->sign(header, json::array({1, 2}), keys_->secret());
  EXPECT_EQ(check(array_claims), TokenStatus::kMalformed);
  EXPECT_EQ(check(std::string(20000, 'a')), TokenStatus::kTooLarge);
  json huge = claims();
  huge["padding"] = std::string(9000, 'x');
  EXPECT_EQ(check(token("HS256", "hs-1", huge)), TokenStatus::kTooLarge);
  // A critical extension it does not know.
  EXPECT_EQ(check(keys_->sign({{"alg", "HS256"}, {"kid", "hs-1"}, {"crit", {"exp"}}}, claims(),
                              keys_->secret())),
            TokenStatus::kMalformed);
}

TEST_F(TokenTest, ClaimsOfTheWrongKindAreRefused) {
  json c = claims();
  c["country"] = "XX";
  EXPECT_EQ(check(token("HS256", "hs-1", c)), TokenStatus::kBadCountry);
  c["country"] = 356;
  EXPECT_EQ(check(token("HS256", "hs-1", c)), TokenStatus::kBadCountry);
  c = claims();
  c["consents"] = "cloud-backup";  // not a list
  EXPECT_EQ(check(token("HS256", "hs-1", c)), TokenStatus::kMalformed);
  c = claims();
  c["sub"] = std::string(200, 'a');
  EXPECT_EQ(check(token("HS256", "hs-1", c)), TokenStatus::kMalformed);
  // No country claim: valid, the account country comes from elsewhere.
  c = claims();
  c.erase("country");
  ASSERT_EQ(check(token("HS256", "hs-1", c)), TokenStatus::kValid);
  EXPECT_EQ(out_.country, kNoCountry);
}

TEST_F(TokenTest, ConfiguredClaimNamesAreRead) {
  TokenConfig cfg = config();
  cfg.country_claim = "home_country";
  cfg.account_claim = "account";
  cfg.consents_claim = "opt_ins";
  auto v = verifier(cfg);
  json c = claims();
  c["home_country"] = "de";
  c["account"] = "de-anna";
  c["opt_ins"] = {"messaging"};
  VerifiedToken out;
  ASSERT_EQ(v->verify(token("HS256", "hs-1", c), kNow, out), TokenStatus::kValid);
  EXPECT_EQ(country_code(out.country), "DE");
  EXPECT_EQ(out.account_id, "de-anna");
  EXPECT_EQ(out.consents, std::vector<std::string>{"messaging"});
}

TEST_F(TokenTest, KeyFilesThatCannotBeUsedAreErrorsNamingTheFile) {
  TokenConfig c;
  c.keys = {{keys_->path("missing.pem"), "x", {}}, {"/dev/zero", "z", {}},
            {keys_->path("rsa.pem"), "", {}}, {keys_->path("secret.bin"), "", {}}};
  Diagnostics diags;
  EXPECT_FALSE(TokenVerifier::load(c, diags));
  const std::string all = diags.format_all();
  EXPECT_NE(all.find("missing.pem: cannot open the key file: No such file or directory"), std::string::npos) << all;
  EXPECT_NE(all.find("/dev/zero: the key file is not a regular file"), std::string::npos) << all;
  EXPECT_NE(all.find("rsa.pem: a PEM key needs a kid"), std::string::npos) << all;
  EXPECT_NE(all.find("secret.bin: neither a PEM public key nor a JWK Set"), std::string::npos) << all;
  // The same kid twice.
  c.keys = {{keys_->path("rsa.pem"), "k", {}}, {keys_->path("ec.pem"), "k", {}}};
  Diagnostics again;
  EXPECT_FALSE(TokenVerifier::load(c, again));
  EXPECT_NE(again.format_all().find("kid 'k' is already used"), std::string::npos);
}

TEST_F(TokenTest, TheCacheAnswersRepeatsUntilExpAndOnlyForItsVerifier) {
  TokenCache cache(2);
  const std::string t = token("RS256", "rsa-1");
  ASSERT_EQ(check(t), TokenStatus::kValid);
  EXPECT_EQ(cache.find(t, *v_, kNow), nullptr);
  cache.insert(t, *v_, kNow, out_);
  const VerifiedToken* hit = cache.find(t, *v_, kNow + 10);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->account_id, "in-ravi");
  EXPECT_EQ(cache.hits(), 1u);
  // Never at or past exp, skew or not.
  EXPECT_EQ(cache.find(t, *v_, kNow + 599), hit);
  EXPECT_EQ(cache.find(t, *v_, kNow + 600), nullptr);
  // A reloaded verifier (other keys, perhaps) does not trust this one's verdicts.
  cache.insert(t, *v_, kNow, out_);
  auto reloaded = verifier(config());
  EXPECT_NE(reloaded->generation(), v_->generation());
  EXPECT_EQ(cache.find(t, *reloaded, kNow), nullptr);
  // Bounded: a third token takes a slot.
  const std::string t2 = token("HS256", "hs-1"), t3 = token("ES256", "ec-1");
  cache.insert(t2, *v_, kNow, out_);
  cache.insert(t3, *v_, kNow, out_);
  EXPECT_LE(cache.size(), 2u);
  EXPECT_NE(cache.find(t3, *v_, kNow), nullptr);
  // A token that differs in one byte is another token, whatever it hashes to.
  std::string near = t3;
  near.back() = near.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(cache.find(near, *v_, kNow), nullptr);
}

TEST_F(TokenTest, TheCacheIsBoundedInBytes) {
  const std::string t = token("HS256", "hs-1");
  TokenCache cache(100, 3 * t.size());
  ASSERT_EQ(check(t), TokenStatus::kValid);
  for (int i = 0; i < 10; ++i) {
    cache.insert(t + std::to_string(i), *v_, kNow, out_);
    EXPECT_LE(cache.bytes(), 3 * t.size() + 2);
  }
  EXPECT_LE(cache.size(), 3u);
  EXPECT_NE(cache.find(t + "9", *v_, kNow), nullptr);  // the newest stays
}

}  // namespace
}  // namespace regiongate::testing
