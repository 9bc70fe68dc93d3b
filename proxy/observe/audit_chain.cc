#include "proxy/observe/audit_chain.h"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>

namespace regiongate {

namespace {

// SHA-256 with the algorithm fetched once and one context reused: OpenSSL 3
// looks EVP_sha256() up in its provider store (under a lock) on every
// EVP_Digest, which cost more than the hashing itself per record.
class Sha256 {
 public:
  Sha256() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {}
  ~Sha256() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // Writes the 64 hex digits of SHA-256(bytes) over `out`.
  void hex(std::string_view bytes, std::string& out) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestInit_ex(ctx_, md_, nullptr);
    EVP_DigestUpdate(ctx_, bytes.data(), bytes.size());
    EVP_DigestFinal_ex(ctx_, digest, &length);
    static constexpr char kHex[] = "0123456789abcdef";
    out.resize(2 * length);
    for (unsigned int i = 0; i < length; ++i) {
      out[2 * i] = kHex[digest[i] >> 4];
      out[2 * i + 1] = kHex[digest[i] & 15];
    }
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

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
