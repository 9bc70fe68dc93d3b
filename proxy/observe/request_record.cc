#include "proxy/observe/request_record.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "util/json.h"

namespace regiongate {
namespace {

// Copies `text` to `to`. Most fields are 2 to 16 bytes (codes, names, an
// address): those are two overlapping loads and stores, the way memcpy
// copies them inside, without the call (a tenth of a line's cost, on
// every field). Keys, whose length is known, fold to plain moves.
inline void copy_short(char* to, std::string_view text) {
  const char* from = text.data();
  const std::size_t n = text.size();
  auto move = [&](auto word) {
    std::memcpy(&word, from, sizeof word);
    std::memcpy(to, &word, sizeof word);
    std::memcpy(&word, from + n - sizeof word, sizeof word);
    std::memcpy(to + n - sizeof word, &word, sizeof word);
  };
  if (n > 16) {
    std::memcpy(to, from, n);
  } else if (n >= 8) {
    move(std::uint64_t{});
  } else if (n >= 4) {
    move(std::uint32_t{});
  } else if (n > 0) {
    to[0] = from[0];
    to[n / 2] = from[n / 2];
    to[n - 1] = from[n - 1];
  }
}

// `value` in decimal; returns the end. Lines' numbers are statuses, byte
// counts and durations, nearly always below 10^8: their length found in a
// few comparisons and their digits written two at a time, without
// to_chars' length loop. A small gain, measured: 787 -> 779 instructions
// a line (callgrind, BM_AccessLogLine, against to_chars from 1000 up).
inline char* write_decimal(char* p, std::uint64_t value) {
  if (value >= 100'000'000) return std::to_chars(p, p + 20, value).ptr;
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  const int digits = value < 10 ? 1 : value < 100 ? 2 : value < 1000 ? 3 : value < 10'000 ? 4
                   : value < 100'000 ? 5 : value < 1'000'000 ? 6 : value < 10'000'000 ? 7 : 8;
  char* const end = p + digits;
  char* at = end;
  while (value >= 100) {
    at -= 2;
    std::memcpy(at, kPairs + value % 100 * 2, 2);
    value /= 100;
  }
  if (value >= 10) {
    std::memcpy(at - 2, kPairs + value * 2, 2);
  } else {
    at[-1] = static_cast<char>('0' + value);
  }
  return end;
}

// The room for one line: sized once to a bound on the line (every string
// field escaped at its worst), then cut to what was written. It is a
// buffer on the stack when the bound fits (nearly every line), appended in
// one copy; growing the batch itself by the bound would first zero-fill
// it, and that cost more than the copy.
class LineRoom {
 public:
  LineRoom(std::string& out, std::size_t bound) : out_(out) {
    if (bound <= sizeof stack_) {
      begin_ = stack_;
    } else {
      at_ = out.size();
      out.resize(at_ + bound);
      begin_ = out.data() + at_;
    }
  }
  LineRoom(const LineRoom&) = delete;
  LineRoom& operator=(const LineRoom&) = delete;

  char* begin() const { return begin_; }
  // `end`: where the line's writing stopped.
  void finish(const char* end) {
    const auto length = static_cast<std::size_t>(end - begin_);
    if (begin_ == stack_) {
      out_.append(stack_, length);
    } else {
      out_.resize(at_ + length);
    }
  }

