// Verified tokens and consent through the real gateway: keys made by
// openssl, tokens signed as an identity provider would, requests sent by a
// real HTTP/2 client (h2_client.py) to data centres that report what they
// received (normalising_origin.py).

#include <gtest/gtest.h>

#include <fstream>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/python_peers.h"
#include "tests/integration/text_file.h"
#include "tests/tokens/token_keys.h"

namespace regiongate::testing {
namespace {

constexpr std::int64_t kNow = 1'435'708'800;  // 2015-07-01T00:00:00Z: India in phase 3
constexpr const char* kNowText = "2015-07-01T00:00:00Z";

class TokenGatewayTest : public GatewayFixture {
 protected:
  static void SetUpTestSuite() { keys_ = new TestKeys(); }
  static void TearDownTestSuite() { delete keys_; }

  // The example, with cloud and messaging opt-in and tokens verified.
  void configure(const std::string& anonymous = "refuse", const std::string& order = "",
                 const std::string& forward = "true") {
    std::string policy = read_text(dir_ / "policy.yaml");
    replace_first(policy, "  cloud:\n    match:\n", "  cloud:\n    consent: cloud-backup\n    match:\n");
    replace_first(policy, "  messaging:\n    match:\n", "  messaging:\n    consent: messaging\n    match:\n");
    write_text(dir_ / "policy.yaml", policy);
    std::string config = read_text(dir_ / "regiongate.yaml");
    replace_first(config, "identity:\n  order: [directory, geoip]\n",
            "identity:\n  order: [" + (order.empty() ? "token, token-account, directory, geoip" : order) +
                "]\n");
    replace_first(config, "\nserver:", "\ntokens:\n  keys:\n    - file: " + keys_->path("jwks.json") +
                                     "\n    - file: " + keys_->path("rsa.pem") +
                                     "\n      kid: rsa-1\n  issuers: [https://id.example.com]\n"
                                     "  audience: regiongate\n  anonymous: " + anonymous +
                                     "\n  forward: " + forward + "\n\nserver:");
    write_text(dir_ / "regiongate.yaml", config);
  }

  static std::string token(const nlohmann::json& extra = {}, const std::string& kid = "rsa-1",
                           std::int64_t exp = kNow + 600) {
    nlohmann::json claims = {{"iss", "https://id.example.com"}, {"aud", "regiongate"},
                             {"sub", "in-ravi"}, {"country", "IN"}, {"exp", exp}};
    for (auto& [k, v] : extra.items()) claims[k] = v;
    const std::string key = kid == "hs-1" ? keys_->secret() : kid == "ec-1" ? "ec.key" : "rsa.key";
    const std::string alg = kid == "hs-1" ? "HS256" : kid == "ec-1" ? "ES256" : "RS256";
    return keys_->sign({{"alg", alg}, {"kid", kid}}, claims, key);
  }
  // A GET of `path` on api.example.com with `authorization` (none when
  // empty) and no account header.
  static Request get(const std::string& path, const std::string& authorization) {
    Headers h = get_request(path, "");
    if (!authorization.empty()) h.emplace_back("authorization", authorization);
    return Request(h);
  }
  nlohmann::json send(const std::vector<Request>& requests) {
    return send_requests(base_.substr(base_.rfind(':') + 1), requests, dir_);
  }
  void start_every_origin() {
    for (const char* dc : kDataCenters) start_normalising_origin(dc);
  }
  std::size_t received_anywhere() {
    std::size_t n = 0;
    for (const char* dc : kDataCenters) n += origin_requests(origin_log(dc)).size();
    return n;
  }

