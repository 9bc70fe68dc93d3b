#include "util/rfc3339.h"

#include <date/date.h>

#include <chrono>
#include <cstdio>
#include <sstream>

namespace regiongate {
namespace {

using SysSeconds = date::sys_time<std::chrono::seconds>;
using SysMillis = date::sys_time<std::chrono::milliseconds>;

// Runs one date::parse format over the whole of `text`; fails if anything is left.
template <typename TimePoint, typename... Extra>
bool parse_whole(const std::string& text, const char* format, TimePoint& tp, Extra&... extra) {
  std::istringstream in(text);
  in >> date::parse(format, tp, extra...);
  if (in.fail()) return false;
  return in.peek() == std::char_traits<char>::eof();
}

}  // namespace

std::optional<UnixSeconds> parse_rfc3339(std::string_view view) {
  if (view.size() < 10 || view.size() > 40) return std::nullopt;
  std::string text(view);
  if (text.size() == 10) {
    // full-date only. date::parse accepts single-digit fields, RFC 3339 does not.
    if (text[4] != '-' || text[7] != '-') return std::nullopt;
    date::sys_days day;
    if (!parse_whole(text, "%Y-%m-%d", day)) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::seconds>(day.time_since_epoch()).count();
  }
  if (text[4] != '-' || text[7] != '-' || text.size() < 20) return std::nullopt;
  char sep = text[10];
  if (sep != 'T' && sep != 't' && sep != ' ') return std::nullopt;
  text[10] = 'T';
  if (text[13] != ':' || text[16] != ':') return std::nullopt;

  SysMillis tp;
  char last = text.back();
  if (last == 'Z' || last == 'z') {
    text.pop_back();
    if (!parse_whole(text, "%Y-%m-%dT%H:%M:%S", tp)) return std::nullopt;
  } else {
    // The offset must be "+hh:mm" or "-hh:mm" (RFC 3339 time-numoffset).
    if (text.size() < 25) return std::nullopt;
    std::size_t off = text.size() - 6;
    if ((text[off] != '+' && text[off] != '-') || text[off + 3] != ':') return std::nullopt;
    // date::parse subtracts the parsed offset, so tp is UTC.
    std::chrono::minutes offset{0};
    if (!parse_whole(text, "%Y-%m-%dT%H:%M:%S%Ez", tp, offset)) return std::nullopt;
  }
  auto secs = date::floor<std::chrono::seconds>(tp);
  return secs.time_since_epoch().count();
}

std::string format_rfc3339(UnixSeconds t) {
  return date::format("%Y-%m-%dT%H:%M:%SZ", SysSeconds{std::chrono::seconds{t}});
}

std::size_t format_rfc3339_into(UnixSeconds t, char* out, std::size_t cap) {
  if (cap < 21) return 0;
  const date::sys_days day = date::floor<date::days>(SysSeconds{std::chrono::seconds{t}});
  const date::year_month_day ymd(day);
  const auto tod = date::hh_mm_ss<std::chrono::seconds>(SysSeconds{std::chrono::seconds{t}} - day);
  int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return 0;
  int n = std::snprintf(out, cap, "%04d-%02u-%02uT%02d:%02d:%02dZ", year,
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                        static_cast<int>(tod.hours().count()),
                        static_cast<int>(tod.minutes().count()),
                        static_cast<int>(tod.seconds().count()));
  return n == 20 ? 20 : 0;
}

std::string format_rfc3339_short(UnixSeconds t) {
  if (t % 86400 == 0) return date::format("%Y-%m-%d", SysSeconds{std::chrono::seconds{t}});
  return format_rfc3339(t);
}

}  // namespace regiongate
