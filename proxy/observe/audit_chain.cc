#include "proxy/observe/audit_chain.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>

#include "util/count_lines.h"

namespace regiongate {

namespace {

// One per thread: whoever verifies, or resumes.
Sha256& thread_sha256() {
  thread_local Sha256 sha;
  return sha;
}

constexpr std::string_view kSealStart = R"({"seal":")";
constexpr std::string_view kOldRecordStart = R"({"prev":")";  // before seals
constexpr std::size_t kHashLength = 64;

bool is_hash(std::string_view text) {
  return text.size() == kHashLength && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

struct Seal {
  std::string_view hash, prev;
  std::size_t records = 0;
};

// Exactly what link() writes, or nothing.
std::optional<Seal> parse_seal(std::string_view line) {
  constexpr std::string_view kPrev = R"(","prev":")", kRecords = R"(","records":)";
  if (!line.starts_with(kSealStart)) return std::nullopt;
  line.remove_prefix(kSealStart.size());
  Seal seal;
  seal.hash = line.substr(0, kHashLength);
  line.remove_prefix(seal.hash.size());
  if (!is_hash(seal.hash) || !line.starts_with(kPrev)) return std::nullopt;
  line.remove_prefix(kPrev.size());
  seal.prev = line.substr(0, kHashLength);
  line.remove_prefix(seal.prev.size());
  if (!is_hash(seal.prev) || !line.starts_with(kRecords)) return std::nullopt;
  line.remove_prefix(kRecords.size());
  const char* end = line.data() + line.size();
  auto [p, ec] = std::from_chars(line.data(), end, seal.records);
  if (ec != std::errc() || p == line.data() || (*line.data() == '0' && p - line.data() > 1) ||
      std::string_view(p, end - p) != "}") {
    return std::nullopt;
  }
  return seal;
}

// An old-style record's "prev", or nothing.
std::optional<std::string_view> old_record_prev(std::string_view line) {
  if (!line.starts_with(kOldRecordStart)) return std::nullopt;
  std::string_view prev = line.substr(kOldRecordStart.size(), kHashLength);
  if (!is_hash(prev) || line.size() <= kOldRecordStart.size() + kHashLength ||
      line[kOldRecordStart.size() + kHashLength] != '"') {
    return std::nullopt;
  }
  return prev;
}

// The lines of some files read in order as one stream of bytes.
class LineStream {
 public:
  // Longer lines are not the gateway's (a record is a few hundred bytes).
  static constexpr std::size_t kMaxLine = 1 << 20;

  explicit LineStream(const std::vector<std::string>& files) : files_(files) {}

  // The next line, without its newline. False at the end, or on an error
  // (then error() says what).
  bool next(std::string& line) {
    line.clear();
    started_file_ = std::nullopt;
    for (;;) {
      if (at_ < buffer_.size()) {
        if (!started_file_) {
          started_file_ = file_;
          started_number_ = ++number_;
        }
        const std::size_t end = buffer_.find('\n', at_);
        const std::size_t stop = end == std::string::npos ? buffer_.size() : end;
        line.append(buffer_, at_, stop - at_);
        at_ = stop;
        if (line.size() > kMaxLine) {
          error_ = where() + "a line longer than 1 MiB (not an audit log)";
          return false;
        }
        if (end != std::string::npos) {
          ++at_;
          newline_ = true;
          return true;
        }
      }
      if (!fill()) {
        newline_ = false;
        return started_file_.has_value() && error_.empty();
      }
    }
  }
  const std::string& error() const { return error_; }
  // Whether the last line read ended with a newline (not: the stream ended in it).
  bool ended_with_newline() const { return newline_; }
  // "FILE:LINE: " where the last line read began.
  std::string where() const {
    return files_[started_file_.value_or(file_)] + ":" + std::to_string(started_number_) + ": ";
  }

 private:
  // Reads more, from the next file when this one is done.
  bool fill() {
    buffer_.clear();
    at_ = 0;
    for (;;) {
      if (!in_.is_open()) {
        if (opened_ == files_.size()) return false;
        file_ = opened_++;
        // A line going on from the file before counts as this one's first.
        number_ = started_file_ ? 1 : 0;
        in_.open(files_[file_], std::ios::binary);
        if (!in_) {
          error_ = files_[file_] + ": cannot read it";
          return false;
        }
      }
      buffer_.resize(64 << 10);
      in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
      buffer_.resize(static_cast<std::size_t>(in_.gcount()));
      if (!buffer_.empty()) return true;
      if (in_.bad()) {
        error_ = files_[file_] + ": cannot read it";
        return false;
      }
      in_.close();
      in_.clear();
    }
  }

  const std::vector<std::string>& files_;
  std::size_t opened_ = 0, file_ = 0, number_ = 0;
  std::optional<std::size_t> started_file_;
  std::size_t started_number_ = 0;
  std::ifstream in_;
  std::string buffer_;
  std::size_t at_ = 0;
  bool newline_ = false;
  std::string error_;
};

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  std::string out;
  thread_sha256().hex(bytes, out);
  return out;
}

AuditChain::AuditChain() { follow(kGenesis); }

