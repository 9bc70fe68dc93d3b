#pragma once
// Keys made by the openssl CLI in a temporary directory, and tokens signed
// with them in-process (OpenSSL's EVP, cjose's base64url): what a real
// identity provider would issue, built fresh for each test run.

#include <cjose/cjose.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace regiongate::testing {

inline std::string b64url(std::string_view bytes) {
  char* out = nullptr;
  std::size_t n = 0;
  cjose_err err;
  if (!cjose_base64url_encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out, &n,
                              &err)) {
    throw std::runtime_error("base64url");
  }
  std::string s(out, n);
  cjose_get_dealloc()(out);
  return s;
}

class TestKeys {
 public:
  TestKeys() {
    dir_ = std::filesystem::temp_directory_path() / ("regiongate-tokens-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + path("rsa.key"));
    run("openssl pkey -in " + path("rsa.key") + " -pubout -out " + path("rsa.pem"));
    run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + path("rsa2.key"));
    run("openssl pkey -in " + path("rsa2.key") + " -pubout -out " + path("rsa2.pem"));
    run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + path("ec.key"));
    run("openssl pkey -in " + path("ec.key") + " -pubout -out " + path("ec.pem"));
    run("openssl rand -out " + path("secret.bin") + " 32");
    secret_ = read(path("secret.bin"));
    // A JWK Set with the HMAC secret and the EC key, as an identity provider publishes it.
    nlohmann::json set = {{"keys",
                           {{{"kty", "oct"}, {"kid", "hs-1"}, {"k", b64url(secret_)}},
                            ec_public_jwk("ec-1")}}};
    write(path("jwks.json"), set.dump());
  }
  ~TestKeys() { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  const std::string& secret() const { return secret_; }
  static std::string read(const std::string& p) {
    std::FILE* f = std::fopen(p.c_str(), "rb");
    if (!f) throw std::runtime_error("cannot read " + p);
    std::string s;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
    std::fclose(f);
    return s;
  }
  static void write(const std::string& p, const std::string& text) {
    std::FILE* f = std::fopen(p.c_str(), "wb");
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }

  // header.payload.signature, signed by `alg` with `key` ("rsa.key",
  // "ec.key", or a raw HMAC secret for HS256).
  std::string sign(const nlohmann::json& header, const nlohmann::json& claims,
                   const std::string& key) const {
    const std::string input = b64url(header.dump()) + "." + b64url(claims.dump());
    const std::string alg = header.value("alg", "");
    std::string sig;
    if (alg == "HS256") {
      unsigned char mac[32];
      unsigned int n = 0;
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &n);
      sig.assign(reinterpret_cast<char*>(mac), n);
    } else if (alg == "RS256" || alg == "ES256") {
      sig = evp_sign(path(key), input);
      if (alg == "ES256") sig = ecdsa_raw(sig);
    }
    return input + "." + b64url(sig);
  }

 private:
  static void run(const std::string& command) {
    if (std::system((command + " >/dev/null 2>&1").c_str()) != 0) {
      throw std::runtime_error("failed: " + command);
    }
  }
  static EVP_PKEY* load_private(const std::string& p) {
    std::FILE* f = std::fopen(p.c_str(), "rb");
    EVP_PKEY* k = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (!k) throw std::runtime_error("cannot load " + p);
    return k;
  }
  static std::string evp_sign(const std::string& key_path, const std::string& input) {
    EVP_PKEY* key = load_private(key_path);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::size_t n = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    std::string sig(n, '\0');
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &n,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    sig.resize(n);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return sig;
  }
  // JWS wants r || s, 32 bytes each; OpenSSL gives DER.
  static std::string ecdsa_raw(const std::string& der) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    unsigned char raw[64];
    BN_bn2binpad(ECDSA_SIG_get0_r(s), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(s), raw + 32, 32);
    ECDSA_SIG_free(s);
    return std::string(reinterpret_cast<char*>(raw), 64);
  }
  nlohmann::json ec_public_jwk(const std::string& kid) const {
    EVP_PKEY* key = load_private(path("ec.key"));
    unsigned char point[65];
    std::size_t n = 0;
    EVP_PKEY_get_octet_string_param(key, "pub", point, sizeof point, &n);
    EVP_PKEY_free(key);
    return {{"kty", "EC"},
            {"crv", "P-256"},
            {"kid", kid},
            {"x", b64url(std::string(reinterpret_cast<char*>(point + 1), 32))},
            {"y", b64url(std::string(reinterpret_cast<char*>(point + 33), 32))}};
  }

  std::filesystem::path dir_;
  std::string secret_;
};

}  // namespace regiongate::testing
