#include "proxy/observe/request_record.h"

#include <charconv>

#include "util/json.h"

namespace regiongate {
namespace {

// `key` is the whole separator and name: R"(,"client":)". An empty value
// with `nullable` is written as null.
void field(std::string& out, std::string_view key, std::string_view value, bool nullable) {
  out.append(key);
  if (nullable && value.empty()) {
    out.append("null");
  } else {
    append_json_string(out, value);
  }
}

void number(std::string& out, std::string_view key, std::uint64_t value) {
  out.append(key);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

}  // namespace

void append_access_log_line(std::string& out, std::string_view time, const RequestRecord& r) {
  out.append("{\"time\":");
  append_json_string(out, time);
  field(out, R"(,"client":)", r.client, false);
  field(out, R"(,"country":)", r.country, true);
  field(out, R"(,"country_source":)", r.country_source, false);
  field(out, R"(,"service":)", r.service, true);
  field(out, R"(,"rule":)", r.rule, true);
  field(out, R"(,"datacenter":)", r.datacenter, true);
  number(out, R"(,"status":)", static_cast<std::uint64_t>(r.status));
  field(out, R"(,"reason":)", r.reason, false);
  field(out, R"(,"outcome":)", r.outcome, false);
  number(out, R"(,"bytes_in":)", r.bytes_in);
  number(out, R"(,"bytes_out":)", r.bytes_out);
  number(out, R"(,"duration_us":)", r.duration_us);
  out.append("}\n");
}

}  // namespace regiongate
