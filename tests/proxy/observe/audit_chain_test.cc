// The audit log's hash chain: an edited, deleted or reordered record is
// found, and named.

#include "proxy/observe/audit_chain.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

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

// The seal line's fields, as the writer wrote them.
struct SealFields {
  std::string hash, prev;
  std::size_t records = 0;
};
SealFields seal_of(const std::string& line) {
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j.size(), 3u) << line;
  return {j["seal"], j["prev"], j["records"]};
}

TEST_F(AuditChainTest, EachBatchIsSealedOverItsRecordsAndTheSealBefore) {
  AuditChain chain;
  std::string f = write(chain, "a.log", {R"({"n":1})", R"({"n":2})", R"({"n":3})"});
  write(chain, "a.log", {R"({"n":4})"});
  std::vector<std::string> ls = lines(f);
  ASSERT_EQ(ls.size(), 6u);
  EXPECT_EQ(ls[0], R"({"n":1})");  // records are written as they came
  SealFields first = seal_of(ls[3]);
  EXPECT_EQ(first.prev, AuditChain::kGenesis);
  EXPECT_EQ(first.records, 3u);
  EXPECT_EQ(first.hash,
            sha256_hex(std::string(AuditChain::kGenesis) + ls[0] + "\n" + ls[1] + "\n" + ls[2] + "\n"));
  SealFields second = seal_of(ls[5]);
  EXPECT_EQ(second.prev, first.hash);
  EXPECT_EQ(second.records, 1u);
  EXPECT_EQ(second.hash, sha256_hex(first.hash + ls[4] + "\n"));
  EXPECT_EQ(chain.last(), second.hash);
  ChainCheck ok = verify_chain({f});
  EXPECT_TRUE(ok.ok) << ok.message;
  EXPECT_EQ(ok.records, 4u);
  EXPECT_EQ(ok.seals, 2u);
  EXPECT_NE(ok.message.find("the last seal is " + second.hash), std::string::npos) << ok.message;

  std::string empty;
  chain.link(empty);  // nothing to seal
  EXPECT_EQ(empty, "");
}

// One write of the gateway's (several workers' batches) gets one seal, after
// its last batch, over all their records; a seal with nothing added since
// the last one writes nothing.
TEST_F(AuditChainTest, BatchesAddedTogetherShareOneSealAfterTheLast) {
  AuditChain chain;
  std::string one = "{\"n\":1}\n{\"n\":2}\n", two = "{\"n\":3}\n", empty;
  chain.add(one, 2);
  chain.add(empty, 0);
  chain.add(two, 1);
  chain.seal(two);
  EXPECT_EQ(one, "{\"n\":1}\n{\"n\":2}\n") << "only the last batch carries the seal";
  ASSERT_TRUE(two.starts_with("{\"n\":3}\n{\"seal\":")) << two;
  const SealFields seal = seal_of(two.substr(two.find('\n') + 1));
  EXPECT_EQ(seal.records, 3u);
  EXPECT_EQ(seal.hash, sha256_hex(std::string(AuditChain::kGenesis) + one + "{\"n\":3}\n"));
  EXPECT_EQ(chain.last(), seal.hash);
  std::string after = "{\"n\":4}\n";
  chain.seal(after);
  EXPECT_EQ(after, "{\"n\":4}\n") << "nothing added since the seal";

  const std::string path = (dir_ / "shared.log").string();
  std::ofstream(path) << one << two;
  ChainCheck ok = verify_chain({path});
  EXPECT_TRUE(ok.ok) << ok.message;
  EXPECT_EQ(ok.records, 3u);
  EXPECT_EQ(ok.seals, 1u);
}

