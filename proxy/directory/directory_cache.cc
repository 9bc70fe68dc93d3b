#include "proxy/directory/directory_cache.h"

namespace regiongate {

DirectoryCache::DirectoryCache(const DirectoryCacheConfig& config)
    : entries_(config.entries), ttl_(config.ttl), negative_ttl_(config.negative_ttl) {
  index_.reserve(config.entries);
}

std::optional<DirectoryResult> DirectoryCache::find(std::string_view account_id,
                                                    Clock::time_point now) {
  auto it = index_.find(account_id);
  if (it == index_.end()) return std::nullopt;
  Entry& e = entries_[it->second];
  if (e.expires <= now) return std::nullopt;  // left for take_slot() or the next store
  e.referenced = true;
  return e.result;
}

void DirectoryCache::store_found(std::string_view account_id, CountryId country,
                                 Clock::time_point now) {
  if (ttl_.count() > 0) store(account_id, {DirectoryStatus::kFound, country}, now + ttl_, now);
}

void DirectoryCache::store_not_found(std::string_view account_id, Clock::time_point now) {
  if (negative_ttl_.count() > 0) {
    store(account_id, {DirectoryStatus::kNotFound, kNoCountry}, now + negative_ttl_, now);
  }
}

void DirectoryCache::store(std::string_view account_id, DirectoryResult result,
                           Clock::time_point expires, Clock::time_point now) {
  if (entries_.empty()) return;
  if (auto it = index_.find(account_id); it != index_.end()) {
    Entry& e = entries_[it->second];
    e.result = result;
    e.expires = expires;
    return;
  }
  const std::size_t slot = take_slot(now);
  Entry& e = entries_[slot];
  e.id.assign(account_id);
  e.result = result;
  e.expires = expires;
  e.referenced = false;
  index_.emplace(e.id, static_cast<std::uint32_t>(slot));
}

// An entry never filled, else the first one the hand finds expired or not
// hit since it last passed (at most two turns: the first unmarks them all).
std::size_t DirectoryCache::take_slot(Clock::time_point now) {
  if (used_ < entries_.size()) return used_++;
  for (;;) {
    Entry& e = entries_[hand_];
    const std::size_t slot = hand_;
    hand_ = (hand_ + 1) % entries_.size();
    const bool expired = e.expires <= now;
    if (e.referenced && !expired) {
      e.referenced = false;
      continue;
    }
    if (!expired) ++evictions_;
    index_.erase(std::string_view(e.id));
    return slot;
  }
}

void DirectoryCache::clear() {
  index_.clear();
  for (Entry& e : entries_) e.referenced = false;
  used_ = 0;
  hand_ = 0;
}

}  // namespace regiongate
