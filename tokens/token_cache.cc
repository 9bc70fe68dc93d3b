#include "tokens/token_cache.h"

namespace regiongate {

const VerifiedToken* TokenCache::find(std::string_view token, const TokenVerifier& verifier,
                                      std::int64_t now) {
  auto it = index_.find(token);
  if (it == index_.end()) {
    ++misses_;
    return nullptr;
  }
  Entry& e = entries_[it->second];
  if (e.generation != verifier.generation() || now >= e.until) {
    // Another verifier's verdict, or expired: forgotten, never answered.
    ++misses_;
    evict(it->second);
    return nullptr;
  }
  e.referenced = true;
  ++hits_;
  return &e.claims;
}

void TokenCache::evict(std::size_t slot) {
  Entry& e = entries_[slot];
  if (e.token.empty()) return;
  index_.erase(std::string_view(e.token));
  bytes_ -= e.token.size();
  e.token.clear();
  e.token.shrink_to_fit();
  e.claims = {};
}

std::size_t TokenCache::victim() {
  // CLOCK: the first slot that is free or not used since the hand last
  // passed it.
  for (;;) {
    Entry& e = entries_[hand_];
    const std::size_t at = hand_;
    hand_ = (hand_ + 1) % entries_.size();
    if (e.token.empty() || !e.referenced) return at;
    e.referenced = false;
  }
}

void TokenCache::insert(std::string_view token, const TokenVerifier& verifier, std::int64_t now,
                        const VerifiedToken& verified) {
  if (capacity_ == 0 || token.empty() || token.size() > max_bytes_) return;
  const std::int64_t until =
      verified.expires_at != 0 ? verified.expires_at : now + kMaxUnexpiringSeconds;
  if (until <= now) return;
  if (auto it = index_.find(token); it != index_.end()) evict(it->second);
  std::size_t slot;
  if (entries_.size() < capacity_ && bytes_ + token.size() <= max_bytes_) {
    slot = entries_.size();
    entries_.emplace_back();
  } else {
    slot = victim();
    evict(slot);
    while (bytes_ + token.size() > max_bytes_) evict(victim());
  }
  Entry& e = entries_[slot];
  e.token.assign(token);
  e.generation = verifier.generation();
  e.until = until;
  e.referenced = true;  // a second chance, as for a hit: it was just needed
  e.claims = verified;
  bytes_ += token.size();
  index_.emplace(std::string_view(e.token), slot);
}

}  // namespace regiongate
