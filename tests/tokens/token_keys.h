#pragma once
// Keys made by the openssl CLI in a temporary directory, and tokens signed
// with them in-process (OpenSSL's EVP, cjose's base64url): what a real
// identity provider would issue, built fresh for each test run. Every step
// that can fail throws, so a test never runs on a half-made key.

#include <cjose/cjose.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
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
    std::string dir = (std::filesystem::temp_directory_path() / "regiongate-tokens-XXXXXX").string();
    if (!::mkdtemp(dir.data())) throw std::runtime_error("mkdtemp " + dir);
    dir_ = dir;
    make_key("rsa", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048");
    make_key("rsa2", "-algorithm RSA -pkeyopt rsa_keygen_bits:2048");
    make_key("ec", "-algorithm EC -pkeyopt ec_paramgen_curve:P-256");
    run("openssl rand -out " + path("secret.bin") + " 32");
    secret_ = read(path("secret.bin"));
    // A JWK Set with the HMAC secret, an EC and an RSA key, as an identity
    // provider publishes it.
    nlohmann::json set = {{"keys",
                           {{{"kty", "oct"}, {"kid", "hs-1"}, {"k", b64url(secret_)}},
                            ec_public_jwk("ec-1", "ec.key"),
                            rsa_public_jwk("rsa-jwk", "rsa2.key")}}};
    write(path("jwks.json"), set.dump());
  }
  ~TestKeys() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TestKeys(const TestKeys&) = delete;
  TestKeys& operator=(const TestKeys&) = delete;

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  const std::string& secret() const { return secret_; }

  // NAME.key (private) and NAME.pem (public) by `openssl genpkey ARGS`.
  void make_key(const std::string& name, const std::string& genpkey_args) const {
    run("openssl genpkey " + genpkey_args + " -out " + path(name + ".key"));
    run("openssl pkey -in " + path(name + ".key") + " -pubout -out " + path(name + ".pem"));
  }

  static std::string read(const std::string& p) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(p.c_str(), "rb"), std::fclose);
    if (!f) throw std::runtime_error("cannot read " + p);
    std::string s;
    char buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f.get())) > 0;) s.append(buf, n);
    if (std::ferror(f.get())) throw std::runtime_error("cannot read " + p);
    return s;
  }
  static void write(const std::string& p, const std::string& text) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(p.c_str(), "wb"), std::fclose);
    if (!f || std::fwrite(text.data(), 1, text.size(), f.get()) != text.size() ||
        std::fclose(f.release()) != 0) {
      throw std::runtime_error("cannot write " + p);
    }
  }

  // header.payload.signature, signed by the header's alg with `key`
  // ("rsa.key", "ec.key": files here; a raw HMAC secret for HS256).
  std::string sign(const nlohmann::json& header, const nlohmann::json& claims,
                   const std::string& key) const {
    return sign_payload(header, claims.dump(), key);
  }
  // The same with any payload bytes, JSON or not.
  std::string sign_payload(const nlohmann::json& header, const std::string& payload,
                           const std::string& key) const {
    const std::string input = b64url(header.dump()) + "." + b64url(payload);
    const std::string alg = header.value("alg", "");
    std::string sig;
    if (alg == "HS256") {
      unsigned char mac[32];
      unsigned int n = 0;
      if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &n)) {
        throw std::runtime_error("HMAC");
      }
      sig.assign(reinterpret_cast<char*>(mac), n);
    } else if (alg == "RS256" || alg == "ES256") {
      sig = evp_sign(path(key), input);
      if (alg == "ES256") sig = ecdsa_raw(sig);
    }
    return input + "." + b64url(sig);
  }

  nlohmann::json ec_public_jwk(const std::string& kid, const std::string& key_file) const {
    auto key = load_private(path(key_file));
    unsigned char point[65];
    std::size_t n = 0;
    if (EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                        &n) != 1 ||
        n != 65) {
      throw std::runtime_error("not a P-256 key: " + key_file);
    }
    return {{"kty", "EC"},
            {"crv", "P-256"},
            {"kid", kid},
            {"x", b64url(std::string(reinterpret_cast<char*>(point + 1), 32))},
            {"y", b64url(std::string(reinterpret_cast<char*>(point + 33), 32))}};
  }
  nlohmann::json rsa_public_jwk(const std::string& kid, const std::string& key_file) const {
    auto key = load_private(path(key_file));
    return {{"kty", "RSA"},
            {"kid", kid},
            {"n", b64url(bn_bytes(key.get(), OSSL_PKEY_PARAM_RSA_N))},
            {"e", b64url(bn_bytes(key.get(), OSSL_PKEY_PARAM_RSA_E))}};
  }

 private:
  using Pkey = std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)>;

  static void run(const std::string& command) {
    const int status = std::system((command + " >/dev/null 2>&1").c_str());
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      throw std::runtime_error("failed: " + command);
    }
  }
  static Pkey load_private(const std::string& p) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(p.c_str(), "rb"), std::fclose);
    Pkey k(f ? PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr) : nullptr, EVP_PKEY_free);
    if (!k) throw std::runtime_error("cannot load " + p);
    return k;
  }
  static std::string bn_bytes(const EVP_PKEY* key, const char* name) {
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) throw std::runtime_error(name);
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
  }
  static std::string evp_sign(const std::string& key_path, const std::string& input) {
    Pkey key = load_private(key_path);
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    std::size_t n = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &n, data, input.size()) != 1) {
      throw std::runtime_error("cannot sign with " + key_path);
    }
    std::string sig(n, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n, data,
                       input.size()) != 1) {
      throw std::runtime_error("cannot sign with " + key_path);
    }
    sig.resize(n);
    return sig;
  }
  // JWS wants r || s, 32 bytes each; OpenSSL gives DER.
  static std::string ecdsa_raw(const std::string& der) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<ECDSA_SIG, void (*)(ECDSA_SIG*)> s(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())), ECDSA_SIG_free);
    unsigned char raw[64];
    if (!s || BN_bn2binpad(ECDSA_SIG_get0_r(s.get()), raw, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(s.get()), raw + 32, 32) != 32) {
      throw std::runtime_error("not an ECDSA signature");
    }
    return std::string(reinterpret_cast<char*>(raw), 64);
  }

  std::filesystem::path dir_;
  std::string secret_;
};

}  // namespace regiongate::testing
