#pragma once
// The one JSON string writer for everything the gateway emits: access-log
// lines, its own error bodies and explain's output (observe/json_text.h
// writes whole values with it). Any input bytes give valid JSON (RFC 8259):
// '"' and '\' escaped, control characters as \n, \r, \t or \u00XX, and
// bytes that are not well-formed UTF-8 replaced by U+FFFD, never passed
// through. Allocation-free beyond appending to `out`; one append in the
// common case of plain ASCII.

#include <string>
#include <string_view>

namespace regiongate {

// Appends `value` as a JSON string, quotes included.
void append_json_string(std::string& out, std::string_view value);

// The same, returned.
std::string json_string(std::string_view value);

}  // namespace regiongate
