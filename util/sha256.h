#pragma once
// SHA-256 (OpenSSL) with the algorithm fetched once and one context reused:
// OpenSSL 3 looks EVP_sha256() up in its provider store (under a lock) on
// every one-shot digest, which costs more than hashing a short text. Keep
// one per thread (the audit chain's writer, each worker's token cache).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

struct evp_md_st;
struct evp_md_ctx_st;

namespace regiongate {

class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;

  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  Digest digest(std::string_view bytes);
  // The 64 hex digits of SHA-256(bytes), over `out`.
  void hex(std::string_view bytes, std::string& out);

  // One message in pieces: start(), add() each, then finish() or
  // finish_hex(). A one-shot digest() or hex() in between starts over.
  void start();
  void add(std::string_view bytes);
  Digest finish();
  void finish_hex(std::string& out);

 private:
  evp_md_st* md_;
  evp_md_ctx_st* ctx_;
};

}  // namespace regiongate
