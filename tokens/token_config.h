#pragma once
// The `tokens:` section of the configuration: where the verification keys
// are, which issuers and audience are accepted, the clock skew allowed, and
// which claims carry the account country, the account id and the consents.
//
//   tokens:
//     keys:
//       - file: keys/jwks.json        # a JWK Set: each key's kid is its own
//       - file: keys/rsa-2026.pem     # a PEM public key (RSA or EC P-256)
//         kid: rsa-2026
//     issuers: [https://id.example.com]
//     audience: regiongate
//     clock_skew: 60s
//     max_bytes: 8192
//     claims: {country: country, account: sub, consents: consents}
//     cache: {entries: 65536}
//     anonymous: refuse               # or allow: no token, no consents
//     forward: true                   # the data centre receives the token too
//
// Relative paths are relative to the configuration file.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/yaml_reader.h"

namespace regiongate {

struct TokenKeyFile {
  std::string path;
  std::string kid;  // PEM only: JWKs name their own
  SourceMark mark;
};

struct TokenConfig {
  bool enabled = false;  // the section is present
  std::vector<TokenKeyFile> keys;
  std::vector<std::string> issuers;  // empty: any issuer
  std::string audience;              // empty: any audience
  std::chrono::seconds clock_skew{60};
  std::size_t max_bytes = 8192;
  bool require_exp = true;
  std::string country_claim = "country";
  std::string account_claim = "sub";
  std::string consents_claim = "consents";
  std::size_t cache_entries = 65536;
  // Whether the data centre receives the authorization header. nghttp2
  // sends authorization never-indexed (RFC 7541 §7.1.3), so a long token is
  // Huffman-coded again on every request: about 13,000 instructions for 600
  // bytes. Off when the data centre trusts the gateway's verification.
  bool forward = true;
  // A request without a token: refused (401), or decided without one (the
  // account country from the other sources, no consents).
  enum class Anonymous : std::uint8_t { kRefuse, kAllow } anonymous = Anonymous::kRefuse;
};

TokenConfig read_token_config(const YAML::Node& node, std::string_view path, YamlContext& ctx);

}  // namespace regiongate
