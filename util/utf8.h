#pragma once
// Well-formed UTF-8 (Unicode Table 3-7: no overlong forms, no surrogates,
// nothing past U+10FFFF). One definition for the JSON writer, which
// replaces what is not well-formed, and the configuration reader, which
// refuses it.

#include <cstddef>
#include <string_view>

namespace regiongate {

// The length of the well-formed UTF-8 sequence that starts at s[i] with a
// byte of 0x80 or more, or 0 when there is none.
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char b = at(0);
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;  // no surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (at(1) < lo || at(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (at(k) < 0x80 || at(k) > 0xBF) return 0;
  }
  return n;
}

// The offset of the first byte of `s` that is not part of well-formed
// UTF-8, or npos when all of it is.
inline std::size_t find_invalid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
    } else if (std::size_t n = utf8_sequence_length(s, i)) {
      i += n;
    } else {
      return i;
    }
  }
  return std::string_view::npos;
}

}  // namespace regiongate
