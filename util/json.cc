#include "util/json.h"

#include <cstdint>
#include <cstring>

#include "util/utf8.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace regiongate {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Whether every byte of `s` goes into a JSON string as it is: printable
// ASCII other than '"' and '\\'. Eight bytes at a time (SWAR: a byte of
// the word is "zero" when its high bit survives (v - 1) & ~v), since every
// field of every log line passes here.
bool is_plain(std::string_view s) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  auto bad = [&](std::uint64_t x) {
    return (x & kHigh)                          // 0x80 and up
           | ((x - 0x20 * kOnes) & ~x & kHigh)  // below 0x20
           | has_zero(x ^ (0x7F * kOnes)) | has_zero(x ^ (0x22 * kOnes)) | has_zero(x ^ (0x5C * kOnes));
  };
  const std::size_t n = s.size();
#if defined(__SSE2__)
  // Sixteen at a time where the target has SSE2 (every x86-64): as
  // signed bytes, everything below 0x20 and everything from 0x80 is less
  // than 0x20; then DEL, '"' and '\\'.
  if (n >= 16) {
    auto bad16 = [](const char* p) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      const __m128i b = _mm_or_si128(
          _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)), _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F))),
          _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(0x22)), _mm_cmpeq_epi8(x, _mm_set1_epi8(0x5C))));
      return _mm_movemask_epi8(b) != 0;
    };
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      if (bad16(s.data() + i)) return false;
    }
    return i == n || !bad16(s.data() + n - 16);  // the last sixteen, overlapping
  }
#endif
  if (n < 8) {  // padded with a plain byte
    std::uint64_t x = 0x6161616161616161ull;
    if (n) std::memcpy(&x, s.data(), n);
    return !bad(x);
  }
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    if (bad(x)) return false;
  }
  if (i == n) return true;
  std::uint64_t last;  // the last eight bytes, overlapping what was checked
  std::memcpy(&last, s.data() + n - 8, 8);
  return !bad(last);
}

// Whether `c` goes into a JSON string as it is (is_plain(), one byte).
constexpr bool plain_byte(unsigned char c) { return c >= 0x20 && c < 0x7F && c != '"' && c != '\\'; }

}  // namespace

char* write_json_string(char* out, std::string_view value) {
  *out++ = '"';
  if (value.size() < 8) {
    // A short value (a method, a short path): checked and copied in one
    // pass, without the calls a copy of a variable length takes.
    std::size_t i = 0;
    while (i < value.size() && plain_byte(static_cast<unsigned char>(value[i]))) {
      out[i] = value[i];
      ++i;
    }
    if (i == value.size()) {
      out += i;
      *out++ = '"';
      return out;
    }
    // Something to escape: the general loop below writes it all again.
  } else if (is_plain(value)) {
    if (!value.empty()) std::memcpy(out, value.data(), value.size());  // data() may be null
    out += value.size();
    *out++ = '"';
    return out;
  }
  auto put = [&](std::string_view s) {
    std::memcpy(out, s.data(), s.size());
    out += s.size();
  };
  for (std::size_t i = 0; i < value.size();) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      if (std::size_t n = utf8_sequence_length(value, i)) {
        put(value.substr(i, n));
        i += n;
      } else {
        put(kReplacement);  // one U+FFFD per byte that starts nothing well-formed
        ++i;
      }
      continue;
    }
    switch (c) {
      case '"': put("\\\""); break;
      case '\\': put("\\\\"); break;
      case '\n': put("\\n"); break;
      case '\r': put("\\r"); break;
      case '\t': put("\\t"); break;
      default:
        if (c < 0x20 || c == 0x7F) {
          put("\\u00");
          *out++ = kHex[c >> 4];
          *out++ = kHex[c & 15];
        } else {
          *out++ = static_cast<char>(c);
        }
    }
    ++i;
  }
  *out++ = '"';
  return out;
}

void append_json_string(std::string& out, std::string_view value) {
  const std::size_t at = out.size();
  out.resize(at + json_string_bound(value.size()));
  char* end = write_json_string(out.data() + at, value);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

std::string json_string(std::string_view value) {
  std::string out;
  append_json_string(out, value);
  return out;
}

}  // namespace regiongate
