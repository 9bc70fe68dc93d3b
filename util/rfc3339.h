#pragma once
// RFC 3339 instants, as policy authors write them and as the CLI prints them.
// Parsing is done by Howard Hinnant's date library (the basis of C++20
// <chrono> parsing, which GCC 12 lacks); this file only picks the formats.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace regiongate {

// Seconds since the Unix epoch, UTC. Sub-second precision is not kept: policy
// windows and decisions work at one-second granularity.
using UnixSeconds = std::int64_t;

// Parses "2014-10-31T00:00:00Z", "2014-10-31T05:30:00+05:30", with an optional
// fraction of a second (truncated), 't' or ' ' for 'T', 'z' for 'Z'; and a
// full-date alone ("2014-10-31"), meaning midnight UTC that day.
// Returns nullopt for anything else, including out-of-range fields.
std::optional<UnixSeconds> parse_rfc3339(std::string_view text);

// "2014-10-31T00:00:00Z".
std::string format_rfc3339(UnixSeconds t);
// The same into `out` (at least 21 bytes, years 0-9999); returns the length,
// 0 when it does not fit. No allocation: for the access log.
std::size_t format_rfc3339_into(UnixSeconds t, char* out, std::size_t cap);
// "2014-10-31" when t is midnight UTC, else the full format_rfc3339 form.
std::string format_rfc3339_short(UnixSeconds t);

}  // namespace regiongate
