// Fuzzes the account directory file's lines (maps/directory_line.h), which
// both the embedded directory and `regiongate accounts load` read.
//
// Properties, each a trap when broken: an account line's id is 1 to 128
// printable bytes with no ',' or whitespace, and its country is a known one
// whose code is the text after the comma in either case; an error's message
// can always be made (and quotes the input safely: printable ASCII only).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "maps/directory_line.h"

namespace {

using namespace regiongate;

void check(bool ok) {
  if (!ok) std::abort();
}

bool printable(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for_each_directory_line(text, [](std::string_view line, int line_no) {
    check(line_no >= 1);
    check(line.find('\n') == std::string_view::npos);
    const DirectoryLine parsed = parse_directory_line(line);
    if (parsed.kind == DirectoryLineKind::kAccount) {
      check(!parsed.id.empty() && parsed.id.size() <= kMaxAccountIdLength);
      check(printable(parsed.id));
      check(parsed.id.find_first_of(", \t") == std::string_view::npos);
      check(parsed.country != kNoCountry);
      check(country_from_code_any_case(parsed.code) == parsed.country);
    } else if (parsed.kind != DirectoryLineKind::kSkip) {
      check(printable(directory_line_error(parsed, line)));
    }
  });
  return 0;
}
