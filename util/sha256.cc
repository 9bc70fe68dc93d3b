#include "util/sha256.h"

#include <openssl/evp.h>

namespace regiongate {

Sha256::Sha256() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
  EVP_MD_free(md_);
}

void Sha256::start() { EVP_DigestInit_ex(ctx_, md_, nullptr); }

void Sha256::add(std::string_view bytes) { EVP_DigestUpdate(ctx_, bytes.data(), bytes.size()); }

Sha256::Digest Sha256::finish() {
  Digest d{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx_, d.data(), &length);
  return d;
}

Sha256::Digest Sha256::digest(std::string_view bytes) {
  start();
  add(bytes);
  return finish();
}

void Sha256::hex(std::string_view bytes, std::string& out) {
  start();
  add(bytes);
  finish_hex(out);
}

void Sha256::finish_hex(std::string& out) {
  const Digest d = finish();
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(2 * d.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 15];
  }
}

}  // namespace regiongate
