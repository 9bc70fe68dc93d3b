#include "proxy/observe/request_record.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

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

std::string hashed_account(std::string_view key, std::string_view account) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(account.data()), account.size(), mac, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "hmac-sha256:";
  for (unsigned int i = 0; i < 16 && i < length; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

void append_access_log_line(std::string& out, std::string_view time, const RequestRecord& r,
                            const AccessLogSettings& settings) {
  out.append("{\"time\":");
  append_json_string(out, time);
  field(out, R"(,"method":)", r.method, true);
  switch (settings.path) {
    case AccessLogSettings::Path::kFull: field(out, R"(,"path":)", r.path, true); break;
    case AccessLogSettings::Path::kWithoutQuery:
      field(out, R"(,"path":)", r.path.substr(0, r.path.find('?')), true);
      break;
    case AccessLogSettings::Path::kOff: out.append(R"(,"path":null)"); break;
  }
  switch (settings.account) {
    case AccessLogSettings::Account::kOmit: break;
    case AccessLogSettings::Account::kKeep: field(out, R"(,"account":)", r.account, true); break;
    case AccessLogSettings::Account::kHash:
      if (r.account.empty()) {
        out.append(R"(,"account":null)");
      } else {
        field(out, R"(,"account":)", hashed_account(settings.hash_key, r.account), false);
      }
      break;
  }
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