  static TestKeys* keys_;
};
TestKeys* TokenGatewayTest::keys_ = nullptr;

TEST_F(TokenGatewayTest, TheTokensCountryDecidesAndTheOriginIsToldSo) {
  ASSERT_NO_FATAL_FAILURE(configure());
  ASSERT_NO_FATAL_FAILURE(start_every_origin());
  ASSERT_NO_FATAL_FAILURE(start_gateway(kNowText));
  // No account header, no GeoIP country for 127.0.0.1: only the token says India.
  nlohmann::json r = send({get("/shop/cart", "Bearer " + token()),
                           get("/shop/cart", "bearer " + token({}, "hs-1")),
                           get("/shop/cart", "Bearer " + token({}, "ec-1")),
                           get("/shop/cart", "Bearer " + token())});  // the cache's
  ASSERT_EQ(r.size(), 4u);
  for (const nlohmann::json& one : r) {
    ASSERT_EQ(one["status"], 200) << one.dump();
    EXPECT_EQ(one["headers"]["x-regiongate-dc"], "mumbai");  // India's own, from 2015-06-01
    nlohmann::json seen = nlohmann::json::parse(one["body"].get<std::string>());
    std::map<std::string, std::string> headers;
    for (const auto& h : seen["headers"]) headers[h[0]] = h[1];
    EXPECT_EQ(headers["x-regiongate-country"], "IN");
    EXPECT_EQ(headers["x-regiongate-country-source"], "token");
    EXPECT_EQ(headers.count("authorization"), 1u);  // the data centre may check it too
  }
  nlohmann::json m = metrics();
  EXPECT_EQ(metric_value(m, "regiongate_tokens_total", {{"outcome", "verified"}}), 3);
  EXPECT_EQ(metric_value(m, "regiongate_tokens_total", {{"outcome", "cached"}}), 1);
}

TEST_F(TokenGatewayTest, TheTokenStaysAtTheEdgeWhenNotForwarded) {
  ASSERT_NO_FATAL_FAILURE(configure("refuse", "", "false"));
  ASSERT_NO_FATAL_FAILURE(start_every_origin());
  ASSERT_NO_FATAL_FAILURE(start_gateway(kNowText));
  nlohmann::json r = send({get("/shop/cart", "Bearer " + token())});
  ASSERT_EQ(r[0]["status"], 200) << r.dump();
  nlohmann::json seen = nlohmann::json::parse(r[0]["body"].get<std::string>());
  for (const auto& h : seen["headers"]) EXPECT_NE(h[0], "authorization");
}

TEST_F(TokenGatewayTest, BadTokensAreRefusedWith401AndAChallenge) {
  ASSERT_NO_FATAL_FAILURE(configure());
  ASSERT_NO_FATAL_FAILURE(start_every_origin());
  ASSERT_NO_FATAL_FAILURE(start_gateway(kNowText));
  const std::string good = token();
  const std::string forged = good.substr(0, good.rfind('.') + 1) + b64url(std::string(256, 'x'));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "token-missing"},
      {"Basic dXNlcjpwYXNz", "token-malformed"},
      {"Bearer " + forged, "token-bad-signature"},
      {"Bearer " + token({}, "rsa-1", kNow - 3600), "token-expired"},
      {"Bearer " + token({{"nbf", kNow + 3600}}), "token-not-yet-valid"},
      {"Bearer " + token({{"iss", "https://evil.example.com"}}), "token-wrong-issuer"},
      {"Bearer " + token({{"aud", "someone-else"}}), "token-wrong-audience"},
      {"Bearer " + good.substr(0, 40), "token-malformed"},
      {"Bearer not.base64!.at-all", "token-malformed"},
  };
  std::vector<Request> requests;
  for (const auto& c : cases) requests.push_back(get("/shop/cart", c.first));
  nlohmann::json r = send(requests);
  ASSERT_EQ(r.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(r[i]["status"], 401) << cases[i].second << r[i].dump();
    EXPECT_EQ(r[i]["headers"]["x-regiongate-reason"], cases[i].second);
    const std::string challenge = r[i]["headers"].value("www-authenticate", "");
    EXPECT_EQ(challenge.rfind("Bearer realm=\"regiongate\"", 0), 0u) << challenge;
    EXPECT_EQ(challenge.find("invalid_token") != std::string::npos, i != 0) << challenge;
  }
  EXPECT_EQ(received_anywhere(), 0u);  // nothing reached any data centre
  // A doubled authorization header: which one would decide? Neither.
  Headers doubled = get_request("/shop/cart", "");
  doubled.emplace_back("authorization", "Bearer " + good);
  doubled.emplace_back("authorization", "Bearer " + good);
  nlohmann::json d = send({Request(doubled)});
  EXPECT_EQ(d[0]["status"], 400) << d.dump();
  nlohmann::json m = metrics();
  EXPECT_EQ(metric_value(m, "regiongate_denials_total", {{"reason", "token-expired"}}), 1);
  EXPECT_EQ(metric_value(m, "regiongate_tokens_total", {{"outcome", "token-missing"}}), 1);
}

