#pragma once
// The audit log's hash chain. Records are JSON objects, one a line, as the
// workers wrote them. After the records of each write (what the workers
// handed over in up to 100 ms) the log's writer adds one seal line:
//
//   {"seal":"H","prev":"P","records":N}
//
// P is the seal before it (64 zeros for the first of a chain) and H the
// SHA-256 of P's 64 hex digits followed by the bytes of the N lines since
// that seal, newlines included. A record edited, added, deleted or moved
// breaks the seal after it; a seal deleted or moved, with its records or
// without, breaks the one after it. verify_chain() names which, and the
// lines it covers. The chain goes on across files (the log rotated with
// SIGUSR1; verify the files in the order they were written) and restarts.
//
// Why a seal per write and not a hash per record: SHA-256 of one 300-byte
// message costs 0.29 µs here (its padding block and set-up), more than 5%
// of a request, while the same bytes hashed in bulk cost 0.13; and each
// record no longer carries 74 bytes of "prev". (A seal per worker's batch,
// some tens of records, spent about 75 instructions a record more on sealing
// than one per write, callgrind.) What is given up is precision: a broken
// seal names the write's records (up to 100 ms of them), not the record.
//
// Logs written before seals existed carry "prev" in every record (the
// SHA-256 of the line before it); verify_chain() reads those too, and a
// gateway resuming such a log seals on from its last record.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/sha256.h"

namespace regiongate {

std::string sha256_hex(std::string_view bytes);

struct ChainCheck {
  bool ok = true;
  std::size_t records = 0;
  std::size_t seals = 0;
  std::string message;  // "FILE:LINE: ..." for the first broken seal
};

// Reads `files` in order as one chain (one stream of bytes: a line may
// begin in one file and end in the next).
ChainCheck verify_chain(const std::vector<std::string>& files);

class AuditChain {
 public:
  static constexpr std::string_view kGenesis =
      "0000000000000000000000000000000000000000000000000000000000000000";
  AuditChain();
  // Takes `batch` ("{...}\n" records, `lines` of them: the worker that
  // wrote them counted them as it did) into what the next seal covers. An
  // empty batch is left as it is.
  void add(std::string& batch, std::size_t lines);
  // Appends one seal line, over every batch added since the last seal, to
  // `last` (the last of them: the seal follows its records in the file).
  // Nothing when nothing was added.
  void seal(std::string& last);
  // add() and seal() for one batch; without `lines`, they are counted here.
  void link(std::string& batch, std::size_t lines);
  void link(std::string& batch);
  // The last seal's hash (kGenesis before the first).
  const std::string& last() const { return prev_; }
  // Goes on from the last seal of `file` when it is a regular file with
  // one (a restart appends to the log it left), so that one chain spans
  // restarts too. Lines after that seal (a gateway stopped while writing
  // them) are sealed by the next link().
  void resume(const std::string& file);

 private:
  // resume() and verify_chain() read a log with the writer's own steps.
  friend ChainCheck verify_chain(const std::vector<std::string>& files);
  // The chain goes on after a seal (or an old-style record) whose hash is `hash`.
  void follow(std::string_view hash);
  // A line after the last seal (`whole`: a newline ended it).
  void absorb(std::string_view line, bool whole);
  // The seal's hash over what was absorbed, in seal_. Then follow().
  const std::string& seal_hash();

  std::string prev_;
  // SHA-256 of prev_ and of the lines since, not yet sealed.
  Sha256 running_;
  std::size_t unsealed_lines_ = 0;
  bool added_ = false;  // a batch was added since the last seal
  // How the file resume() read ends: inside a record, or inside a seal
  // (cut before its newline), the next batch starts on a line of its own.
  enum class Ending { kLine, kInRecord, kInSeal };
  Ending ending_ = Ending::kLine;
  std::string seal_;  // the hash being written, reused
};

}  // namespace regiongate
