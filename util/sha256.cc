#include "util/sha256.h"

#include <openssl/evp.h>

namespace regiongate {

Sha256::Sha256() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
  EVP_MD_free(md_);
}

Sha256::Digest Sha256::digest(std::string_view bytes) {
  Digest d{};
  unsigned int length = 0;
  EVP_DigestInit_ex(ctx_, md_, nullptr);
  EVP_DigestUpdate(ctx_, bytes.data(), bytes.size());
  EVP_DigestFinal_ex(ctx_, d.data(), &length);
  return d;
}

void Sha256::hex(std::string_view bytes, std::string& out) {
  const Digest d = digest(bytes);
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(2 * d.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = kHex[d[i] >> 4];
    out[2 * i + 1] = kHex[d[i] & 15];
  }
}

}  // namespace regiongate