void AuditChain::follow(std::string_view hash) {
  prev_.assign(hash);
  running_.start();
  running_.add(prev_);
  unsealed_lines_ = 0;
}

void AuditChain::absorb(std::string_view line, bool whole) {
  running_.add(line);
  if (whole) {
    running_.add("\n");
    ++unsealed_lines_;
  } else {
    ending_ = Ending::kInRecord;
  }
}

const std::string& AuditChain::seal_hash() {
  running_.finish_hex(seal_);
  return seal_;
}

void AuditChain::link(std::string& batch) { link(batch, count_lines(batch)); }

void AuditChain::link(std::string& batch, std::size_t lines) {
  add(batch, lines);
  seal(batch);
}

void AuditChain::add(std::string& batch, std::size_t lines) {
  if (batch.empty()) return;
  if (ending_ == Ending::kInRecord) {
    // The record the file ended inside ends here, sealed as it is.
    running_.add("\n");
    ++unsealed_lines_;
  }
  // The records in bulk: one update over the batch, however many records.
  running_.add(batch);
  unsealed_lines_ += lines;
  if (ending_ != Ending::kLine) batch.insert(batch.begin(), '\n');
  ending_ = Ending::kLine;
  added_ = true;
}

void AuditChain::seal(std::string& last) {
  if (!added_) return;
  added_ = false;
  seal_hash();
  char records[24];
  const auto [end, ec] = std::to_chars(records, records + sizeof records, unsealed_lines_);
  last.append(kSealStart).append(seal_).append(R"(","prev":")").append(prev_);
  last.append(R"(","records":)").append(records, end).append("}\n");
  follow(seal_);
}

void AuditChain::resume(const std::string& file) {
  // Only a regular file holds records: a device (/dev/full reads as endless
  // zeros) or a pipe would never end, or never give a line.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return;
  const std::vector<std::string> files{file};
  LineStream lines(files);
  for (std::string line; lines.next(line);) {
    const bool whole = lines.ended_with_newline();
    if (std::optional<Seal> seal = parse_seal(line)) {
      follow(seal->hash);
      if (!whole) ending_ = Ending::kInSeal;
    } else if (old_record_prev(line)) {
      follow(sha256_hex(line));
    } else {
      absorb(line, whole);  // after the last seal: the next one covers it
    }
  }
}

ChainCheck verify_chain(const std::vector<std::string>& files) {
  ChainCheck out;
  auto broken = [&out](std::string message) {
    out.ok = false;
    out.message = std::move(message);
    return out;
  };
  LineStream lines(files);
  AuditChain chain;
  std::string first_unsealed;  // "FILE:LINE: " of the first line since the last seal
  for (std::string line; lines.next(line);) {
    const std::size_t unsealed = chain.unsealed_lines_;
    // A line is a seal when it reads as one, as for resume(): anything
    // else (a seal edited, or cut short by a crash) is sealed by the next.
    if (std::optional<Seal> seal = parse_seal(line)) {
      // For a message only: made when a check fails.
      auto covered = [&]() -> std::string {
        return unsealed == 0 ? "no lines"
                             : "the " + std::to_string(unsealed) + " line(s) from " +
                                   first_unsealed.substr(0, first_unsealed.size() - 2);
      };
      if (seal->prev != chain.last()) {
        return broken(lines.where() +
                      "the chain is broken: this seal does not follow the seal before it "
                      "(records and their seal were deleted or moved, or a file is missing in "
                      "front)");
      }
      if (seal->records != unsealed) {
        return broken(lines.where() + "the chain is broken: this seal is over " +
                      std::to_string(seal->records) + " record(s), but " + covered() +
                      " precede it (a record was added or deleted)");
      }
      if (seal->hash != chain.seal_hash()) {
        return broken(lines.where() + "the chain is broken: the seal over " + covered() +
                      " does not hold (one of those records was edited, or records were "
                      "reordered)");
      }
      out.records += unsealed;
      ++out.seals;
      chain.follow(seal->hash);
    } else if (std::optional<std::string_view> old = old_record_prev(line)) {
      // A record from before seals: chained to the line before it.
      if (*old != chain.last() || unsealed != 0) {
        return broken(lines.where() +
                      "the chain is broken: this record does not follow the one before it "
                      "(a record was edited, deleted or reordered)");
      }
      ++out.records;
      chain.follow(sha256_hex(line));
    } else {
      if (unsealed == 0) first_unsealed = lines.where();
      chain.absorb(line, lines.ended_with_newline());
    }
  }
  if (!lines.error().empty()) return broken(lines.error());
  // A last line with no newline is one too.
  const std::size_t left =
      chain.unsealed_lines_ + (chain.ending_ == AuditChain::Ending::kInRecord ? 1 : 0);
  if (left != 0) {
    return broken(first_unsealed + std::to_string(left) +
                  " line(s) after the last seal are not sealed (a gateway stopped while it "
                  "wrote them seals them when it starts again on this file)");
  }
  // Nothing follows the last seal to vouch for it: its hash, kept
  // elsewhere, does.
  out.message = std::to_string(out.records) + " record(s) in " + std::to_string(files.size()) +
                " file(s): the chain holds; the last seal is " + chain.last();
  return out;
}

}  // namespace regiongate
