// One access-log line: valid JSON for any bytes, and no more of the path or
// the account than the operator chose to keep.

#include "proxy/observe/request_record.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

}  // namespace
}  // namespace regiongate
