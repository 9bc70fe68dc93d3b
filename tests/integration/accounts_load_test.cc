// `regiongate accounts load`: the real binary loads an account directory
// file into a real redis-server and a real 3-node Redis Cluster; the
// accounts are read back with redis-cli.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>

#include "tests/integration/run_process.h"
#include "tests/proxy/directory/redis_test_server.h"

namespace regiongate::testing {
namespace {

constexpr int kAccounts = 5000;
const char* const kCodes[] = {"IN", "cn", "US", "br", "SG"};

class AccountsLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("regiongate_load_" + std::to_string(::getpid()) + ".csv")).string();
    std::ofstream out(path_);
    out << "# generated\n";
    for (int i = 0; i < kAccounts; ++i) out << "acct-" << i << ',' << kCodes[i % 5] << "\r\n";
  }
  void TearDown() override { std::filesystem::remove(path_); }

  ProcessResult load(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {REGIONGATE_BINARY, "accounts", "load", path_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_process(argv, 120);
  }
  static std::string get(const RedisTestServer& node, const std::string& key, bool cluster) {
    std::vector<std::string> args;
    if (cluster) args.push_back("-c");
    args.push_back("GET");
    args.push_back(key);
    return node.cli(args).out;
  }

  std::string path_;
};

TEST_F(AccountsLoadTest, LoadsStandaloneAndReadsBack) {
  RedisTestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  ProcessResult r = load({"--redis", "redis://" + server.authority(), "--batch", "256"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("loaded 5000 accounts"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("accounts/s"), std::string::npos) << r.out;
  EXPECT_EQ(server.cli({"DBSIZE"}).out, std::to_string(kAccounts) + "\n");
  EXPECT_EQ(get(server, "acct:acct-0", false), "IN\n");
  EXPECT_EQ(get(server, "acct:acct-1", false), "CN\n");  // written upper case
  EXPECT_EQ(get(server, "acct:acct-4999", false), "SG\n");
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

TEST_F(AccountsLoadTest, LoadsAClusterByKeySlot) {
  RedisTestCluster cluster;
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  ProcessResult r = load({"--redis", cluster.node(1).authority(), "--cluster", "--key-prefix", "a:"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("into 3 redis node(s)"), std::string::npos) << r.out;
  long long total = 0;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    const long long here = std::stoll(cluster.node(i).cli({"DBSIZE"}).out);
    EXPECT_GT(here, 0) << "node " << i;
    total += here;
  }
  EXPECT_EQ(total, kAccounts);
  for (int i : {0, 2, 3, 4998}) {
    std::string expected = kCodes[i % 5];
    for (char& c : expected) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(get(cluster.node(0), "a:acct-" + std::to_string(i), true), expected + "\n");
  }
  for (std::size_t i = 0; i < cluster.size(); ++i) EXPECT_EQ(cluster.node(i).stop(SIGTERM), 0);
}

TEST_F(AccountsLoadTest, BadFileNamesTheLineAndWritesNothing) {
  {
    std::ofstream out(path_, std::ios::app);
    out << "acct-0,IN\n"    // line 5002: a duplicate
        << "broken line\n"  // 5003
        << "x,ZZ\n";        // 5004
  }
  RedisTestServer server;
  ASSERT_TRUE(server.ok()) << server.error();
  ProcessResult r = load({"--redis", server.authority()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(path_ + ":5002: error: duplicate account id 'acct-0'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path_ + ":5003: error: malformed line"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(path_ + ":5004: error: unknown country code 'ZZ'"), std::string::npos) << r.err;
  EXPECT_EQ(server.cli({"DBSIZE"}).out, "0\n");
  EXPECT_EQ(load({"--redis", "redis.internal:6379"}).exit_code, 2);
  EXPECT_EQ(server.stop(SIGTERM), 0);
}

}  // namespace
}  // namespace regiongate::testing
