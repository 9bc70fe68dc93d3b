// One access-log line: valid JSON for any bytes, and no more of the path or
// the account than the operator chose to keep.

#include "proxy/observe/request_record.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace regiongate {
namespace {

RequestRecord record() {
  RequestRecord r;
  r.method = "GET";
  r.path = "/cloud/photos/1?token=secret";
  r.account = "in-ravi";
  r.client = "127.4.0.10";
  r.country = "IN";
  r.country_source = "directory";
  r.service = "cloud";
  r.rule = "india-cloud-sg-us";
  r.datacenter = "oregon";
  r.status = 200;
  r.reason = "allowed";
  r.outcome = "complete";
  r.bytes_in = 0;
  r.bytes_out = 1234;
  r.duration_us = 567;
  return r;
}

nlohmann::json line(const RequestRecord& r, const AccessLogSettings& s) {
  std::string out;
  append_access_log_line(out, "2015-01-15T00:00:00Z", r, s);
  EXPECT_EQ(out.back(), '\n');
  return nlohmann::json::parse(out);
}

TEST(AccessLogLine, ByDefaultTheQueryIsCutAndTheAccountLeftOut) {
  nlohmann::json j = line(record(), AccessLogSettings{});
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/cloud/photos/1");
  EXPECT_FALSE(j.contains("account"));
  EXPECT_EQ(j["datacenter"], "oregon");
  EXPECT_EQ(j["bytes_out"], 1234);
  EXPECT_EQ(j["outcome"], "complete");
}

TEST(AccessLogLine, PathsAreKeptWholeOrNotAtAll) {
  AccessLogSettings s;
  s.path = AccessLogSettings::Path::kFull;
  EXPECT_EQ(line(record(), s)["path"], "/cloud/photos/1?token=secret");
  s.path = AccessLogSettings::Path::kOff;
  EXPECT_TRUE(line(record(), s)["path"].is_null());
}

TEST(AccessLogLine, AccountsAreKeptOrHashedWithTheOperatorsKey) {
  AccessLogSettings s;
  s.account = AccessLogSettings::Account::kKeep;
  EXPECT_EQ(line(record(), s)["account"], "in-ravi");
  s.account = AccessLogSettings::Account::kHash;
  s.hash_key = "0123456789abcdef0123456789abcdef";
  // Python's hmac module: hmac.new(key, b"in-ravi", hashlib.sha256).hexdigest()[:32].
  EXPECT_EQ(line(record(), s)["account"], "hmac-sha256:c471ac6da64df02f90599e74455c0bf2");
  RequestRecord none = record();
  none.account = "";
  EXPECT_TRUE(line(none, s)["account"].is_null());
  s.hash_key = "another key, another hash......";
  EXPECT_NE(line(record(), s)["account"], "hmac-sha256:c471ac6da64df02f90599e74455c0bf2");
}

TEST(AccessLogLine, AnyBytesGiveValidJson) {
  RequestRecord r = record();
  r.path = "/a\"b\\c\x01\xff";
  r.account = "x\ny";
  AccessLogSettings s;
  s.path = AccessLogSettings::Path::kFull;
  s.account = AccessLogSettings::Account::kKeep;
  nlohmann::json j = line(r, s);
  EXPECT_EQ(j["path"], "/a\"b\\c\x01\xEF\xBF\xBD");
  EXPECT_EQ(j["account"], "x\ny");
}

// Fields are copied and escaped by length class (a few bytes, a word, two,
// more): every length from empty to past the longest class comes out whole,
// in a line after other lines (the batch a worker appends to).
TEST(AccessLogLine, FieldsOfEveryLengthComeOutWhole) {
  AccessLogSettings s;
  s.path = AccessLogSettings::Path::kFull;
  s.account = AccessLogSettings::Account::kKeep;
  std::string batch;
  std::vector<std::string> texts;
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string text;
    for (std::size_t i = 0; i < n; ++i) text += static_cast<char>('a' + (i * 7 + n) % 26);
    texts.push_back(text);
    RequestRecord r = record();
    r.method = r.path = r.account = r.service = r.rule = r.datacenter = r.client = texts.back();
    r.country_source = r.reason = r.outcome = texts.back();
    append_access_log_line(batch, "2015-01-15T00:00:00Z", r, s);
  }
  std::size_t start = 0;
  for (std::size_t n = 0; n <= 40; ++n) {
    const std::size_t end = batch.find('\n', start);
    ASSERT_NE(end, std::string::npos) << n;
    const nlohmann::json j = nlohmann::json::parse(batch.substr(start, end - start));
    start = end + 1;
    const std::string& want = texts[n];
    for (const char* key : {"method", "path", "account", "service", "rule", "datacenter"}) {
      EXPECT_EQ(j[key], want.empty() ? nlohmann::json() : nlohmann::json(want)) << key << " " << n;
    }
    for (const char* key : {"client", "country_source", "reason", "outcome"}) {
      EXPECT_EQ(j[key], want) << key << " " << n;
    }
  }
  EXPECT_EQ(start, batch.size());
}

