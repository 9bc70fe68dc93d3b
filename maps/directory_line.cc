#include "maps/directory_line.h"

#include <optional>

namespace regiongate {
namespace {

// True when every byte is printable ASCII other than space (0x21..0x7e). No
// early exit, so the compiler can vectorise it; the slow path finds the byte.
inline bool all_id_bytes(const char* p, std::size_t n) {
  bool ok = true;
  for (std::size_t i = 0; i < n; ++i) ok &= static_cast<unsigned char>(p[i] - 0x21) < 0x5e;
  return ok;
}

inline bool is_blank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t') return false;
  }
  return true;
}

}  // namespace

DirectoryLine parse_directory_line(std::string_view line) {
  DirectoryLine out;
  if (line.empty() || line[0] == '#' || is_blank(line)) return out;
  const std::size_t comma = line.find(',');
  if (comma == std::string_view::npos) {
    out.kind = DirectoryLineKind::kNoComma;
    return out;
  }
  out.id = line.substr(0, comma);
  out.code = line.substr(comma + 1);
  if (out.id.empty()) {
    out.kind = DirectoryLineKind::kEmptyId;
  } else if (!all_id_bytes(out.id.data(), out.id.size())) {
    out.kind = DirectoryLineKind::kBadIdByte;
  } else if (out.id.size() > kMaxAccountIdLength) {
    out.kind = DirectoryLineKind::kIdTooLong;
  } else if (out.code.size() != 2) {
    out.kind = DirectoryLineKind::kBadCodeLength;
  } else if (std::optional<CountryId> country = country_from_code_any_case(out.code)) {
    out.kind = DirectoryLineKind::kAccount;
    out.country = *country;
  } else {
    out.kind = DirectoryLineKind::kUnknownCountry;
  }
  return out;
}

std::string directory_line_error(const DirectoryLine& parsed, std::string_view line) {
  switch (parsed.kind) {
    case DirectoryLineKind::kSkip:
    case DirectoryLineKind::kAccount:
      return {};
    case DirectoryLineKind::kNoComma:
      return "malformed line " + quote_for_message(line) + ": expected account_id,CC";
    case DirectoryLineKind::kEmptyId:
      return "malformed line: empty account id";
    case DirectoryLineKind::kBadIdByte: {
      std::size_t at = 0;
      while (all_id_bytes(parsed.id.data() + at, 1)) ++at;
      return "malformed line: account id has whitespace or a non-printable byte at byte " +
             std::to_string(at + 1);
    }
    case DirectoryLineKind::kIdTooLong:
      return "account id too long: " + std::to_string(parsed.id.size()) +
             " bytes, the maximum is " + std::to_string(kMaxAccountIdLength);
    case DirectoryLineKind::kBadCodeLength:
      return "malformed line: expected a 2-letter country code after ',', got " +
             quote_for_message(parsed.code);
    case DirectoryLineKind::kUnknownCountry:
      return "unknown country code " + quote_for_message(parsed.code);
  }
  return {};
}

std::string quote_for_message(std::string_view s) {
  constexpr std::size_t kMaxShown = 40;
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (s.size() > kMaxShown) out += "...";
  out += '\'';
  return out;
}

}  // namespace regiongate
