#include "tokens/token_verifier.h"

#include <cjose/cjose.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace regiongate {

struct TokenVerifier::Key {
  std::string kid;
  std::string alg;  // the one algorithm the key verifies: "HS256", "RS256", "ES256"
  cjose_jwk_t* jwk = nullptr;
};

namespace {

constexpr std::size_t kMaxKeyFileBytes = 1 << 20;
constexpr std::size_t kMaxAccountIdBytes = 128;
constexpr std::size_t kMaxConsents = 64;
constexpr std::size_t kMaxConsentBytes = 64;

std::atomic<std::uint64_t> next_generation{1};

using Json = nlohmann::json;

struct JwsDeleter {
  void operator()(cjose_jws_t* j) const { cjose_jws_release(j); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CjoseBytes {
  uint8_t* data = nullptr;
  std::size_t size = 0;
  ~CjoseBytes() {
    if (data) cjose_get_dealloc()(data);
  }
};

// A key file: a regular file, at most kMaxKeyFileBytes, read whole.
bool read_key_file(const std::string& path, std::string* out, std::string* error) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    *error = "cannot read the key file: " + std::string(std::strerror(errno));
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = "the key file is not a regular file";
    return false;
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxKeyFileBytes) {
    *error = "the key file is larger than 1 MiB";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) {
    *error = "cannot read the key file";
    return false;
  }
  *out = text.str();
  return true;
}

std::string cjose_message(const cjose_err& err) {
  return err.message ? std::string(err.message) : std::string("unknown error");
}

// The algorithm a cjose key verifies, or "" for one the gateway does not take.
std::string algorithm_of(const cjose_jwk_t* jwk) {
  cjose_err err;
  switch (cjose_jwk_get_kty(jwk, &err)) {
    case CJOSE_JWK_KTY_OCT: return "HS256";
    case CJOSE_JWK_KTY_RSA: return "RS256";
    case CJOSE_JWK_KTY_EC:
      return cjose_jwk_EC_get_curve(jwk, &err) == CJOSE_JWK_EC_P_256 ? "ES256" : "";
  }
  return "";
}

std::vector<std::uint8_t> bn_param(const EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  std::vector<std::uint8_t> out;
  if (EVP_PKEY_get_bn_param(key, name, &bn) == 1) {
    out.resize(static_cast<std::size_t>(BN_num_bytes(bn)));
    BN_bn2bin(bn, out.data());
  }
  BN_free(bn);
  return out;
}

// A PEM public key (RSA, or EC on P-256) as a cjose key; null with *error.
cjose_jwk_t* jwk_from_pem(const std::string& text, std::string* error) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
      bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    *error = "not a PEM public key (-----BEGIN PUBLIC KEY-----)";
    return nullptr;
  }
  cjose_err err;
  cjose_jwk_t* jwk = nullptr;
  if (EVP_PKEY_is_a(key.get(), "RSA")) {
    std::vector<std::uint8_t> n = bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N);
    std::vector<std::uint8_t> e = bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E);
    if (n.size() < 256) {
      *error = "an RSA key of fewer than 2048 bits";
      return nullptr;
    }
    cjose_jwk_rsa_keyspec spec{};
    spec.n = n.data();
    spec.nlen = n.size();
    spec.e = e.data();
    spec.elen = e.size();
    jwk = cjose_jwk_create_RSA_spec(&spec, &err);
  } else if (EVP_PKEY_is_a(key.get(), "EC")) {
    char group[64] = {0};
    std::size_t group_length = 0;
    EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                   &group_length);
    std::uint8_t point[65];
    std::size_t point_length = 0;
    if (std::string_view(group) != "prime256v1" ||
        EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                        &point_length) != 1 ||
        point_length != 65 || point[0] != 0x04) {
      *error = "an EC key not on P-256 (ES256 needs prime256v1)";
      return nullptr;
    }
    cjose_jwk_ec_keyspec spec{};
    spec.crv = CJOSE_JWK_EC_P_256;
    spec.x = point + 1;
    spec.xlen = 32;
    spec.y = point + 33;
    spec.ylen = 32;
    jwk = cjose_jwk_create_EC_spec(&spec, &err);
  } else {
    *error = "neither an RSA nor an EC public key";
    return nullptr;
  }
  if (!jwk) *error = "cjose: " + cjose_message(err);
  return jwk;
}