 private:
  std::string& out_;
  std::size_t at_ = 0;  // where the line starts in out_, when written in place
  char* begin_;
  char stack_[2048];  // uninitialised: only what is written is read
};

// The pieces of a line. Each takes where to write and returns where the
// next piece goes: the position stays in a register. (Kept in an object,
// it was stored and loaded again around every byte written, since a char
// store may alias anything, the object too: 101 of a line's 888
// instructions, callgrind on BM_AccessLogLine.)
// `key` is the whole separator and name: R"(,"client":)".
namespace put {

inline char* raw(char* p, std::string_view text) {
  copy_short(p, text);
  return p + text.size();
}
inline char* string(char* p, std::string_view key, std::string_view value) {
  return write_json_string(raw(p, key), value);
}
// An empty value is written as null.
inline char* nullable(char* p, std::string_view key, std::string_view value) {
  return value.empty() ? raw(raw(p, key), "null") : string(p, key, value);
}
// The gateway's own text (see RequestRecord): copied between quotes, not
// scanned, since it is JSON-plain by construction. Most of a line's bytes
// are such text, and scanning them was half of its cost.
inline char* own(char* p, std::string_view key, std::string_view value) {
  p = raw(p, key);
  *p++ = '"';
  p = raw(p, value);
  *p++ = '"';
  return p;
}
inline char* own_nullable(char* p, std::string_view key, std::string_view value) {
  return value.empty() ? raw(raw(p, key), "null") : own(p, key, value);
}
inline char* number(char* p, std::string_view key, std::uint64_t value) {
  return write_decimal(raw(p, key), value);
}

}  // namespace put

// The path up to its query. A short one is scanned here: the call to
// memchr was a fifth of the access line's time on the worker for "/b"
// (perf, bench/log_cost.sh --perf). A longer one goes to memchr, which
// takes 32 bytes a step: a byte loop over a 35-byte path before its query
// was 177 instructions (callgrind, BM_AccessLogLine).
inline std::string_view before_query(std::string_view path) {
  if (path.size() > 16) return path.substr(0, path.find('?'));
  std::size_t i = 0;
  while (i < path.size() && path[i] != '?') ++i;
  return path.substr(0, i);
}

// What was decided and answered, the same keys in both logs.
char* write_decision(char* p, const RequestRecord& r) {
  p = put::own_nullable(p, R"(,"country":)", r.country);
  p = put::own(p, R"(,"country_source":)", r.country_source);
  p = put::own_nullable(p, R"(,"service":)", r.service);
  p = put::own_nullable(p, R"(,"rule":)", r.rule);
  p = put::own_nullable(p, R"(,"datacenter":)", r.datacenter);
  p = put::number(p, R"(,"status":)", static_cast<std::uint64_t>(r.status));
  return put::own(p, R"(,"reason":)", r.reason);
}

// Room for the keys, the numbers and the punctuation of either line.
constexpr std::size_t kFixedBound = 512;

// `escaped`: the client's text, at its worst; `own`: copied as it is.
// (A fold, not a loop over a list: the sizes stay in registers.)
template <typename... Own>
std::size_t bound(std::size_t escaped_bytes, const Own&... own) {
  return kFixedBound + json_string_bound(escaped_bytes) + (std::size_t{0} + ... + own.size());
}

}  // namespace

std::string hashed_account(std::string_view key, std::string_view account) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(account.data()), account.size(), mac, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "hmac-sha256:";
  for (unsigned int i = 0; i < 16 && i < length; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

std::string_view append_access_log_line(std::string& out, std::string_view time,
                                        const RequestRecord& r, const AccessLogSettings& settings) {
  std::string hashed;
  std::string_view account;
  switch (settings.account) {
    case AccessLogSettings::Account::kOmit: break;
    case AccessLogSettings::Account::kKeep: account = r.account; break;
    case AccessLogSettings::Account::kHash:
      if (!r.account.empty()) account = hashed = hashed_account(settings.hash_key, r.account);
      break;
  }
  std::string_view path = r.path;
  if (settings.path == AccessLogSettings::Path::kWithoutQuery) path = before_query(path);
  if (settings.path == AccessLogSettings::Path::kOff) path = {};
  const std::size_t line_at = out.size();
  LineRoom room(out, bound(r.method.size() + path.size() + account.size(), time, r.client, r.country,
                           r.country_source, r.service, r.rule, r.datacenter, r.reason, r.outcome));
  char* p = put::own(room.begin(), "{\"time\":", time);
  p = put::nullable(p, R"(,"method":)", r.method);
  p = put::nullable(p, R"(,"path":)", path);
  if (settings.account != AccessLogSettings::Account::kOmit) p = put::nullable(p, R"(,"account":)", account);
  p = put::own(p, R"(,"client":)", r.client);
  const auto decision_at = static_cast<std::size_t>(p - room.begin());
  p = write_decision(p, r);
  const auto decision_size = static_cast<std::size_t>(p - room.begin()) - decision_at;
  p = put::own(p, R"(,"outcome":)", r.outcome);
  p = put::number(p, R"(,"bytes_in":)", r.bytes_in);
  p = put::number(p, R"(,"bytes_out":)", r.bytes_out);
  p = put::number(p, R"(,"duration_us":)", r.duration_us);
  room.finish(put::raw(p, "}\n"));
  return std::string_view(out.data() + line_at + decision_at, decision_size);
}

bool audited_when_served(const AuditLogSettings& settings, std::string_view account_country,
                         std::string_view datacenter_country) {
  return settings.records == AuditLogSettings::Records::kAll ||
         datacenter_country != account_country;
}

bool audit_wanted(const RequestRecord& r, const AuditLogSettings& settings) {
  if (settings.records == AuditLogSettings::Records::kAll) return true;
  const bool refused = r.datacenter.empty() && r.status >= 400;
  const bool served = !r.datacenter_country.empty();
  return refused || (served && audited_when_served(settings, r.country, r.datacenter_country));
}

namespace {

// The address cut to its network, "203.0.113.0/24", "2001:db8:1::/48", into
// `out`; returns its length.
std::size_t format_network(const IpAddress& address, int v4_prefix, int v6_prefix,
                           char (&out)[IpAddress::kMaxText + 4]) {
  IpAddress a = address;
  const bool v4 = a.is_v4();
  const int prefix = v4 ? v4_prefix : v6_prefix;
  const int keep = v4 ? 96 + prefix : prefix;  // bits of the 128-bit form
  for (int byte = keep / 8; byte < 16; ++byte) {
    const int bits = byte == keep / 8 ? keep % 8 : 0;  // of this byte, kept
    a.bytes[static_cast<std::size_t>(byte)] &= static_cast<std::uint8_t>(0xFF00 >> bits);
  }
  char text[IpAddress::kMaxText];
  std::size_t n = a.format_into(text);
  std::memcpy(out, text, n);
  out[n++] = '/';
  return static_cast<std::size_t>(std::to_chars(out + n, out + sizeof out, prefix).ptr - out);
}

// The same, remembered: a worker sees the same few client addresses over
// and over (a connection's requests, a proxy's), and formatting an address
// costs more than the rest of the record. Per thread, direct-mapped.
std::string_view truncated(const IpAddress& address, const AuditLogSettings& settings) {
  struct Entry {
    IpAddress address;
    int v4 = -1, v6 = -1;
    std::uint8_t length = 0;
    char text[IpAddress::kMaxText + 4];
  };
  thread_local std::array<Entry, 64> cache;
  // The slot: the address's two halves mixed by one multiply, its top 6
  // bits kept (a byte-by-byte hash was 76 of the record's 500 instructions,
  // callgrind on BM_AuditRecord).
  std::uint64_t low, high;
  std::memcpy(&low, address.bytes.data(), sizeof low);
  std::memcpy(&high, address.bytes.data() + sizeof low, sizeof high);
  static_assert(std::tuple_size_v<decltype(cache)> == 64);
  Entry& e = cache[((low ^ (high * 0x9E3779B97F4A7C15u)) * 0xC2B2AE3D27D4EB4Fu) >> 58];
  if (e.length == 0 || e.v4 != settings.client_prefix_v4 || e.v6 != settings.client_prefix_v6 ||
      !(e.address == address)) {
    e.address = address;
    e.v4 = settings.client_prefix_v4;
    e.v6 = settings.client_prefix_v6;
    e.length = static_cast<std::uint8_t>(format_network(address, e.v4, e.v6, e.text));
  }
  return std::string_view(e.text, e.length);
}

}  // namespace

void append_audit_record(std::string& out, std::string_view time, const RequestRecord& r,
                         const AuditLogSettings& settings, std::string_view decision) {
  const std::string_view client = r.client_address ? truncated(*r.client_address, settings) : "";
  LineRoom room(out, bound(0, time, r.country, r.country_source, r.service, r.rule, r.datacenter,
                           r.datacenter_country, r.reason, client, decision));
  char* p = put::own(room.begin(), "{\"time\":", time);
  p = put::number(p, R"(,"snapshot":)", r.snapshot);
  // Copied from the access line when there is one (7 of this record's 11
  // fields, formatted once for both logs).
  p = decision.empty() ? write_decision(p, r) : put::raw(p, decision);
  p = put::own_nullable(p, R"(,"datacenter_country":)", r.datacenter_country);
  p = put::own_nullable(p, R"(,"client":)", client);
  room.finish(put::raw(p, "}\n"));
}

}  // namespace regiongate