// Numbers are written by size class: each boundary comes out exact.
TEST(AccessLogLine, NumbersOfEverySizeComeOutExact) {
  // Every count of digits, at both ends (the writer finds the length by
  // comparisons up to 8 digits, and hands longer ones to to_chars).
  std::vector<std::uint64_t> values = {451, 65535, 18446744073709551615ull};
  for (std::uint64_t power = 1; power <= 10'000'000'000ull; power *= 10) {
    values.push_back(power - 1);
    values.push_back(power);
  }
  for (std::uint64_t v : values) {
    RequestRecord r = record();
    r.bytes_in = r.bytes_out = r.duration_us = v;
    r.status = static_cast<int>(v % 1000);
    const nlohmann::json j = line(r, AccessLogSettings{});
    EXPECT_EQ(j["bytes_in"].get<std::uint64_t>(), v);
    EXPECT_EQ(j["bytes_out"].get<std::uint64_t>(), v);
    EXPECT_EQ(j["duration_us"].get<std::uint64_t>(), v);
    EXPECT_EQ(j["status"].get<int>(), static_cast<int>(v % 1000));
  }
}

// A line longer than the writer's room on the stack is written in place.
TEST(AccessLogLine, AVeryLongPathIsWrittenWhole) {
  AccessLogSettings s;
  s.path = AccessLogSettings::Path::kFull;
  RequestRecord r = record();
  const std::string path = "/" + std::string(5000, 'p') + "\x01";
  r.path = path;
  std::string batch = "before\n";
  append_access_log_line(batch, "2015-01-15T00:00:00Z", r, s);
  ASSERT_EQ(batch.rfind("before\n", 0), 0u);
  const nlohmann::json j = nlohmann::json::parse(batch.substr(7));
  EXPECT_EQ(j["path"], "/" + std::string(5000, 'p') + "\x01");
  EXPECT_EQ(j["status"], 200);
}

// With both logs on, the audit record copies the access line's decision
// fields instead of formatting them again: it must come out the same,
// for a line written on the stack or in place, with fields null or not.
TEST(AccessLogLine, TheAuditRecordSharesTheLinesDecisionFieldsByteForByte) {
  const IpAddress client = *IpAddress::parse("127.4.0.10");
  std::vector<RequestRecord> records(4, record());
  for (RequestRecord& r : records) r.client_address = &client;
  records[1].country = records[1].service = records[1].rule = records[1].datacenter = "";
  records[1].status = 451;
  records[2].datacenter_country = "US";
  const std::string long_path = "/" + std::string(5000, 'p');
  records[3].path = long_path;  // past the room on the stack
  AccessLogSettings access;
  access.path = AccessLogSettings::Path::kFull;
  for (const RequestRecord& r : records) {
    std::string lines = "before\n", shared, alone;
    const std::string_view decision = append_access_log_line(lines, "2015-01-15T00:00:00Z", r, access);
    ASSERT_GE(decision.data(), lines.data() + 7);
    ASSERT_LE(decision.data() + decision.size(), lines.data() + lines.size());
    EXPECT_EQ(decision.rfind(R"(,"country":)", 0), 0u) << decision;
    EXPECT_NE(decision.find(R"(,"datacenter":)"), std::string_view::npos) << decision;
    append_audit_record(shared, "2015-01-15T00:00:00Z", r, AuditLogSettings{}, decision);
    append_audit_record(alone, "2015-01-15T00:00:00Z", r, AuditLogSettings{});
    EXPECT_EQ(shared, alone);
    EXPECT_EQ(nlohmann::json::parse(shared)["datacenter"], nlohmann::json::parse(lines.substr(7))["datacenter"]);
  }
}

}  // namespace
}  // namespace regiongate
