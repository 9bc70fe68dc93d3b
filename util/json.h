#pragma once
// The one JSON string writer for everything the gateway emits: access-log
// lines, its own error bodies and explain's output (observe/json_text.h
// writes whole values with it). Any input bytes give valid JSON (RFC 8259):
// '"' and '\' escaped, control characters as \n, \r, \t or \u00XX, and
// bytes that are not well-formed UTF-8 replaced by U+FFFD, never passed
// through. Allocation-free beyond appending to `out`; one append in the
// common case of plain ASCII.

#include <cstddef>
#include <string>
#include <string_view>

namespace regiongate {

// Appends `value` as a JSON string, quotes included.
void append_json_string(std::string& out, std::string_view value);

// The most bytes write_json_string() writes for a value of `length` bytes:
// the quotes, and six per byte (a control character as \u00XX; a stray
// byte becomes U+FFFD, three).
constexpr std::size_t json_string_bound(std::size_t length) { return 2 + 6 * length; }
// The same into a buffer with room for json_string_bound(value.size());
// returns the end of what it wrote. For writers that size a whole line once
// (the access log) instead of growing a string per field.
char* write_json_string(char* out, std::string_view value);

// The same, returned.
std::string json_string(std::string_view value);

}  // namespace regiongate
