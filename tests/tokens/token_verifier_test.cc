// Token verification with keys made by openssl and tokens signed like an
// identity provider's: every way a token can be wrong is refused with its
// own reason, and only the right key's own algorithm verifies.

#include "tokens/token_verifier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/tokens/token_fixture.h"

namespace regiongate::testing {
namespace {

using nlohmann::json;

TEST_F(TokenTest, EachAlgorithmFromJwksAndPemVerifies) {
  ASSERT_EQ(v_->key_count(), 6u);
  for (auto [alg, kid] : {std::pair{"HS256", "hs-1"}, {"ES256", "ec-1"}, {"ES256", "ec-pem"},
                          {"RS256", "rsa-jwk"}, {"RS256", "rsa-1"}, {"RS256", "rsa-2"}}) {
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
  EXPECT_NE(all.find("/dev/zero: the key file is not a regular file (a character device)"),
            std::string::npos) << all;
  EXPECT_NE(all.find("rsa.pem: a PEM key needs a kid"), std::string::npos) << all;
  EXPECT_NE(all.find("secret.bin: neither a PEM public key nor a JWK Set"), std::string::npos) << all;
  // The same kid twice.
  c.keys = {{keys_->path("rsa.pem"), "k", {}}, {keys_->path("ec.pem"), "k", {}}};
  Diagnostics again;
  EXPECT_FALSE(TokenVerifier::load(c, again));
  EXPECT_NE(again.format_all().find("kid 'k' is already used"), std::string::npos);
}

TEST_F(TokenTest, ASignedPayloadThatIsNotJsonIsMalformed) {
  const json header = {{"alg", "HS256"}, {"kid", "hs-1"}};
  EXPECT_EQ(check(keys_->sign_payload(header, "{\"exp\": 1", keys_->secret())), TokenStatus::kMalformed);
  EXPECT_EQ(check(keys_->sign_payload(header, "\xff\xfe", keys_->secret())), TokenStatus::kMalformed);
  // The same payload under a forged signature is a bad signature, not a parse.
  EXPECT_EQ(check(keys_->sign_payload(header, "{\"exp\": 1", "not the secret")),
            TokenStatus::kBadSignature);
}

TEST_F(TokenTest, RotationKeepsOldAndNewKeysValidUntilTheOldIsDropped) {
  TokenConfig both = config();
  both.keys = {{keys_->path("rsa.pem"), "rsa-2025", {}}, {keys_->path("rsa2.pem"), "rsa-2026", {}}};
  TokenConfig after = both;
  after.keys.erase(after.keys.begin());
  auto during = verifier(both), later = verifier(after);
  const std::string old_token = keys_->sign({{"alg", "RS256"}, {"kid", "rsa-2025"}}, claims(), "rsa.key");
  const std::string new_token = keys_->sign({{"alg", "RS256"}, {"kid", "rsa-2026"}}, claims(), "rsa2.key");
  VerifiedToken out;
  EXPECT_EQ(during->verify(old_token, kNow, out), TokenStatus::kValid);
  EXPECT_EQ(during->verify(new_token, kNow, out), TokenStatus::kValid);
  EXPECT_EQ(later->verify(old_token, kNow, out), TokenStatus::kUnknownKid);
  EXPECT_EQ(later->verify(new_token, kNow, out), TokenStatus::kValid);
  // With one key left, a token that names none means it.
  EXPECT_EQ(later->verify(keys_->sign({{"alg", "RS256"}}, claims(), "rsa2.key"), kNow, out),
            TokenStatus::kValid);
}

TEST_F(TokenTest, WeakKeysAndForeignPemKeysAreLoadErrors) {
  keys_->make_key("rsa1024", "-algorithm RSA -pkeyopt rsa_keygen_bits:1024");
  keys_->make_key("p384", "-algorithm EC -pkeyopt ec_paramgen_curve:P-384");
  TestKeys::write(keys_->path("weak.json"),
                  json{{"keys",
                        {{{"kty", "oct"}, {"kid", "short"}, {"k", b64url("sixteen bytes...")}},
                         {{"kty", "oct"}, {"kid", "misnamed"}, {"alg", "RS256"}, {"k", b64url(keys_->secret())}},
                         {{"kty", "oct"}, {"kid", "enc"}, {"use", "enc"}, {"k", b64url("x")}},
                         {{"kty", "oct"}, {"use", "enc"}, {"k", b64url("no kid")}},
                         {{"kty", "RSA"}, {"kid", "rsa-small"}, {"n", b64url("\x01\x02")}}}}}
                      .dump());
  TokenConfig c;
  c.keys = {{keys_->path("rsa1024.pem"), "r", {}}, {keys_->path("p384.pem"), "p", {}},
            {keys_->path("weak.json"), "", {}}};
  Diagnostics diags;
  EXPECT_FALSE(TokenVerifier::load(c, diags));
  const std::string all = diags.format_all();
  EXPECT_NE(all.find("rsa1024.pem: key 'r': an RSA key of fewer than 2048 bits"), std::string::npos) << all;
  EXPECT_NE(all.find("p384.pem: an EC key not on P-256"), std::string::npos) << all;
  EXPECT_NE(all.find("weak.json: key 'short': an HMAC secret of fewer than 256 bits"), std::string::npos) << all;
  EXPECT_NE(all.find("weak.json: key 'misnamed' names alg \"RS256\""), std::string::npos) << all;
  EXPECT_NE(all.find("weak.json: key 'rsa-small'"), std::string::npos) << all;
  // Encryption keys are passed over, with a kid or without.
  EXPECT_EQ(all.find("'enc'"), std::string::npos) << all;
  EXPECT_EQ(all.find("needs a kid"), std::string::npos) << all;
}

// An identity provider's JWK Set publishes keys for other clients too: the
// ones of algorithms the gateway does not verify are passed over with a
// warning, and the set's other keys work.
TEST_F(TokenTest, ForeignKeysOfAJwkSetArePassedOverWithAWarning) {
  json rs512 = keys_->rsa_public_jwk("rs512", "rsa2.key");
  rs512["alg"] = "RS512";
  json ps256 = keys_->rsa_public_jwk("ps256", "rsa2.key");
  ps256["alg"] = "PS256";
  TestKeys::write(keys_->path("idp.json"),
                  json{{"keys",
                        {keys_->rsa_public_jwk("good", "rsa2.key"), rs512, ps256,
                         {{"kty", "OKP"}, {"kid", "ed"}, {"crv", "Ed25519"}, {"x", b64url("x")}},
                         {{"kty", "EC"}, {"kid", "p384"}, {"crv", "P-384"}, {"x", b64url("x")},
                          {"y", b64url("y")}}}}}
                      .dump());
  TokenConfig c;
  c.keys = {{keys_->path("idp.json"), "", {}}};
  Diagnostics diags;
  auto verifier = TokenVerifier::load(c, diags);
  ASSERT_TRUE(verifier) << diags.format_all();
  const std::string all = diags.format_all();
  for (const char* kid : {"'rs512' passed over: alg RS512", "'ps256' passed over: alg PS256",
                          "'ed' passed over: kty \"OKP\"", "'p384' passed over: not on P-256"}) {
    EXPECT_NE(all.find(kid), std::string::npos) << kid << "\n" << all;
  }
  EXPECT_EQ(all.find("error"), std::string::npos) << all;
  VerifiedToken out;
  EXPECT_EQ(verifier->verify(keys_->sign({{"alg", "RS256"}, {"kid", "good"}}, claims(), "rsa2.key"), kNow, out),
            TokenStatus::kValid);
  EXPECT_EQ(verifier->verify(keys_->sign({{"alg", "RS256"}, {"kid", "rs512"}}, claims(), "rsa2.key"), kNow, out),
            TokenStatus::kUnknownKid);
}

TEST_F(TokenTest, AKeyFileOver1MiBIsNotRead) {
  TestKeys::write(keys_->path("huge.json"), std::string((1 << 20) + 1, ' '));
  TokenConfig c;
  c.keys = {{keys_->path("huge.json"), "", {}}};
  Diagnostics diags;
  EXPECT_FALSE(TokenVerifier::load(c, diags));
  EXPECT_NE(diags.format_all().find(
                "huge.json: the key file is 1048577 bytes, more than the 1 MiB allowed"),
            std::string::npos)
      << diags.format_all();
}

// One verifier is shared by every worker: verifying from several threads at
// once gives every thread the right answer (and is clean under the sanitizers).
TEST_F(TokenTest, OneVerifierServesSeveralThreadsAtOnce) {
  std::vector<std::string> tokens;
  for (auto [alg, kid] : {std::pair{"HS256", "hs-1"}, {"ES256", "ec-1"}, {"RS256", "rsa-1"}}) {
    tokens.push_back(token(alg, kid));
  }
  tokens.push_back(keys_->sign({{"alg", "HS256"}, {"kid", "rsa-1"}}, claims(), "forged"));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      VerifiedToken out;
      for (int i = 0; i < 50; ++i) {
        for (std::size_t k = 0; k < tokens.size(); ++k) {
          const TokenStatus want = k + 1 == tokens.size() ? TokenStatus::kAlgNotAllowed : TokenStatus::kValid;
          if (v_->verify(tokens[k], kNow, out) != want) ++wrong;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace regiongate::testing
