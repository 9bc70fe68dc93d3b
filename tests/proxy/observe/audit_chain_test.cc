// The audit log's hash chain: an edited, deleted or reordered record is
// found, and named.

#include "proxy/observe/audit_chain.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "proxy/observe/request_record.h"

namespace regiongate {
namespace {

class AuditChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("audit-chain-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Links `records` in `chain` and writes them to `name`.
  std::string write(AuditChain& chain, const std::string& name,
                    const std::vector<std::string>& records) {
    std::string batch;
    for (const std::string& r : records) batch += r + "\n";
    chain.link(batch);
    std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::app) << batch;
    return path;
  }
  std::vector<std::string> lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  void rewrite(const std::string& path, const std::vector<std::string>& ls) {
    std::ofstream out(path);
    for (const std::string& l : ls) out << l << "\n";
  }
  std::filesystem::path dir_;
};

TEST_F(AuditChainTest, EachRecordCarriesTheHashOfTheOneBefore) {
  AuditChain chain;
  std::string f = write(chain, "a.log", {R"({"n":1})", R"({"n":2})", R"({"n":3})"});
  std::vector<std::string> ls = lines(f);
  ASSERT_EQ(ls.size(), 3u);
  EXPECT_EQ(ls[0], std::string(R"({"prev":")") + std::string(AuditChain::kGenesis) + R"(","n":1})");
  EXPECT_EQ(ls[1].substr(9, 64), sha256_hex(ls[0]));
  EXPECT_EQ(chain.last(), sha256_hex(ls[2]));
  ChainCheck ok = verify_chain({f});
  EXPECT_TRUE(ok.ok) << ok.message;
  EXPECT_EQ(ok.records, 3u);
}

TEST_F(AuditChainTest, AnEditADeletionAndAReorderingAreNamed) {
  AuditChain chain;
  std::string f = write(chain, "a.log", {R"({"n":1})", R"({"n":2})", R"({"n":3})", R"({"n":4})"});
  const std::vector<std::string> good = lines(f);

  std::vector<std::string> edited = good;
  edited[1].replace(edited[1].find("\"n\":2"), 5, "\"n\":9");
  rewrite(f, edited);
  ChainCheck e = verify_chain({f});
  EXPECT_FALSE(e.ok);
  EXPECT_EQ(e.message.substr(0, f.size() + 3), f + ":3:") << e.message;

  std::vector<std::string> deleted = {good[0], good[2], good[3]};
  rewrite(f, deleted);
  ChainCheck d = verify_chain({f});
  EXPECT_FALSE(d.ok);
  EXPECT_EQ(d.message.substr(0, f.size() + 3), f + ":2:") << d.message;

  std::vector<std::string> reordered = {good[0], good[2], good[1], good[3]};
  rewrite(f, reordered);
  EXPECT_FALSE(verify_chain({f}).ok);

  rewrite(f, {good[0], "not a record", good[2]});
  ChainCheck n = verify_chain({f});
  EXPECT_FALSE(n.ok);
  EXPECT_NE(n.message.find(":2: not an audit record"), std::string::npos) << n.message;

  rewrite(f, good);
  EXPECT_TRUE(verify_chain({f}).ok);
}

TEST_F(AuditChainTest, TheChainGoesOnAcrossFilesAndRestarts) {
  AuditChain chain;
  std::string a = write(chain, "a.log", {R"({"n":1})", R"({"n":2})"});
  std::string b = write(chain, "b.log", {R"({"n":3})"});  // rotated
  AuditChain after_restart;
  after_restart.resume(b);
  write(after_restart, "b.log", {R"({"n":4})"});
  ChainCheck both = verify_chain({a, b});
  EXPECT_TRUE(both.ok) << both.message;
  EXPECT_EQ(both.records, 4u);
  EXPECT_FALSE(verify_chain({b, a}).ok);  // out of order
  EXPECT_FALSE(verify_chain({b}).ok);     // a file missing in front
}

// What a required audit log checks before forwarding is the rule the
// record is audited by, for every served request.
TEST(AuditRecord, AuditedWhenServedIsTheRuleForServedRecords) {
  for (auto records :
       {AuditLogSettings::Records::kRefusalsAndAbroad, AuditLogSettings::Records::kAll}) {
    AuditLogSettings s;
    s.records = records;
    for (const char* dc_country : {"IN", "SG"}) {
      RequestRecord r;
      r.country = "IN";
      r.datacenter = "somewhere";
      r.datacenter_country = dc_country;
      r.status = 200;
      EXPECT_EQ(audited_when_served(s, "IN", dc_country), audit_wanted(r, s)) << dc_country;
    }
    EXPECT_EQ(audited_when_served(s, "IN", "IN"), records == AuditLogSettings::Records::kAll);
    EXPECT_TRUE(audited_when_served(s, "IN", "SG"));
  }
}

TEST(AuditRecord, RefusalsAndDataServedAbroadAreAuditedAddressesCut) {
  AuditLogSettings s;
  s.client_prefix_v4 = 16;
  IpAddress client = *IpAddress::parse("203.0.113.77");
  RequestRecord abroad;
  abroad.country = "IN";
  abroad.datacenter = "singapore";
  abroad.datacenter_country = "SG";
  abroad.status = 200;
  abroad.client_address = &client;
  abroad.snapshot = 3;
  abroad.rule = "india-shop-sg-us";
  EXPECT_TRUE(audit_wanted(abroad, s));
  RequestRecord home = abroad;
  home.datacenter_country = "IN";
  EXPECT_FALSE(audit_wanted(home, s));
  RequestRecord refused = home;
  refused.datacenter = "";
  refused.datacenter_country = "";
  refused.status = 451;
  EXPECT_TRUE(audit_wanted(refused, s));
  s.records = AuditLogSettings::Records::kAll;
  EXPECT_TRUE(audit_wanted(home, s));
  std::string out;
  append_audit_record(out, "2015-01-15T00:00:00Z", abroad, s);
  EXPECT_NE(out.find(R"("client":"203.0.0.0/16")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("snapshot":3)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("rule":"india-shop-sg-us")"), std::string::npos) << out;
  IpAddress v6 = *IpAddress::parse("2001:db8:1234:5678::1");
  abroad.client_address = &v6;
  out.clear();
  append_audit_record(out, "2015-01-15T00:00:00Z", abroad, s);
  EXPECT_NE(out.find(R"("client":"2001:db8:1234::/48")"), std::string::npos) << out;

  // Prefixes inside a byte; the same address again (remembered) under
  // other settings is cut by the new ones.
  s.client_prefix_v4 = 20;
  s.client_prefix_v6 = 33;
  abroad.client_address = &client;
  for (const char* want : {R"("client":"203.0.112.0/20")", R"("client":"203.0.112.0/20")"}) {
    out.clear();
    append_audit_record(out, "2015-01-15T00:00:00Z", abroad, s);
    EXPECT_NE(out.find(want), std::string::npos) << out;
  }
  abroad.client_address = &v6;
  out.clear();
  append_audit_record(out, "2015-01-15T00:00:00Z", abroad, s);
  EXPECT_NE(out.find(R"("client":"2001:db8::/33")"), std::string::npos) << out;  // 0x1234: its first bit is 0
  s.client_prefix_v4 = 8;
  abroad.client_address = &client;
  out.clear();
  append_audit_record(out, "2015-01-15T00:00:00Z", abroad, s);
  EXPECT_NE(out.find(R"("client":"203.0.0.0/8")"), std::string::npos) << out;
}

}  // namespace
}  // namespace regiongate
