// Fuzzes token verification. Input: one byte of mode, then either
//   mode even: the token itself, as a client sends it;
//   mode odd:  a protected header and claims (JSON, split at the first
//              newline), signed here with the verifier's own HMAC key, so
//              that the fuzzer reaches the claim checks behind a valid
//              signature.
// Properties, each a trap when broken: verify never throws or crashes; a
// token is valid only with alg HS256 and the key's kid (nothing else can be
// signed here); a valid token's claims are within their bounds; and the same
// token verifies the same way twice.

#include <openssl/hmac.h>
#include <unistd.h>

#include <cjose/cjose.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

#include "tokens/token_verifier.h"

namespace {

using namespace regiongate;

constexpr char kSecret[] = "0123456789abcdef0123456789abcdef";
const TokenVerifier* verifier = nullptr;

std::string b64url(std::string_view bytes) {
  char* out = nullptr;
  std::size_t n = 0;
  cjose_err err;
  if (!cjose_base64url_encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out, &n, &err)) {
    return "";
  }
  std::string s(out, n);
  cjose_get_dealloc()(out);
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string path = "/tmp/regiongate-token-fuzzer-" + std::to_string(::getpid()) + ".json";
  std::ofstream(path) << R"({"keys": [{"kty": "oct", "kid": "hs-1", "k": ")" << b64url(kSecret)
                      << R"("}]})";
  TokenConfig config;
  config.keys = {{path, "", {}}};
  config.issuers = {"https://id.example.com"};
  config.audience = "regiongate";
  Diagnostics diags;
  static std::shared_ptr<const TokenVerifier> held = TokenVerifier::load(config, diags);
  std::remove(path.c_str());
  if (!held) std::abort();
  verifier = held.get();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string token;
  if (data[0] % 2 == 0) {
    token.assign(input);
  } else {
    const std::size_t newline = input.find('\n');
    const std::string_view header = input.substr(0, newline);
    const std::string_view claims = newline == std::string_view::npos ? "" : input.substr(newline + 1);
    token = b64url(header) + "." + b64url(claims);
    unsigned char mac[32];
    unsigned int n = 0;
    HMAC(EVP_sha256(), kSecret, sizeof kSecret - 1, reinterpret_cast<const unsigned char*>(token.data()),
         token.size(), mac, &n);
    token += "." + b64url(std::string_view(reinterpret_cast<char*>(mac), n));
  }
  VerifiedToken out, again;
  const TokenStatus s = verifier->verify(token, 1'800'000'000, out);
  if (verifier->verify(token, 1'800'000'000, again) != s) __builtin_trap();
  if (s == TokenStatus::kValid) {
    if (data[0] % 2 == 0 && token.find('.') == std::string::npos) __builtin_trap();
    if (out.account_id.size() > 128 || out.consents.size() > 64) __builtin_trap();
    if (out.account_id != again.account_id || out.country != again.country) __builtin_trap();
  }
  return 0;
}
