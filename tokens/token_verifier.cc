#include "tokens/token_verifier.h"

#include <cjose/cjose.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>

#include "tokens/key_set.h"

namespace regiongate {
namespace {

constexpr std::size_t kMaxAccountIdBytes = 128;
constexpr std::size_t kMaxConsents = 64;
constexpr std::size_t kMaxConsentBytes = 64;

std::atomic<std::uint64_t> next_generation{1};

using Json = nlohmann::json;

struct CjoseJwsRelease {
  void operator()(cjose_jws_t* jws) const { cjose_jws_release(jws); }
};
// Bytes cjose allocated and hands over.
struct CjoseBytes {
  uint8_t* data = nullptr;
  std::size_t size = 0;
  ~CjoseBytes() {
    if (data) cjose_get_dealloc()(data);
  }
};

bool is_base64url(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

// The header of a compact JWS (header.payload.signature, each part
// base64url) as a JSON object; nullopt for anything else.
std::optional<Json> compact_header(std::string_view token) {
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos ||
      !is_base64url(token.substr(0, dot1)) || !is_base64url(token.substr(dot1 + 1, dot2 - dot1 - 1)) ||
      !is_base64url(token.substr(dot2 + 1))) {
    return std::nullopt;
  }
  cjose_err err{};
  CjoseBytes bytes;
  if (!cjose_base64url_decode(token.data(), dot1, &bytes.data, &bytes.size, &err)) return std::nullopt;
  Json header = Json::parse(bytes.data, bytes.data + bytes.size, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return std::nullopt;
  return header;
}

bool allowed_algorithm(std::string_view alg) {
  return alg == "HS256" || alg == "RS256" || alg == "ES256";
}

// The key the header names, if it names an algorithm the key verifies.
TokenStatus select_key(const Json& header, const KeySet& keys, const VerificationKey** key) {
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return TokenStatus::kMalformed;
  if (header.contains("crit")) return TokenStatus::kMalformed;  // extensions we do not know
  const std::string& name = alg->get_ref<const std::string&>();
  if (!allowed_algorithm(name)) return TokenStatus::kAlgNotAllowed;
  if (auto kid = header.find("kid"); kid != header.end()) {
    if (!kid->is_string()) return TokenStatus::kMalformed;
    *key = keys.find(kid->get_ref<const std::string&>());
    if (!*key) return TokenStatus::kUnknownKid;
  } else {
    *key = keys.only();
    if (!*key) return TokenStatus::kMissingKid;
  }
  // Only the algorithm of the key: never an RSA or EC public key as an HMAC secret.
  if ((*key)->alg != name) return TokenStatus::kAlgNotAllowed;
  return TokenStatus::kValid;
}

// cjose reads the header again with its own JSON parser (jansson), and
// verifies with the algorithm *it* reads. Two parsers may disagree on odd
// input (a repeated "alg", an escape one of them refuses), so the
// algorithm cjose will use must be the key's too.
bool cjose_agrees_on_alg(cjose_jws_t* jws, const VerificationKey& key) {
  cjose_err err{};
  const char* alg = cjose_header_get(cjose_jws_get_protected(jws), CJOSE_HDR_ALG, &err);
  return alg != nullptr && key.alg == alg;
}

// A NumericDate claim (RFC 7519 §2): a JSON number of seconds.
bool read_time(const Json& claims, const char* name, std::int64_t* out, bool* present) {
  auto it = claims.find(name);
  *present = it != claims.end();
  if (!*present) return true;
  if (!it->is_number()) return false;
  const double v = it->get<double>();
  if (!(v > -1e15 && v < 1e15)) return false;
  *out = static_cast<std::int64_t>(v);
  return true;
}

TokenStatus check_time(const Json& claims, const TokenConfig& config, std::int64_t now,
                       std::int64_t* expires_at) {
  const std::int64_t skew = config.clock_skew.count();
  std::int64_t exp = 0, nbf = 0;
  bool has_exp = false, has_nbf = false;
  if (!read_time(claims, "exp", &exp, &has_exp) || !read_time(claims, "nbf", &nbf, &has_nbf)) {
    return TokenStatus::kMalformed;
  }
  if (!has_exp && config.require_exp) return TokenStatus::kMissingExp;
  if (has_exp && now >= exp + skew) return TokenStatus::kExpired;
  if (has_nbf && now + skew < nbf) return TokenStatus::kNotYetValid;
  *expires_at = has_exp ? exp : 0;
  return TokenStatus::kValid;
}

TokenStatus check_issuer_and_audience(const Json& claims, const TokenConfig& config) {
  if (!config.issuers.empty()) {
    auto iss = claims.find("iss");
    if (iss == claims.end() || !iss->is_string() ||
        std::find(config.issuers.begin(), config.issuers.end(),
                  iss->get_ref<const std::string&>()) == config.issuers.end()) {
      return TokenStatus::kWrongIssuer;
    }
  }
  if (!config.audience.empty()) {
    auto aud = claims.find("aud");
    bool ours = false;
    if (aud != claims.end() && aud->is_string()) ours = *aud == config.audience;
    if (aud != claims.end() && aud->is_array()) {
      for (const Json& a : *aud) ours = ours || (a.is_string() && a == config.audience);
    }
    if (!ours) return TokenStatus::kWrongAudience;
  }
  return TokenStatus::kValid;
}

// The configured claims: the account country, the account id, the consents.
TokenStatus read_account_claims(const Json& claims, const TokenConfig& config, VerifiedToken& v) {
  if (auto c = claims.find(config.country_claim); c != claims.end()) {
    std::optional<CountryId> id;
    if (c->is_string()) id = country_from_code_any_case(c->get_ref<const std::string&>());
    if (!id) return TokenStatus::kBadCountry;
    v.country = *id;
  }
  if (auto a = claims.find(config.account_claim); a != claims.end()) {
    if (!a->is_string() || a->get_ref<const std::string&>().size() > kMaxAccountIdBytes) {
      return TokenStatus::kMalformed;
    }
    v.account_id = a->get<std::string>();
  }
  if (auto list = claims.find(config.consents_claim); list != claims.end()) {
    if (!list->is_array() || list->size() > kMaxConsents) return TokenStatus::kMalformed;
    for (const Json& c : *list) {
      if (!c.is_string() || c.get_ref<const std::string&>().size() > kMaxConsentBytes) {
        return TokenStatus::kMalformed;
      }
      v.consents.push_back(c.get<std::string>());
    }
  }
  return TokenStatus::kValid;
}

}  // namespace

std::string_view token_reason(TokenStatus s) {
  switch (s) {
    case TokenStatus::kValid: return "token-valid";
    case TokenStatus::kMissing: return "token-missing";
    case TokenStatus::kTooLarge: return "token-too-large";
    case TokenStatus::kMalformed: return "token-malformed";
    case TokenStatus::kAlgNotAllowed: return "token-alg-not-allowed";
    case TokenStatus::kUnknownKid: return "token-unknown-kid";
    case TokenStatus::kMissingKid: return "token-missing-kid";
    case TokenStatus::kBadSignature: return "token-bad-signature";
    case TokenStatus::kExpired: return "token-expired";
    case TokenStatus::kNotYetValid: return "token-not-yet-valid";
    case TokenStatus::kMissingExp: return "token-missing-exp";
    case TokenStatus::kWrongIssuer: return "token-wrong-issuer";
    case TokenStatus::kWrongAudience: return "token-wrong-audience";
    case TokenStatus::kBadCountry: return "token-bad-country";
  }
  return "token-malformed";
}

std::string_view token_description(TokenStatus s) {
  switch (s) {
    case TokenStatus::kValid: return "the token is valid";
    case TokenStatus::kMissing: return "a bearer token is required";
    case TokenStatus::kTooLarge: return "the token is too large";
    case TokenStatus::kMalformed: return "the token is not a well-formed signed JWT";
    case TokenStatus::kAlgNotAllowed: return "the token's algorithm is not allowed for its key";
    case TokenStatus::kUnknownKid: return "the token names no known key";
    case TokenStatus::kMissingKid: return "the token names no key, and there are several";
    case TokenStatus::kBadSignature: return "the token's signature does not verify";
    case TokenStatus::kExpired: return "the token has expired";
    case TokenStatus::kNotYetValid: return "the token is not valid yet";
    case TokenStatus::kMissingExp: return "the token has no expiry";
    case TokenStatus::kWrongIssuer: return "the token's issuer is not accepted";
    case TokenStatus::kWrongAudience: return "the token is not for this audience";
    case TokenStatus::kBadCountry: return "the token's country claim is not a country code";
  }
  return "the token is not valid";
}

bool VerifiedToken::has_consent(std::string_view name) const {
  return std::find(consents.begin(), consents.end(), name) != consents.end();
}

TokenVerifier::TokenVerifier(TokenConfig config, std::unique_ptr<const KeySet> keys)
    : config_(std::move(config)), keys_(std::move(keys)), generation_(next_generation.fetch_add(1)) {}

TokenVerifier::~TokenVerifier() = default;

std::shared_ptr<const TokenVerifier> TokenVerifier::load(const TokenConfig& config,
                                                         Diagnostics& diags) {
  std::optional<KeySet> keys = KeySet::load(config.keys, diags);
  if (!keys) return nullptr;
  return std::shared_ptr<const TokenVerifier>(
      new TokenVerifier(config, std::make_unique<const KeySet>(std::move(*keys))));
}

std::size_t TokenVerifier::key_count() const { return keys_->size(); }

TokenStatus TokenVerifier::verify(std::string_view token, std::int64_t now,
                                  VerifiedToken& out) const noexcept {
  // Only allocation can throw in there; a token is refused, never let through.
  try {
    if (token.size() > config_.max_bytes) return TokenStatus::kTooLarge;
    return verify_signed(token, now, out);
  } catch (...) {
    return TokenStatus::kMalformed;
  }
}

// The header picks the key; the signature is checked before any claim is read.
TokenStatus TokenVerifier::verify_signed(std::string_view token, std::int64_t now,
                                         VerifiedToken& out) const {
  std::optional<Json> header = compact_header(token);
  if (!header) return TokenStatus::kMalformed;
  const VerificationKey* key = nullptr;
  if (TokenStatus s = select_key(*header, *keys_, &key); s != TokenStatus::kValid) return s;

  cjose_err err{};
  std::unique_ptr<cjose_jws_t, CjoseJwsRelease> jws(cjose_jws_import(token.data(), token.size(), &err));
  if (!jws) return TokenStatus::kMalformed;
  if (!cjose_agrees_on_alg(jws.get(), *key)) return TokenStatus::kAlgNotAllowed;
  if (!cjose_jws_verify(jws.get(), key->jwk.get(), &err)) return TokenStatus::kBadSignature;
  uint8_t* payload = nullptr;  // owned by the JWS
  std::size_t payload_length = 0;
  if (!cjose_jws_get_plaintext(jws.get(), &payload, &payload_length, &err)) {
    return TokenStatus::kMalformed;
  }
  const Json claims = Json::parse(payload, payload + payload_length, nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object()) return TokenStatus::kMalformed;

  VerifiedToken v;
  if (TokenStatus s = check_time(claims, config_, now, &v.expires_at); s != TokenStatus::kValid) return s;
  if (TokenStatus s = check_issuer_and_audience(claims, config_); s != TokenStatus::kValid) return s;
  if (TokenStatus s = read_account_claims(claims, config_, v); s != TokenStatus::kValid) return s;
  out = std::move(v);
  return TokenStatus::kValid;
}

}  // namespace regiongate
