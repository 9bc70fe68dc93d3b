#pragma once
// The audit log's hash chain. Every record is one JSON object on one line,
// whose first key, "prev", holds the SHA-256 (hex) of the line before it,
// newline excluded; the first record of a chain has 64 zeros. Editing,
// deleting or reordering a line breaks the link of the line after it, and
// verify_chain() names that line. The chain goes on across files (the log
// rotated with SIGUSR1): verify the files in the order they were written.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace regiongate {

std::string sha256_hex(std::string_view bytes);

class AuditChain {
 public:
  static constexpr std::string_view kGenesis =
      "0000000000000000000000000000000000000000000000000000000000000000";
  // Links every line of `batch` ("{...}\n" records without "prev") into the
  // chain, in place.
  void link(std::string& batch);
  const std::string& last() const { return prev_; }
  // Goes on from the last record of `file` when it is a regular file with
  // one (a restart appends to the log it left), so that one chain spans
  // restarts too.
  void resume(const std::string& file);

 private:
  std::string prev_ = std::string(kGenesis);
};

struct ChainCheck {
  bool ok = true;
  std::size_t records = 0;
  std::string message;  // "FILE:LINE: ..." for the first broken record
};

// Reads `files` in order as one chain.
ChainCheck verify_chain(const std::vector<std::string>& files);

}  // namespace regiongate
