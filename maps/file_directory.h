#pragma once
// The embedded account directory: a text file of "account_id,CC" lines loaded
// into one immutable open-addressing hash table (keys in one arena), shared
// read-only by all threads.
//
// File format (documented in docs/operators.md): one account per line,
// `account_id,CC` where CC is an ISO 3166-1 alpha-2 code (either case);
// blank lines and lines starting with '#' are skipped; the id is 1..128 bytes
// of printable ASCII without ',' or whitespace. A malformed line, an unknown
// country code or a duplicate id is an error naming file:line.

#include <memory>
#include <string>
#include <vector>

#include "maps/account_directory.h"
#include "util/diagnostics.h"

namespace regiongate {

class FileAccountDirectory final : public AccountDirectory {
 public:
  // Loads the whole file. On any error returns nullptr and records every
  // error (up to a cap, then a count of the rest) in `diags`.
  static std::shared_ptr<const FileAccountDirectory> load(const std::string& path,
                                                          Diagnostics& diags);

  DirectoryResult find(std::string_view account_id) const override;
  std::size_t size() const override { return count_; }
  std::string_view describe() const override { return description_; }

  // Maximum account id length in bytes.
  static constexpr std::size_t kMaxIdLength = 128;

 private:
  FileAccountDirectory() = default;

  struct Slot {
    std::uint32_t offset;  // into arena_
    std::uint8_t length;   // 0 = empty slot
    std::uint8_t pad;
    CountryId country;
    std::uint32_t hash;  // upper bits of the 64-bit hash, to skip most key compares
  };

  std::vector<char> arena_;
  std::vector<Slot> slots_;  // power-of-two size, load factor <= 0.5
  std::size_t mask_ = 0;
  std::size_t count_ = 0;
  std::string description_;

  friend class FileAccountDirectoryBuilder;
};

}  // namespace regiongate
