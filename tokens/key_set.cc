#include "tokens/key_set.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>

#include "util/regular_file.h"

namespace regiongate {
namespace {

// A key file: a regular file (util/regular_file.h) of at most 1 MiB; a
// JWK Set of many keys is a few tens of KB.
constexpr FileKind kKeyFile{"key file", 1 << 20};
constexpr std::size_t kMinRsaBits = 2048;
constexpr std::size_t kMinHmacBits = 256;  // RFC 7518 §3.2: no shorter than the hash

using Json = nlohmann::json;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::string cjose_message(const cjose_err& err) {
  return err.message ? std::string(err.message) : std::string("unknown error");
}

// The one algorithm a key verifies; empty, with *error, for a key that
// verifies none the gateway takes (or is too weak to be trusted).
std::string_view algorithm_of(const cjose_jwk_t* jwk, std::string* error) {
  cjose_err err{};
  const std::size_t bits = cjose_jwk_get_keysize(jwk, &err);
  switch (cjose_jwk_get_kty(jwk, &err)) {
    case CJOSE_JWK_KTY_OCT:
      if (bits >= kMinHmacBits) return "HS256";
      *error = "an HMAC secret of fewer than 256 bits";
      return "";
    case CJOSE_JWK_KTY_RSA:
      if (bits >= kMinRsaBits) return "RS256";
      *error = "an RSA key of fewer than 2048 bits";
      return "";
    case CJOSE_JWK_KTY_EC:
      if (cjose_jwk_EC_get_curve(jwk, &err) == CJOSE_JWK_EC_P_256) return "ES256";
      *error = "an EC key not on P-256 (ES256 needs P-256)";
      return "";
  }
  *error = "not an HMAC, RSA or EC key";
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

CjoseJwk rsa_jwk(const EVP_PKEY* key, std::string* error) {
  std::vector<std::uint8_t> n = bn_param(key, OSSL_PKEY_PARAM_RSA_N);
  std::vector<std::uint8_t> e = bn_param(key, OSSL_PKEY_PARAM_RSA_E);
  if (n.empty() || e.empty()) {
    *error = "an RSA key without its modulus or exponent";
    return nullptr;
  }
  cjose_jwk_rsa_keyspec spec{};
  spec.n = n.data();
  spec.nlen = n.size();
  spec.e = e.data();
  spec.elen = e.size();
  cjose_err err{};
  CjoseJwk jwk(cjose_jwk_create_RSA_spec(&spec, &err));
  if (!jwk) *error = "cjose: " + cjose_message(err);
  return jwk;
}

CjoseJwk ec_jwk(const EVP_PKEY* key, std::string* error) {
  char group[64] = {0};
  std::size_t group_length = 0;
  std::uint8_t point[65];
  std::size_t point_length = 0;
  // An uncompressed P-256 point: 0x04, then x and y of 32 bytes each.
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                     &group_length) != 1 ||
      std::string_view(group) != "prime256v1" ||
      EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
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
  cjose_err err{};
  CjoseJwk jwk(cjose_jwk_create_EC_spec(&spec, &err));
  if (!jwk) *error = "cjose: " + cjose_message(err);
  return jwk;
}

// A PEM public key (RSA, or EC on P-256) as a cjose key; null with *error.
CjoseJwk jwk_from_pem(const std::string& text, std::string* error) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    *error = "not a PEM public key (-----BEGIN PUBLIC KEY-----)";
    return nullptr;
  }
  if (EVP_PKEY_is_a(key.get(), "RSA")) return rsa_jwk(key.get(), error);
  if (EVP_PKEY_is_a(key.get(), "EC")) return ec_jwk(key.get(), error);
  *error = "neither an RSA nor an EC public key";
  return nullptr;
}

}  // namespace

bool KeySet::add(std::string kid, CjoseJwk jwk, std::string* error) {
  const std::string_view alg = algorithm_of(jwk.get(), error);
  if (alg.empty()) {
    *error = "key '" + kid + "': " + *error;
    return false;
  }
  if (find(kid)) {
    *error = "kid '" + kid + "' is already used by another key";
    return false;
  }
  keys_.push_back({std::move(kid), alg, std::move(jwk)});
  return true;
}

