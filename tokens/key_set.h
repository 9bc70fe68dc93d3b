#pragma once
// The keys tokens are verified with, by kid: loaded from JWK Set files
// (JSON, `{"keys": [...]}`, each key naming its own kid) and PEM public keys
// (RSA or EC P-256, the kid given by the configuration). Each key verifies
// exactly one algorithm, fixed by its type when it is loaded: HS256 for a
// shared secret (JWK kty "oct", at least 256 bits as RFC 7518 §3.2 asks),
// RS256 for RSA (2048 bits or more), ES256 for EC P-256. HMAC secrets come
// only from JWKs: a PEM file is a public key, never a secret.
//
// Loaded on the reload thread; immutable afterwards, so one KeySet is read
// by every worker at once (cjose only reads a key to verify with it).
// Internal to tokens/: it shows cjose's types.

#include <cjose/jwk.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokens/token_config.h"
#include "util/diagnostics.h"

namespace regiongate {

struct CjoseJwkRelease {
  void operator()(cjose_jwk_t* jwk) const { cjose_jwk_release(jwk); }
};
using CjoseJwk = std::unique_ptr<cjose_jwk_t, CjoseJwkRelease>;

struct VerificationKey {
  std::string kid;
  std::string_view alg;  // "HS256", "RS256" or "ES256": the one it verifies
  CjoseJwk jwk;
};

class KeySet {
 public:
  // Every key of every file; nullopt when any file or key cannot be used,
  // with each problem in `diags` at the file's configuration mark, naming
  // the file. A set without keys is an error too.
  static std::optional<KeySet> load(std::span<const TokenKeyFile> files, Diagnostics& diags);

  const VerificationKey* find(std::string_view kid) const;
  // The key a token without a kid means: the only one, or null when there
  // are several (guessing would let one key's token pass as another's).
  const VerificationKey* only() const { return keys_.size() == 1 ? &keys_[0] : nullptr; }
  std::size_t size() const { return keys_.size(); }

 private:
  KeySet() = default;
  // Adds `jwk` as `kid` unless it is not a key tokens can be verified
  // with or the kid is taken; false with *error otherwise.
  bool add(std::string kid, CjoseJwk jwk, std::string* error);

  std::vector<VerificationKey> keys_;
};

}  // namespace regiongate
