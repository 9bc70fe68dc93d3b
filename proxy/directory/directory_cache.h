#pragma once
// The Redis directory's local cache: account id → found (country) or not
// found, each with an expiry, in a fixed number of entries. One per worker,
// used only on its thread (no lock).
//
// Eviction is CLOCK (second chance): a hit marks its entry; when the cache is
// full, the hand passes over marked entries (unmarking them) and takes the
// first unmarked or expired one. That keeps the accounts that are being used
// like LRU would, without moving anything on a hit. Memory is bounded by
// `entries` × (one entry + one index node): entries are allocated once, and
// an entry's id string keeps its capacity when it is reused.
//
// The clock is a parameter so that tests can step it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "maps/account_directory.h"
#include "maps/redis_config.h"

namespace regiongate {

class DirectoryCache {
 public:
  using Clock = std::chrono::steady_clock;

  explicit DirectoryCache(const DirectoryCacheConfig& config);
  DirectoryCache(const DirectoryCache&) = delete;
  DirectoryCache& operator=(const DirectoryCache&) = delete;

  // kFound or kNotFound from an entry that has not expired at `now`;
  // nullopt otherwise.
  std::optional<DirectoryResult> find(std::string_view account_id, Clock::time_point now);
  // Keeps a found account for the ttl, a missing one for the negative_ttl
  // (a ttl of 0 keeps nothing). Replaces what was there for the id.
  void store_found(std::string_view account_id, CountryId country, Clock::time_point now);
  void store_not_found(std::string_view account_id, Clock::time_point now);
  void clear();

  std::size_t size() const { return index_.size(); }
  std::size_t capacity() const { return entries_.size(); }
  std::uint64_t evictions() const { return evictions_; }

 private:
  struct Entry {
    std::string id;  // index_ holds a view of it: never moved (entries_ does not grow)
    DirectoryResult result;
    Clock::time_point expires;
    bool referenced = false;  // hit since the hand last passed
  };
  struct Hash {
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  void store(std::string_view account_id, DirectoryResult result, Clock::time_point expires,
             Clock::time_point now);
  std::size_t take_slot(Clock::time_point now);

  std::vector<Entry> entries_;
  std::size_t used_ = 0;  // entries_[0, used_) have been filled at least once
  std::size_t hand_ = 0;
  std::unordered_map<std::string_view, std::uint32_t, Hash> index_;
  std::chrono::milliseconds ttl_, negative_ttl_;
  std::uint64_t evictions_ = 0;  // live (unexpired) entries pushed out for room
};

}  // namespace regiongate
