#pragma once
// The embedded account directory: a text file of "account_id,CC" lines loaded
// into one immutable open-addressing hash table (keys in one arena), shared
// read-only by all threads.
//
// File format (documented in docs/directory.md): one account per line,
// `account_id,CC` where CC is an ISO 3166-1 alpha-2 code (either case);
// blank lines and lines starting with '#' are skipped; a trailing '\r'
// (CRLF files) and a leading UTF-8 byte order mark are ignored; the id is
// 1..128 bytes of printable ASCII without ',' or whitespace. A malformed
// line, an unknown country code, a duplicate id or an id that is too long is
// an error naming file:line.

#include <cstdint>
#include <memory>
#include <string>

#include "maps/account_directory.h"
#include "maps/directory_line.h"
#include "util/diagnostics.h"
#include "util/regular_file.h"

namespace regiongate {

class FileAccountDirectory final : public AccountDirectory {
 public:
  // The most a directory file may hold: 1 GiB, about 60 million accounts
  // of 16-byte lines (10 million are about 160 MB); loading one takes about
  // as much memory again for the table. Past that, the directory belongs on
  // Redis (docs/directory.md).
  static constexpr FileKind kFile{"account directory file", std::uint64_t{1} << 30};

  // Loads the whole file: a regular file (util/regular_file.h) of at most
  // `max_bytes`. On any error returns nullptr and records every error (up to
  // a cap, then a count of the rest) in `diags`. Runs on the reload thread;
  // the result is immutable, so any thread may call find().
  static std::shared_ptr<const FileAccountDirectory> load(
      const std::string& path, Diagnostics& diags, std::uint64_t max_bytes = kFile.max_bytes);

  DirectoryResult find(std::string_view account_id) const override;
  std::size_t size() const override { return count_; }
  std::string_view describe() const override { return description_; }

  // Maximum account id length in bytes.
  static constexpr std::size_t kMaxIdLength = kMaxAccountIdLength;
  // Errors reported one by one before the rest are only counted.
  static constexpr int kMaxReportedErrors = 20;

  // Bytes held by the table and the key arena (what find() touches).
  std::size_t memory_bytes() const { return (mask_ + 1) * sizeof(Slot) + arena_size_; }

 private:
  FileAccountDirectory() = default;

  // One 64-bit word per slot: at load factor <= 0.5 the table is most of the
  // memory, so every byte of a slot counts. 0 = empty (an occupied slot has
  // length >= 1).
  //   bits  0..39  offset of the record in arena_ (arena up to 1 TiB)
  //   bits 40..47  id length, 1..kMaxIdLength
  //   bits 48..63  16 hash bits not used for the index: together with the
  //                length they reject almost every non-matching slot without
  //                touching the arena.
  using Slot = std::uint64_t;

  // Owns memory from mmap: zeroed by the kernel (a new table needs no
  // memset), eligible for transparent huge pages (fewer TLB misses on random
  // probes), and its unused tail can be handed back without a copy.
  struct Unmap {
    std::size_t bytes;  // no initializer: a nested type must be complete for unique_ptr()
    void operator()(void* p) const;
  };

  // Records are packed back to back: the id bytes, then the CountryId (2
  // bytes, native order, unaligned). Ids are not NUL-terminated.
  std::unique_ptr<char[], Unmap> arena_;
  std::size_t arena_size_ = 0;
  std::unique_ptr<Slot[], Unmap> slots_;  // mask_ + 1 slots, a power of two, load factor <= 0.5
  std::size_t mask_ = 0;
  std::size_t count_ = 0;
  std::string description_;

  friend class FileAccountDirectoryBuilder;
};

}  // namespace regiongate
