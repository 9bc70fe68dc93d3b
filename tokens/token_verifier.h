#pragma once
// Verifying a signed token (a compact JWS carrying JWT claims):
// `authorization: Bearer <token>`. The signature is checked by cjose (JOSE,
// on OpenSSL) with the key its `kid` names, of the one algorithm that key
// is for: HS256 for a shared secret (JWK kty "oct"), RS256 for an RSA key,
// ES256 for an EC P-256 key. Any other algorithm, "none" included, is
// refused, and so is a token whose algorithm is not its key's (an HS256
// token "signed" with an RSA public key as the secret: algorithm confusion).
// Then exp, nbf (with the configured clock skew), iss and aud are checked,
// and the configured claims read: the account country, the account id and
// the consents.
//
// Keys come from JWK Set files (JSON, `{"keys": [...]}`) and PEM public
// keys (tokens/key_set.h), loaded with the snapshot on the reload thread (so
// a reload rotates them); several at once. Immutable once loaded: one
// verifier, held by the snapshot as a shared_ptr<const TokenVerifier>, is
// used by every worker at once, and verify() is safe from any thread.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "maps/country.h"
#include "tokens/token_config.h"
#include "util/diagnostics.h"

namespace regiongate {

class KeySet;

enum class TokenStatus : std::uint8_t {
  kValid,
  kMissing,        // no token where one is needed
  kTooLarge,       // longer than tokens.max_bytes: not parsed at all
  kMalformed,      // not three base64url parts, bad JSON, a claim of the wrong type
  kAlgNotAllowed,  // not HS256/RS256/ES256, or not the algorithm of its key
  kUnknownKid,     // no key by that kid
  kMissingKid,     // no kid, and several keys it could be for
  kBadSignature,
  kExpired,
  kNotYetValid,
  kMissingExp,
  kWrongIssuer,
  kWrongAudience,
  kBadCountry,     // the country claim is not an ISO 3166-1 alpha-2 code
};

// "token-expired", ...: the x-regiongate-reason of a 401.
std::string_view token_reason(TokenStatus status);
// A sentence for the 401's body and WWW-Authenticate error_description.
std::string_view token_description(TokenStatus status);

struct VerifiedToken {
  CountryId country = kNoCountry;  // from the country claim; kNoCountry: none
  std::string account_id;          // from the account claim; empty: none
  std::vector<std::string> consents;
  std::int64_t expires_at = 0;     // exp (unix seconds); 0: the token has none

  bool has_consent(std::string_view name) const;
};

class TokenVerifier {
 public:
  // Loads every key file named by `config`; nullptr (with every error in
  // `diags`, naming the file) when one cannot be used.
  static std::shared_ptr<const TokenVerifier> load(const TokenConfig& config, Diagnostics& diags);
  ~TokenVerifier();
  TokenVerifier(const TokenVerifier&) = delete;
  TokenVerifier& operator=(const TokenVerifier&) = delete;

  // Never throws; `out` is meaningful only for kValid.
  TokenStatus verify(std::string_view token, std::int64_t now, VerifiedToken& out) const noexcept;

  const TokenConfig& config() const { return config_; }
  std::size_t key_count() const;
  // Distinct for every load: a cache keeps verdicts of one verifier only.
  std::uint64_t generation() const { return generation_; }

 private:
  TokenVerifier(TokenConfig config, std::unique_ptr<const KeySet> keys);
  TokenStatus verify_signed(std::string_view token, std::int64_t now, VerifiedToken& out) const;

  TokenConfig config_;
  std::unique_ptr<const KeySet> keys_;  // never null
  std::uint64_t generation_;
};

}  // namespace regiongate
