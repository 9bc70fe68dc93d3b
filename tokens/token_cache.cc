#include "tokens/token_cache.h"

#include <openssl/sha.h>

namespace regiongate {

TokenCache::Digest TokenCache::digest_of(std::string_view token) {
  Digest d;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), d.data());
  return d;
}

const VerifiedToken* TokenCache::find(std::string_view token, const TokenVerifier& verifier,
                                      std::int64_t now) {
  if (capacity_ == 0) return nullptr;
  auto it = index_.find(digest_of(token));
  if (it == index_.end()) {
    ++misses_;
    return nullptr;
  }
  Entry& e = entries_[it->second];
  if (e.generation != verifier.generation() || now >= e.until) {
    // Another verifier's verdict, or expired: forgotten, never answered.
    ++misses_;
    e.until = 0;
    return nullptr;
  }
  e.referenced = true;
  ++hits_;
  return &e.token;
}

std::size_t TokenCache::victim() {
  // CLOCK: the first entry not used since the hand last passed it (expired
  // entries first of all: their until is behind every now).
  for (;;) {
    Entry& e = entries_[hand_];
    const std::size_t at = hand_;
    hand_ = (hand_ + 1) % entries_.size();
    if (!e.referenced) return at;
    e.referenced = false;
  }
}

void TokenCache::insert(std::string_view token, const TokenVerifier& verifier, std::int64_t now,
                        const VerifiedToken& verified) {
  if (capacity_ == 0) return;
  const std::int64_t until =
      verified.expires_at != 0 ? verified.expires_at : now + kMaxUnexpiringSeconds;
  if (until <= now) return;
  const Digest digest = digest_of(token);
  std::size_t slot;
  if (auto it = index_.find(digest); it != index_.end()) {
    slot = it->second;
  } else if (entries_.size() < capacity_) {
    slot = entries_.size();
    entries_.emplace_back();
    index_.emplace(digest, slot);
  } else {
    slot = victim();
    index_.erase(entries_[slot].digest);
    index_.emplace(digest, slot);
  }
  Entry& e = entries_[slot];
  e.digest = digest;
  e.generation = verifier.generation();
  e.until = until;
  e.referenced = true;  // a second chance, as for a hit: it was just needed
  e.token = verified;
}

}  // namespace regiongate