TEST_F(AuditChainTest, AnEditADeletionAndAReorderingAreNamedWithTheLinesTheyAreIn) {
  AuditChain chain;
  std::string f = write(chain, "a.log", {R"({"n":1})", R"({"n":2})"});
  write(chain, "a.log", {R"({"n":3})", R"({"n":4})", R"({"n":5})"});
  write(chain, "a.log", {R"({"n":6})"});
  const std::vector<std::string> good = lines(f);
  ASSERT_EQ(good.size(), 9u);  // seals at lines 3, 7 and 9
  auto verify_as = [&](const std::vector<std::string>& ls) {
    rewrite(f, ls);
    return verify_chain({f});
  };
  auto expect_broken = [&](const std::vector<std::string>& ls, const std::string& said) {
    ChainCheck c = verify_as(ls);
    EXPECT_FALSE(c.ok);
    EXPECT_EQ(c.message.substr(0, f.size() + said.size()), f + said) << c.message;
  };

  std::vector<std::string> edited = good;
  edited[4].replace(edited[4].find("\"n\":4"), 5, "\"n\":9");
  expect_broken(edited, ":7: the chain is broken: the seal over the 3 line(s) from " + f +
                            ":4 does not hold");

  expect_broken({good[0], good[1], good[2], good[3], good[5], good[6], good[7], good[8]},
                ":6: the chain is broken: this seal is over 3 record(s), but the 2 line(s)");
  expect_broken({good[0], good[1], good[2], good[4], good[3], good[5], good[6], good[7], good[8]},
                ":7: the chain is broken: the seal over");
  std::vector<std::string> added = good;
  added.insert(added.begin() + 1, R"({"n":1.5})");
  expect_broken(added, ":4: the chain is broken: this seal is over 2 record(s), but the 3");
  // A whole batch gone, its seal too: the next seal says so.
  expect_broken({good[0], good[1], good[2], good[7], good[8]},
                ":5: the chain is broken: this seal does not follow the seal before it");
  // A seal edited.
  std::vector<std::string> reseal = good;
  reseal[2].replace(reseal[2].find("\"records\":2"), 11, "\"records\":1");
  expect_broken(reseal, ":3: the chain is broken: this seal is over 1 record(s)");
  // Records after the last seal.
  expect_broken({good[0], good[1], good[2], good[3]},
                ":4: 1 line(s) after the last seal are not sealed");
  expect_broken({good[0], good[1]}, ":1: 2 line(s) after the last seal are not sealed");

  ChainCheck back = verify_as(good);
  EXPECT_TRUE(back.ok) << back.message;
  EXPECT_EQ(back.records, 6u);
}

TEST_F(AuditChainTest, TheChainGoesOnAcrossFilesAndRestarts) {
  AuditChain chain;
  std::string a = write(chain, "a.log", {R"({"n":1})", R"({"n":2})"});
  std::string b = write(chain, "b.log", {R"({"n":3})"});  // rotated
  AuditChain after_restart;
  after_restart.resume(b);
  EXPECT_EQ(after_restart.last(), chain.last());
  write(after_restart, "b.log", {R"({"n":4})"});
  ChainCheck both = verify_chain({a, b});
  EXPECT_TRUE(both.ok) << both.message;
  EXPECT_EQ(both.records, 4u);
  EXPECT_EQ(both.seals, 3u);
  EXPECT_FALSE(verify_chain({b, a}).ok);  // out of order
  ChainCheck missing = verify_chain({b});  // a file missing in front
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.message.find(b + ":2: the chain is broken: this seal does not follow"),
            std::string::npos)
      << missing.message;
  EXPECT_EQ(verify_chain({a, b + ".gone"}).message, b + ".gone: cannot read it");
}

