// Verifying a bearer token, per algorithm, and a hit in the worker's cache
// of verified tokens: what a request pays when its phone sends a token the
// gateway has not seen (uncached) and every time after (cached). Keys are
// made by openssl at start (tests/tokens/token_keys.h), as in the tests.

#include <benchmark/benchmark.h>

#include "tests/tokens/token_keys.h"
#include "tokens/token_cache.h"

namespace regiongate {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

struct Setup {
  testing::TestKeys keys;
  std::shared_ptr<const TokenVerifier> verifier;
  Setup() {
    TokenConfig c;
    c.keys = {{keys.path("jwks.json"), "", {}}, {keys.path("rsa.pem"), "rsa-1", {}}};
    c.issuers = {"https://id.example.com"};
    c.audience = "regiongate";
    Diagnostics diags;
    verifier = TokenVerifier::load(c, diags);
    if (!verifier) throw std::runtime_error(diags.format_all());
  }
  std::string token(const std::string& alg, int n = 0) const {
    nlohmann::json claims = {{"iss", "https://id.example.com"}, {"aud", "regiongate"},
                             {"sub", "acct-" + std::to_string(n)}, {"country", "IN"},
                             {"exp", kNow + 3600}, {"consents", {"cloud-backup"}}};
    if (alg == "HS256") return keys.sign({{"alg", alg}, {"kid", "hs-1"}}, claims, keys.secret());
    if (alg == "ES256") return keys.sign({{"alg", alg}, {"kid", "ec-1"}}, claims, "ec.key");
    return keys.sign({{"alg", alg}, {"kid", "rsa-1"}}, claims, "rsa.key");
  }
};

const Setup& setup() {
  static const Setup s;
  return s;
}

void verify(benchmark::State& state, const char* alg) {
  const std::string t = setup().token(alg);
  VerifiedToken out;
  for (auto _ : state) {
    TokenStatus s = setup().verifier->verify(t, kNow, out);
    if (s != TokenStatus::kValid) state.SkipWithError("not valid");
    benchmark::DoNotOptimize(out);
  }
}
void BM_TokenVerifyHS256(benchmark::State& s) { verify(s, "HS256"); }
void BM_TokenVerifyRS256(benchmark::State& s) { verify(s, "RS256"); }
void BM_TokenVerifyES256(benchmark::State& s) { verify(s, "ES256"); }
BENCHMARK(BM_TokenVerifyHS256);
BENCHMARK(BM_TokenVerifyRS256);
BENCHMARK(BM_TokenVerifyES256);

// A hit among 10,000 tokens held (one worker's phones), looked up in turn.
void BM_TokenCacheHit(benchmark::State& state) {
  constexpr int kTokens = 10'000;
  std::vector<std::string> tokens;
  TokenCache cache(65536);
  VerifiedToken v;
  const std::string one = setup().token("HS256");
  setup().verifier->verify(one, kNow, v);
  for (int i = 0; i < kTokens; ++i) {
    // Distinct tokens of realistic length; their claims need not differ.
    tokens.push_back(one + std::to_string(i));
    cache.insert(tokens.back(), *setup().verifier, kNow, v);
  }
  std::size_t i = 0;
  for (auto _ : state) {
    const VerifiedToken* hit = cache.find(tokens[i], *setup().verifier, kNow);
    if (!hit) state.SkipWithError("miss");
    benchmark::DoNotOptimize(hit);
    i = (i + 1) % tokens.size();
  }
  state.counters["token_bytes"] = static_cast<double>(one.size());
}
BENCHMARK(BM_TokenCacheHit);

}  // namespace
}  // namespace regiongate
