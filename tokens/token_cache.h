#pragma once
// Verified tokens, remembered: a phone sends the same token with every
// request until it expires, and a signature check (RS256: about 30 µs,
// ES256: about 100 µs here) per request would cost more than the rest of
// the request.
//
// An entry holds the token's exact bytes and its verified claims; a lookup
// hashes the token to find its bucket and then compares the bytes, so no
// hash collision, crafted or not, can ever answer for another token (a
// cryptographic digest instead cost 0.4 µs a lookup, a third of a request).
// Only valid tokens get in (they need the keys to make), so nobody can fill
// a bucket on purpose. Never answered at or past the token's exp (a token
// without exp is kept kMaxUnexpiringSeconds at most), and only for the
// verifier that verified it (a reload with other keys starts afresh).
// Bounded in entries and in bytes, CLOCK eviction. One per worker thread:
// no locks.

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tokens/token_verifier.h"

namespace regiongate {

class TokenCache {
 public:
  static constexpr std::int64_t kMaxUnexpiringSeconds = 300;
  // Token bytes held at most (tokens.max_bytes bounds each).
  static constexpr std::size_t kMaxBytes = 32 << 20;

  explicit TokenCache(std::size_t capacity, std::size_t max_bytes = kMaxBytes)
      : capacity_(capacity), max_bytes_(max_bytes) {}

  // The verified claims of `token`, or null. Valid until the next insert().
  const VerifiedToken* find(std::string_view token, const TokenVerifier& verifier, std::int64_t now);
  // Remembers a token `verifier` found valid at `now`.
  void insert(std::string_view token, const TokenVerifier& verifier, std::int64_t now,
              const VerifiedToken& verified);

  std::size_t size() const { return index_.size(); }
  std::size_t bytes() const { return bytes_; }
  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }

 private:
  struct Entry {
    std::string token;  // empty: a free slot
    std::uint64_t generation = 0;
    std::int64_t until = 0;  // answered while now < until
    bool referenced = false;
    VerifiedToken claims;
  };
  std::size_t victim();
  void evict(std::size_t slot);

  const std::size_t capacity_;
  const std::size_t max_bytes_;
  std::deque<Entry> entries_;  // stable addresses: index_'s keys view their tokens
  std::unordered_map<std::string_view, std::size_t> index_;
  std::size_t hand_ = 0;
  std::size_t bytes_ = 0;
  std::uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace regiongate
