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

bool audited_when_served(const AuditLogSettings& settings, std::string_view account_country,
                         std::string_view datacenter_country) {
  return settings.records == AuditLogSettings::Records::kAll ||
         datacenter_country != account_country;
}

bool audit_wanted(const RequestRecord& r, const AuditLogSettings& settings) {
  if (settings.records == AuditLogSettings::Records::kAll) return true;
  const bool refused = r.datacenter.empty() && r.status >= 400;
  const bool served = !r.datacenter_country.empty();
  return refused || (served && audited_when_served(settings, r.country, r.datacenter_country));
}

namespace {

// The address cut to its network: "203.0.113.0/24", "2001:db8:1::/48".
std::string truncated(const IpAddress& address, const AuditLogSettings& settings) {
  IpAddress a = address;
  const bool v4 = a.is_v4();
  const int keep = (v4 ? 96 + settings.client_prefix_v4 : settings.client_prefix_v6);
  for (int bit = keep; bit < 128; ++bit) {
    a.bytes[static_cast<std::size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  }
  return a.to_string() + "/" +
         std::to_string(v4 ? settings.client_prefix_v4 : settings.client_prefix_v6);
}

}  // namespace

void append_audit_record(std::string& out, std::string_view time, const RequestRecord& r,
                         const AuditLogSettings& settings) {
  out.append("{\"time\":");
  append_json_string(out, time);
  number(out, R"(,"snapshot":)", r.snapshot);
  field(out, R"(,"country":)", r.country, true);
  field(out, R"(,"country_source":)", r.country_source, false);
  field(out, R"(,"service":)", r.service, true);
  field(out, R"(,"rule":)", r.rule, true);
  field(out, R"(,"datacenter":)", r.datacenter, true);
  field(out, R"(,"datacenter_country":)", r.datacenter_country, true);
  number(out, R"(,"status":)", static_cast<std::uint64_t>(r.status));
  field(out, R"(,"reason":)", r.reason, false);
  field(out, R"(,"client":)", r.client_address ? truncated(*r.client_address, settings) : "", true);
  out.append("}\n");
}

}  // namespace regiongate