const VerificationKey* KeySet::find(std::string_view kid) const {
  for (const VerificationKey& k : keys_) {
    if (k.kid == kid) return &k;
  }
  return nullptr;
}

std::optional<KeySet> KeySet::load(std::span<const TokenKeyFile> files, Diagnostics& diags) {
  KeySet set;
  bool ok = true;
  auto fail = [&](const TokenKeyFile& f, const std::string& what) {
    diags.error(f.mark, "tokens.keys: " + f.path + ": " + what);
    ok = false;
  };
  for (const TokenKeyFile& f : files) {
    std::string text, error;
    if (!read_regular_file(f.path, kKeyFile, &text, &error)) {
      fail(f, error);
      continue;
    }
    if (text.find("-----BEGIN") != std::string::npos) {
      if (f.kid.empty()) {
        fail(f, "a PEM key needs a kid in the configuration");
      } else if (CjoseJwk jwk = jwk_from_pem(text, &error); !jwk || !set.add(f.kid, std::move(jwk), &error)) {
        fail(f, error);
      }
      continue;
    }
    const Json jwks = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) {
      fail(f, "neither a PEM public key nor a JWK Set ({\"keys\": [...]})");
      continue;
    }
    if (!f.kid.empty()) fail(f, "kid is for PEM keys: a JWK Set names its own");
    for (const Json& k : jwks["keys"]) {
      // An encryption key is not ours, kid or not.
      if (k.is_object() && k.contains("use") && k["use"] != "sig") continue;
      if (!k.is_object() || !k.contains("kid") || !k["kid"].is_string() ||
          k["kid"].get_ref<const std::string&>().empty()) {
        fail(f, "every key of a JWK Set needs a kid");
        continue;
      }
      const std::string kid = k["kid"];
      // An identity provider's JWK Set may also publish keys for algorithms
      // the gateway does not verify (EdDSA, P-384, RS512), for other
      // clients: those are passed over with a warning, and tokens naming
      // them are refused (token-unknown-kid). A malformed or weak key of a
      // kind the gateway does verify is still an error.
      auto pass_over = [&](const std::string& why) {
        diags.warning(f.mark, "tokens.keys: " + f.path + ": key '" + kid + "' passed over: " + why +
                                  "; tokens naming it are refused");
      };
      const std::string kty = k.contains("kty") && k["kty"].is_string() ? k["kty"].get<std::string>() : "";
      if (kty != "RSA" && kty != "EC" && kty != "oct") {
        pass_over("kty " + (kty.empty() ? std::string("missing") : "\"" + kty + "\"") +
                  " (only RSA, EC and oct keys verify RS256, ES256 and HS256)");
        continue;
      }
      if (kty == "EC" && !(k.contains("crv") && k["crv"] == "P-256")) {
        pass_over("not on P-256 (ES256 needs P-256)");
        continue;
      }
      const std::string one = k.dump();
      cjose_err err{};
      CjoseJwk jwk(cjose_jwk_import(one.data(), one.size(), &err));
      if (!jwk) {
        fail(f, "key '" + kid + "': " + cjose_message(err));
        continue;
      }
      // A key that names its algorithm must name the one its type verifies;
      // another of its own family (RS512 for an RSA key) is passed over.
      if (k.contains("alg")) {
        const std::string verifies(algorithm_of(jwk.get(), &error));
        if (!verifies.empty() && k["alg"] != verifies) {
          const std::string alg = k["alg"].is_string() ? k["alg"].get<std::string>() : "";
          const bool same_family = alg.size() == 5 && (alg.compare(0, 2, verifies, 0, 2) == 0 ||
                                                       (verifies == "RS256" && alg.starts_with("PS")));
          if (same_family) {
            pass_over("alg " + alg + " (only " + verifies + " with this key)");
          } else {
            fail(f, "key '" + kid + "' names alg " + k["alg"].dump() + ", not its type's");
          }
          continue;
        }
      }
      if (!set.add(kid, std::move(jwk), &error)) fail(f, error);
    }
  }
  if (ok && set.keys_.empty()) {
    diags.error(files.empty() ? SourceMark{} : files.front().mark,
                "tokens.keys: no signing key was loaded");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return set;
}

}  // namespace regiongate