// The base64url part of a compact JWS, decoded and parsed as a JSON object.
std::optional<Json> json_part(std::string_view part) {
  cjose_err err;
  CjoseBytes bytes;
  if (!cjose_base64url_decode(part.data(), part.size(), &bytes.data, &bytes.size, &err)) {
    return std::nullopt;
  }
  Json j = Json::parse(bytes.data, bytes.data + bytes.size, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  return j;
}

bool is_base64url(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
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

}  // namespace

std::string_view token_reason(TokenStatus s) {
  switch (s) {
    case TokenStatus::kValid: return "token-valid";
    case TokenStatus::kMissing: return "token-missing";
    case TokenStatus::kTooLarge: return "token-too-large";
    case TokenStatus::kMalformed: return "token-malformed";
    case TokenStatus::kAlgNotAllowed: return "token-alg-not-allowed";
    case TokenStatus::kUnknownKid: return "token-unknown-kid";
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

TokenVerifier::TokenVerifier(TokenConfig config)
    : config_(std::move(config)), generation_(next_generation.fetch_add(1)) {}

TokenVerifier::~TokenVerifier() {
  for (Key& k : keys_) cjose_jwk_release(k.jwk);
}

std::shared_ptr<const TokenVerifier> TokenVerifier::load(const TokenConfig& config,
                                                         Diagnostics& diags) {
  std::shared_ptr<TokenVerifier> v(new TokenVerifier(config));
  bool ok = true;
  auto fail = [&](const TokenKeyFile& f, const std::string& what) {
    diags.error(f.mark, "tokens.keys: " + f.path + ": " + what);
    ok = false;
  };
  auto add = [&](const TokenKeyFile& f, cjose_jwk_t* jwk, std::string kid) {
    Key key{std::move(kid), algorithm_of(jwk), jwk};
    if (key.alg.empty()) {
      cjose_jwk_release(jwk);
      fail(f, "key '" + key.kid + "' is not HMAC, RSA or EC P-256");
      return;
    }
    if (v->find_key(key.kid)) {
      cjose_jwk_release(jwk);
      fail(f, "kid '" + key.kid + "' is already used by another key");
      return;
    }
    v->keys_.push_back(std::move(key));
  };
  for (const TokenKeyFile& f : config.keys) {
    std::string text, error;
    if (!read_key_file(f.path, &text, &error)) {
      fail(f, error);
      continue;
    }
    if (text.find("-----BEGIN") != std::string::npos) {
      if (f.kid.empty()) {
        fail(f, "a PEM key needs a kid in the configuration");
        continue;
      }
      if (cjose_jwk_t* jwk = jwk_from_pem(text, &error)) {
        add(f, jwk, f.kid);
      } else {
        fail(f, error);
      }
      continue;
    }
    Json set = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!set.is_object() || !set.contains("keys") || !set["keys"].is_array()) {
      fail(f, "neither a PEM public key nor a JWK Set ({\"keys\": [...]})");
      continue;
    }
    if (!f.kid.empty()) fail(f, "kid is for PEM keys: a JWK Set names its own");
    for (const Json& k : set["keys"]) {
      if (!k.is_object() || !k.contains("kid") || !k["kid"].is_string() ||
          k["kid"].get_ref<const std::string&>().empty()) {
        fail(f, "every key of a JWK Set needs a kid");
        continue;
      }
      const std::string kid = k["kid"];
      if (k.contains("use") && k["use"] != "sig") continue;  // an encryption key: not ours
      const std::string dumped = k.dump();
      cjose_err err;
      cjose_jwk_t* jwk = cjose_jwk_import(dumped.data(), dumped.size(), &err);
      if (!jwk) {
        fail(f, "key '" + kid + "': " + cjose_message(err));
        continue;
      }
      // A key that names its algorithm must name the one it is for.
      if (k.contains("alg") && k["alg"] != algorithm_of(jwk)) {
        cjose_jwk_release(jwk);
        fail(f, "key '" + kid + "' names alg " + k["alg"].dump() + ", not its type's");
        continue;
      }
      add(f, jwk, kid);
    }
  }
  if (ok && v->keys_.empty()) {
    diags.error(SourceMark{}, "tokens.keys: no signing key was loaded");
    ok = false;
  }
  if (!ok) return nullptr;
  return v;
}

std::size_t TokenVerifier::key_count() const { return keys_.size(); }

const TokenVerifier::Key* TokenVerifier::find_key(std::string_view kid) const {
  for (const Key& k : keys_) {
    if (k.kid == kid) return &k;
  }
  return nullptr;
}

TokenStatus TokenVerifier::verify(std::string_view token, std::int64_t now,
                                  VerifiedToken& out) const noexcept {
  try {
    if (token.size() > config_.max_bytes) return TokenStatus::kTooLarge;
    // header.payload.signature, each base64url.
    const std::size_t dot1 = token.find('.');
    const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos ||
        !is_base64url(token.substr(0, dot1)) || !is_base64url(token.substr(dot1 + 1, dot2 - dot1 - 1)) ||
        !is_base64url(token.substr(dot2 + 1))) {
      return TokenStatus::kMalformed;
    }
    auto header = json_part(token.substr(0, dot1));
    if (!header || !header->contains("alg") || !(*header)["alg"].is_string()) {
      return TokenStatus::kMalformed;
    }
    if (header->contains("crit")) return TokenStatus::kMalformed;  // extensions we do not know
    const std::string& alg = (*header)["alg"].get_ref<const std::string&>();
    if (alg != "HS256" && alg != "RS256" && alg != "ES256") return TokenStatus::kAlgNotAllowed;
    const Key* key = nullptr;
    if (auto kid = header->find("kid"); kid != header->end()) {
      if (!kid->is_string()) return TokenStatus::kMalformed;
      key = find_key(kid->get_ref<const std::string&>());
    } else if (keys_.size() == 1) {
      key = &keys_[0];
    }
    if (!key) return TokenStatus::kUnknownKid;
    // Only the algorithm of the key: never an RSA or EC public key as an HMAC secret.
    if (key->alg != alg) return TokenStatus::kAlgNotAllowed;

    cjose_err err;
    std::unique_ptr<cjose_jws_t, JwsDeleter> jws(cjose_jws_import(token.data(), token.size(), &err));
    if (!jws) return TokenStatus::kMalformed;
    if (!cjose_jws_verify(jws.get(), key->jwk, &err)) return TokenStatus::kBadSignature;
    uint8_t* payload = nullptr;
    std::size_t payload_length = 0;
    if (!cjose_jws_get_plaintext(jws.get(), &payload, &payload_length, &err)) {
      return TokenStatus::kMalformed;
    }
    Json claims = Json::parse(payload, payload + payload_length, nullptr, /*allow_exceptions=*/false);
    if (!claims.is_object()) return TokenStatus::kMalformed;

    const std::int64_t skew = config_.clock_skew.count();
    std::int64_t exp = 0, nbf = 0;
    bool has_exp = false, has_nbf = false;
    if (!read_time(claims, "exp", &exp, &has_exp) || !read_time(claims, "nbf", &nbf, &has_nbf)) {
      return TokenStatus::kMalformed;
    }
    if (!has_exp && config_.require_exp) return TokenStatus::kMissingExp;
    if (has_exp && now >= exp + skew) return TokenStatus::kExpired;
    if (has_nbf && now + skew < nbf) return TokenStatus::kNotYetValid;
    if (!config_.issuers.empty()) {
      auto iss = claims.find("iss");
      if (iss == claims.end() || !iss->is_string() ||
          std::find(config_.issuers.begin(), config_.issuers.end(),
                    iss->get_ref<const std::string&>()) == config_.issuers.end()) {
        return TokenStatus::kWrongIssuer;
      }
    }
    if (!config_.audience.empty()) {
      auto aud = claims.find("aud");
      bool ours = false;
      if (aud != claims.end() && aud->is_string()) ours = *aud == config_.audience;
      if (aud != claims.end() && aud->is_array()) {
        for (const Json& a : *aud) ours = ours || (a.is_string() && a == config_.audience);
      }
      if (!ours) return TokenStatus::kWrongAudience;
    }
    VerifiedToken v;
    v.expires_at = has_exp ? exp : 0;
    if (auto c = claims.find(config_.country_claim); c != claims.end()) {
      std::optional<CountryId> id;
      if (c->is_string()) id = country_from_code_any_case(c->get_ref<const std::string&>());
      if (!id) return TokenStatus::kBadCountry;
      v.country = *id;
    }
    if (auto a = claims.find(config_.account_claim); a != claims.end()) {
      if (!a->is_string() || a->get_ref<const std::string&>().size() > kMaxAccountIdBytes) {
        return TokenStatus::kMalformed;
      }
      v.account_id = a->get<std::string>();
    }
    if (auto list = claims.find(config_.consents_claim); list != claims.end()) {
      if (!list->is_array() || list->size() > kMaxConsents) return TokenStatus::kMalformed;
      for (const Json& c : *list) {
        if (!c.is_string() || c.get_ref<const std::string&>().size() > kMaxConsentBytes) {
          return TokenStatus::kMalformed;
        }
        v.consents.push_back(c.get<std::string>());
      }
    }
    out = std::move(v);
    return TokenStatus::kValid;
  } catch (...) {
    // Only allocation can throw here; a token is refused, never let through.
    return TokenStatus::kMalformed;
  }
}

}  // namespace regiongate