TEST_F(TokenGatewayTest, OptInServicesNeedTheirConsentEverywhere) {
  ASSERT_NO_FATAL_FAILURE(configure());
  ASSERT_NO_FATAL_FAILURE(start_every_origin());
  ASSERT_NO_FATAL_FAILURE(start_gateway(kNowText));
  struct Case {
    std::string path;
    nlohmann::json consents;
    int status;
  };
  const std::vector<Case> cases = {
      {"/cloud/photos", nlohmann::json::array(), 403},
      {"/cloud/photos", {"messaging"}, 403},
      {"/cloud/photos", {"cloud-backup"}, 200},
      {"/messaging/inbox", nlohmann::json::array(), 403},
      {"/messaging/inbox", {"cloud-backup"}, 403},
      {"/messaging/inbox", {"messaging", "cloud-backup"}, 200},
      {"/shop/cart", nlohmann::json::array(), 200},  // not opt-in
  };
  for (const char* country : {"IN", "BR", "US", "CN"}) {
    std::vector<Request> requests;
    for (const Case& c : cases) {
      requests.push_back(get(c.path, "Bearer " + token({{"country", country}, {"consents", c.consents}})));
    }
    const std::size_t before = received_anywhere();
    nlohmann::json r = send(requests);
    ASSERT_EQ(r.size(), cases.size());
    std::size_t forwarded = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      EXPECT_EQ(r[i]["status"], cases[i].status) << country << " " << cases[i].path << " "
                                                 << cases[i].consents.dump() << r[i].dump();
      if (cases[i].status == 403) {
        EXPECT_EQ(r[i]["headers"]["x-regiongate-reason"], "consent-required");
        EXPECT_FALSE(r[i]["headers"].contains("x-regiongate-dc"));
      } else {
        ++forwarded;
      }
    }
    // Only the consented requests reached a data centre, in any country.
    ASSERT_TRUE(wait_until([&] { return received_anywhere() >= before + forwarded; }));
    EXPECT_EQ(received_anywhere(), before + forwarded) << country;
  }
  nlohmann::json m = metrics();
  EXPECT_EQ(metric_value(m, "regiongate_denials_total", {{"reason", "consent-required"}}), 4 * 4);
}

TEST_F(TokenGatewayTest, AnonymousRequestsMayFallBackWhenConfigured) {
  ASSERT_NO_FATAL_FAILURE(configure("allow", "token, directory, geoip"));
  ASSERT_NO_FATAL_FAILURE(start_every_origin());
  ASSERT_NO_FATAL_FAILURE(start_gateway(kNowText));
  // No token: the account header's directory entry decides, and no consent is held.
  Request shop(get_request("/shop/cart", "in-ravi"));
  Request cloud(get_request("/cloud/photos", "in-ravi"));
  // A bad token is still refused, never taken as "no token".
  Request forged = get("/shop/cart", "Bearer " + token().substr(0, 60));
  nlohmann::json r = send({shop, cloud, forged});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0]["status"], 200) << r[0].dump();
  EXPECT_EQ(r[0]["headers"]["x-regiongate-dc"], "mumbai");
  EXPECT_EQ(r[1]["status"], 403);
  EXPECT_EQ(r[2]["status"], 401);
}

TEST_F(TokenGatewayTest, ExplainTakesTheConsent) {
  ASSERT_NO_FATAL_FAILURE(configure());
  const std::string config = (dir_ / "regiongate.yaml").string();
  ProcessResult without = run_process({REGIONGATE_BINARY, "explain", "--config", config, "--country",
                                       "IN", "--service", "cloud", "--at", kNowText});
  ASSERT_EQ(without.exit_code, 0) << without.err;
  nlohmann::json j = nlohmann::json::parse(without.out);
  EXPECT_EQ(j["status"], 403);
  EXPECT_EQ(j["reason_code"], "consent-required");
  EXPECT_EQ(j["consent_needed"], "cloud-backup");
  EXPECT_TRUE(j["candidates"].empty());
  ProcessResult with = run_process({REGIONGATE_BINARY, "explain", "--config", config, "--country", "IN",
                                    "--service", "cloud", "--at", kNowText, "--consent", "cloud-backup"});
  ASSERT_EQ(with.exit_code, 0) << with.err;
  EXPECT_EQ(nlohmann::json::parse(with.out)["datacenter"], "mumbai");
  ProcessResult typo = run_process({REGIONGATE_BINARY, "explain", "--config", config, "--country", "IN",
                                    "--service", "cloud", "--consent", "cloud-backups"});
  EXPECT_NE(typo.exit_code, 0);
  EXPECT_NE(typo.err.find("unknown consent 'cloud-backups'"), std::string::npos) << typo.err;
  // check proves the refusal.
  ProcessResult check = run_process({REGIONGATE_BINARY, "check", "--config", config});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("Without its consent, no request for cloud (cloud-backup), messaging "
                           "(messaging) reaches any data centre"),
            std::string::npos)
      << check.out;
}

}  // namespace
}  // namespace regiongate::testing