// Only what the writer writes is a seal: anything else that starts like
// one is a line like any other, covered by the next seal (or left unsealed).
TEST_F(AuditChainTest, ALineIsASealOnlyWhenItIsExactlyOne) {
  AuditChain chain;
  std::string f = write(chain, "a.log", {R"({"n":1})"});
  const std::vector<std::string> good = lines(f);
  ASSERT_EQ(good.size(), 2u);
  const std::string& seal = good[1];
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = seal;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  for (const std::string& not_a_seal :
       {with("\"records\":1", "\"records\":01"), with("\"records\":1", "\"records\":-1"),
        with("\"records\":1", "\"records\":1,\"x\":2"), with("\"records\":1}", "\"records\":1} "),
        with(R"({"seal":")", R"({"seal": ")"), with(R"("prev":"0)", R"("prev":"O)"),
        seal.substr(0, 20)}) {
    SCOPED_TRACE(not_a_seal);
    rewrite(f, {good[0], not_a_seal});
    ChainCheck c = verify_chain({f});
    EXPECT_FALSE(c.ok);
    EXPECT_TRUE(c.message.starts_with(f + ":1: 2 line(s) after the last seal are not sealed"))
        << c.message;
  }
  std::string upper = seal;  // the hash's hex digits in capitals
  for (std::size_t i = 9; i < 9 + 64; ++i) {
    if (upper[i] >= 'a' && upper[i] <= 'f') upper[i] = static_cast<char>(upper[i] - 'a' + 'A');
  }
  ASSERT_NE(upper, seal);
  rewrite(f, {good[0], upper});
  EXPECT_FALSE(verify_chain({f}).ok);
  rewrite(f, good);
  EXPECT_TRUE(verify_chain({f}).ok);
}

// A batch half written when the log was rotated goes on in the next file:
// the files are read as one stream.
TEST_F(AuditChainTest, ABatchSplitAcrossTwoFilesStillVerifies) {
  AuditChain chain;
  std::string batch = "{\"n\":1}\n{\"n\":2}\n";
  chain.link(batch);
  const std::string a = (dir_ / "a.log").string(), b = (dir_ / "b.log").string();
  std::ofstream(a) << batch.substr(0, 12);  // inside the second record
  std::ofstream(b) << batch.substr(12);
  ChainCheck c = verify_chain({a, b});
  EXPECT_TRUE(c.ok) << c.message;
  EXPECT_EQ(c.records, 2u);
  ChainCheck alone = verify_chain({a});
  EXPECT_FALSE(alone.ok);
  EXPECT_EQ(alone.message, a + ":1: 2 line(s) after the last seal are not sealed (a gateway "
                               "stopped while it wrote them seals them when it starts again on "
                               "this file)");
}

// A gateway that stopped in the middle of a write left records after its
// last seal, the last one cut short: the next start seals them as they are.
TEST_F(AuditChainTest, ARestartSealsWhatACrashLeftUnsealed) {
  struct Crash {
    const char* left;  // after the last seal
    std::size_t lines;
  };
  for (const Crash& crash : {Crash{"{\"n\":3}\n{\"n\":", 2}, Crash{"{\"n\":3}\n", 1}, Crash{"", 0}}) {
    SCOPED_TRACE(crash.left);
    AuditChain chain;
    std::string f = write(chain, "crash.log", {R"({"n":1})", R"({"n":2})"});
    std::ofstream(f, std::ios::app) << crash.left;
    EXPECT_EQ(verify_chain({f}).ok, crash.lines == 0);
    AuditChain restarted;
    restarted.resume(f);
    write(restarted, "crash.log", {R"({"n":4})"});
    ChainCheck c = verify_chain({f});
    EXPECT_TRUE(c.ok) << c.message;
    EXPECT_EQ(c.records, 3u + crash.lines);
    std::filesystem::remove(f);
  }
  // Cut just before a seal's newline: the seal holds, the next batch starts on a line.
  AuditChain chain;
  std::string f = write(chain, "crash.log", {R"({"n":1})"});
  std::vector<std::string> ls = lines(f);
  std::ofstream(f) << ls[0] << "\n" << ls[1];
  AuditChain restarted;
  restarted.resume(f);
  EXPECT_EQ(restarted.last(), chain.last());
  write(restarted, "crash.log", {R"({"n":2})"});
  ChainCheck c = verify_chain({f});
  EXPECT_TRUE(c.ok) << c.message;
  EXPECT_EQ(c.records, 2u);
  EXPECT_EQ(lines(f).size(), 4u);
}

// Logs from before seals: each record carried the SHA-256 of the line
// before it. They verify, and a gateway resuming one seals on from them.
TEST_F(AuditChainTest, ALogFromBeforeSealsVerifiesAndGoesOn) {
  const std::string r1 = std::string(R"({"prev":")") + std::string(AuditChain::kGenesis) + R"(","n":1})";
  const std::string r2 = R"({"prev":")" + sha256_hex(r1) + R"(","n":2})";
  const std::string f = (dir_ / "old.log").string();
  rewrite(f, {r1, r2});
  ChainCheck old = verify_chain({f});
  EXPECT_TRUE(old.ok) << old.message;
  EXPECT_EQ(old.records, 2u);
  AuditChain chain;
  chain.resume(f);
  EXPECT_EQ(chain.last(), sha256_hex(r2));
  write(chain, "old.log", {R"({"n":3})"});
  ChainCheck both = verify_chain({f});
  EXPECT_TRUE(both.ok) << both.message;
  EXPECT_EQ(both.records, 3u);
  std::vector<std::string> ls = lines(f);
  ls[0].replace(ls[0].find("\"n\":1"), 5, "\"n\":7");
  rewrite(f, ls);
  ChainCheck broken = verify_chain({f});
  EXPECT_FALSE(broken.ok);
  EXPECT_NE(broken.message.find(f + ":2: the chain is broken: this record does not follow"),
            std::string::npos)
      << broken.message;
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
