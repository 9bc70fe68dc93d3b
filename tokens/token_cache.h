#pragma once
// Verified tokens, remembered: a phone sends the same token with every
// request until it expires, and a signature check (RS256: tens of
// microseconds) per request would cost more than the rest of the request.
//
// Keyed by SHA-256 of the token (the token itself is not kept), holding its
// verified claims, never answered at or past the token's exp (a token
// without exp is kept kMaxUnexpiringSeconds at most), and only for the
// verifier that verified it (a reload with other keys starts afresh).
// Fixed capacity, CLOCK eviction. One per worker thread: no locks.

#include <array>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokens/token_verifier.h"

namespace regiongate {

class TokenCache {
 public:
  static constexpr std::int64_t kMaxUnexpiringSeconds = 300;

  explicit TokenCache(std::size_t capacity) : capacity_(capacity) {}

  // The verified claims of `token`, or null. Valid until the next insert().
  const VerifiedToken* find(std::string_view token, const TokenVerifier& verifier, std::int64_t now);
  // Remembers a token `verifier` found valid at `now`.
  void insert(std::string_view token, const TokenVerifier& verifier, std::int64_t now,
              const VerifiedToken& verified);

  std::size_t size() const { return index_.size(); }
  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }

 private:
  using Digest = std::array<std::uint8_t, 32>;
  struct DigestHash {
    std::size_t operator()(const Digest& d) const {
      std::size_t h;
      static_assert(sizeof h <= sizeof(Digest));
      __builtin_memcpy(&h, d.data(), sizeof h);  // already uniform: SHA-256
      return h;
    }
  };
  struct Entry {
    Digest digest{};
    std::uint64_t generation = 0;
    std::int64_t until = 0;  // answered while now < until
    bool referenced = false;
    VerifiedToken token;
  };
  static Digest digest_of(std::string_view token);
  std::size_t victim();

  const std::size_t capacity_;
  std::vector<Entry> entries_;
  std::unordered_map<Digest, std::size_t, DigestHash> index_;
  std::size_t hand_ = 0;
  std::uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace regiongate
