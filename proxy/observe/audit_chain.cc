#include "proxy/observe/audit_chain.h"

#include "util/sha256.h"

#include <filesystem>
#include <fstream>

namespace regiongate {

namespace {

// One per thread: the log writer's, and whoever verifies.
Sha256& thread_sha256() {
  thread_local Sha256 sha;
  return sha;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  std::string out;
  thread_sha256().hex(bytes, out);
  return out;
}

void AuditChain::link(std::string& batch) {
  std::string out;
  out.reserve(batch.size() + (batch.size() / 64 + 1) * 80);
  std::size_t start = 0;
  while (start < batch.size()) {
    std::size_t end = batch.find('\n', start);
    if (end == std::string::npos) end = batch.size();
    std::string_view record(batch.data() + start, end - start);
    if (!record.empty() && record.front() == '{') {
      const std::size_t line_start = out.size();
      out += "{\"prev\":\"";
      out += prev_;
      out += '"';
      if (record.size() > 2) out += ',';
      out.append(record.substr(1));
      thread_sha256().hex(std::string_view(out).substr(line_start), prev_);
      out += '\n';
    }
    start = end + 1;
  }
  batch.swap(out);
}

void AuditChain::resume(const std::string& file) {
  // Only a regular file holds records: a device (/dev/full reads as endless
  // zeros) or a pipe would never end, or never give a line.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return;
  std::ifstream in(file, std::ios::binary);
  std::string last;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) last = std::move(line);
  }
  if (!last.empty()) prev_ = sha256_hex(last);
}

ChainCheck verify_chain(const std::vector<std::string>& files) {
  ChainCheck out;
  std::string prev(AuditChain::kGenesis);
  const std::string key = "{\"prev\":\"";
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      out.ok = false;
      out.message = file + ": cannot read it";
      return out;
    }
    std::size_t number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      const std::string where = file + ":" + std::to_string(number) + ": ";
      if (line.compare(0, key.size(), key) != 0 || line.size() < key.size() + 65 ||
          line[key.size() + 64] != '"') {
        out.ok = false;
        out.message = where + "not an audit record (no \"prev\" first)";
        return out;
      }
      if (line.compare(key.size(), 64, prev) != 0) {
        out.ok = false;
        out.message = where +
                      "the chain is broken: this record does not follow the one before it "
                      "(a record was edited, deleted or reordered)";
        return out;
      }
      prev = sha256_hex(line);
      ++out.records;
    }
  }
  // Nothing follows the last record to vouch for it: its hash, kept
  // elsewhere, does.
  out.message = std::to_string(out.records) + " record(s) in " + std::to_string(files.size()) +
                " file(s): the chain holds; the last record's SHA-256 is " + prev;
  return out;
}

}  // namespace regiongate
