#pragma once
// One line of an account directory file (`account_id,CC`, docs/directory.md),
// parsed the same way wherever such a file is read: the embedded directory
// (maps/file_directory.cc) and the Redis loader (`regiongate accounts load`).
//
// Parsing allocates nothing: an error is a code, and its message is only
// formatted when someone is going to show it (a file of a million bad lines
// stays cheap to reject).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "maps/country.h"

namespace regiongate {

// Maximum account id length in bytes.
inline constexpr std::size_t kMaxAccountIdLength = 128;

enum class DirectoryLineKind : std::uint8_t {
  kSkip,     // blank or a '#' comment
  kAccount,  // id and country are set
  kNoComma,
  kEmptyId,
  kBadIdByte,  // whitespace or a non-printable byte in the id
  kIdTooLong,
  kBadCodeLength,
  kUnknownCountry,
};

struct DirectoryLine {
  DirectoryLineKind kind = DirectoryLineKind::kSkip;
  std::string_view id;        // kAccount (and the id errors): points into the line
  std::string_view code;      // the text after ',' (kAccount and the code errors)
  CountryId country = kNoCountry;  // kAccount
};

// Parses one line, without its line end ('\n' and a trailing '\r' removed).
DirectoryLine parse_directory_line(std::string_view line);

// The message for an error kind ("unknown country code 'ZZ'"); `line` is the
// line that was parsed.
std::string directory_line_error(const DirectoryLine& parsed, std::string_view line);

// User bytes shown safely and briefly in a message: quoted, non-printable
// bytes as \xNN, cut after 40 bytes.
std::string quote_for_message(std::string_view s);

// Calls f(line, line_no) for each line of a whole file's text, 1-based, with
// the line end removed: '\n', a '\r' before it (CRLF files), and a leading
// UTF-8 byte order mark (what Windows editors write at the start of "UTF-8
// CSV" files).
template <typename F>
void for_each_directory_line(std::string_view text, F&& f) {
  constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
  std::size_t pos = text.starts_with(kByteOrderMark) ? kByteOrderMark.size() : 0;
  int line_no = 0;
  while (pos < text.size()) {
    ++line_no;
    const char* line = text.data() + pos;
    const auto* nl = static_cast<const char*>(std::memchr(line, '\n', text.size() - pos));
    std::size_t len = nl ? static_cast<std::size_t>(nl - line) : text.size() - pos;
    pos += len + (nl ? 1 : 0);
    if (len > 0 && line[len - 1] == '\r') --len;
    f(std::string_view(line, len), line_no);
  }
}

}  // namespace regiongate
