#pragma once
// The account directory: account id → account country.
//
// The embedded default (FileAccountDirectory) is a file loaded into memory.
// The Redis backend (proxy/directory/redis_directory.h, one per worker)
// speaks the same DirectoryResult: it answers from its bounded local cache
// at once, and otherwise says kPending and completes through its own
// asynchronous API (a DirectoryWaiter).

#include <cstdint>
#include <string_view>

#include "maps/country.h"

namespace regiongate {

enum class DirectoryStatus : std::uint8_t {
  kFound,
  kNotFound,     // the directory knows it has no such account
  kPending,      // not in memory; an asynchronous backend is fetching it
  kUnavailable,  // the backend cannot answer (fail closed by configuration)
};

struct DirectoryResult {
  DirectoryStatus status = DirectoryStatus::kNotFound;
  CountryId country = kNoCountry;
};

class AccountDirectory {
 public:
  virtual ~AccountDirectory() = default;
  // Thread-safe, never blocks, no allocation on the embedded backend.
  virtual DirectoryResult find(std::string_view account_id) const = 0;
  virtual std::size_t size() const = 0;
  // "file:/etc/regiongate/accounts.csv", for logs and explain.
  virtual std::string_view describe() const = 0;
};

}  // namespace regiongate
