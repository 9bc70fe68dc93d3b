// Hot reload (SIGHUP): a policy author's edit takes effect without a
// restart; a broken edit is rejected whole, with file:line:col, and the
// running snapshot keeps serving; a connection open across the reload is
// not dropped; what only a restart can change is reported, not applied.

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/python_peers.h"
#include "tests/integration/text_file.h"
#include "util/rfc3339.h"

namespace regiongate::testing {
namespace {

class ReloadTest : public GatewayFixture {
 protected:
  // The copied `file`'s text.
  std::string text_of(const std::string& file) { return read_text(dir_ / file); }
  // Replaces the first `from` in the copied `file` with `to`, in place.
  void edit(const std::string& file, const std::string& from, const std::string& to) {
    edit_text(dir_ / file, from, to);
  }
  // The gateway's memory mappings (/proc/PID/maps): which files it maps.
  std::string gateway_maps() { return read_text("/proc/" + std::to_string(gateway_->pid()) + "/maps"); }
  // Where Asha's shop request goes now (or "refused: " and the reason).
  std::string asha_shop_dc() { return shop_dc({"-H", "x-account-id: in-asha"}); }
  // The same for a shop request sent with curl's `args`.
  std::string shop_dc(std::vector<std::string> args) {
    args.insert(args.end(), {"-H", "host: api.example.com"});
    ProcessResult r = curl(args, "/shop/cart");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::smatch m;
    if (std::regex_search(r.out, m, std::regex("x-regiongate-dc: ([a-z-]+)"))) return m[1].str();
    if (std::regex_search(r.out, m, std::regex("x-regiongate-reason: ([a-z-]+)"))) {
      return "refused: " + m[1].str();
    }
    return r.out;
  }
};

const std::string kSgUs = "    from: 2014-10-31\n    until: 2015-06-01\n    allow: [SG, US]";
const std::string kUsOnly = "    from: 2014-10-31\n    until: 2015-06-01\n    allow: [US]";

TEST_F(ReloadTest, ASighupPublishesAnEditedPolicyToNewRequests) {
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("oregon"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  EXPECT_EQ(asha_shop_dc(), "singapore");
  // Indian shop data may no longer go to Singapore.
  ASSERT_NO_FATAL_FAILURE(edit("policy.yaml", kSgUs, kUsOnly));
  std::string line = reload_and_wait("reloaded ");
  EXPECT_NE(line.find("snapshot 2:"), std::string::npos) << line;
  EXPECT_NE(line.find("proof holds"), std::string::npos) << line;
  EXPECT_EQ(asha_shop_dc(), "oregon");  // California has no origin: the next allowed one
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

TEST_F(ReloadTest, ABrokenEditIsRejectedWholeAndTheRunningSnapshotKeepsServing) {
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("oregon"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  const std::string policy = (dir_ / "policy.yaml").string();

  // A YAML syntax error: named with its file, line and column.
  ASSERT_NO_FATAL_FAILURE(edit("policy.yaml", kSgUs, "    from: 2014-10-31\n    allow: [US"));
  std::string line = reload_and_wait("reload rejected");
  EXPECT_NE(line.find("snapshot 1 keeps serving"), std::string::npos) << line;
  EXPECT_TRUE(std::regex_search(gateway_->output(),
                                std::regex(std::regex_replace(policy, std::regex("[.]"), "\\.") +
                                           ":\\d+:\\d+: error")))
      << gateway_->output();
  EXPECT_EQ(asha_shop_dc(), "singapore");

  // A rule that is valid YAML but wrong: rejected too, the rest not half-applied.
  ASSERT_NO_FATAL_FAILURE(edit("policy.yaml", "    from: 2014-10-31\n    allow: [US",
                               "    from: 2014-10-31\n    until: 2015-06-01\n    allow: [XX]"));
  line = reload_and_wait("reload rejected");
  EXPECT_NE(gateway_->output().find("'XX'"), std::string::npos) << gateway_->output();
  EXPECT_EQ(asha_shop_dc(), "singapore");

  // Mended: the next reload is snapshot 2 (rejected ones never served).
  ASSERT_NO_FATAL_FAILURE(edit("policy.yaml", "allow: [XX]", "allow: [US]"));
  line = reload_and_wait("reloaded ");
  EXPECT_NE(line.find("snapshot 2:"), std::string::npos) << line;
  EXPECT_EQ(asha_shop_dc(), "oregon");
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

// Hostile files on reload (a FIFO renamed over the policy, /dev/zero over
// the account directory, a policy over its size bound, a deny reason that is
// not UTF-8): each is rejected at once (reload_and_wait's deadline is 10 s;
// a FIFO blocked the reload thread for good), named with its path and what
// is wrong, counted, and the running snapshot keeps serving.
TEST_F(ReloadTest, HostileFilesAreRejectedAndTheRunningSnapshotKeepsServing) {
  namespace fs = std::filesystem;
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("oregon"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  EXPECT_EQ(asha_shop_dc(), "singapore");
  const fs::path policy = dir_ / "policy.yaml";
  const std::string good_policy = text_of("policy.yaml");
  auto rejected_with = [&](const std::string& message) {
    const std::size_t seen = gateway_->output().size();
    std::string line = reload_and_wait("reload rejected");
    EXPECT_NE(line.find("snapshot 1 keeps serving"), std::string::npos) << line;
    EXPECT_NE(gateway_->output().find(message, seen), std::string::npos) << gateway_->output();
    EXPECT_EQ(asha_shop_dc(), "singapore");
  };

  const fs::path fifo = dir_ / "policy.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  fs::rename(fifo, policy);
  rejected_with(policy.string() + ": error: the YAML file is not a regular file (a FIFO)");
  fs::remove(policy);
  std::ofstream(policy) << good_policy;

  const fs::path accounts = dir_ / "accounts.csv";
  fs::rename(accounts, dir_ / "accounts.csv.good");
  fs::create_symlink("/dev/zero", accounts);
  rejected_with(accounts.string() +
                ": error: the account directory file is not a regular file (a character device)");
  fs::remove(accounts);
  fs::rename(dir_ / "accounts.csv.good", accounts);

  std::ofstream(policy, std::ios::app) << "# " << std::string(5 << 20, '.') << "\n";
  rejected_with(policy.string() + ": error: the YAML file is " +
                std::to_string(fs::file_size(policy)) + " bytes, more than the 4 MiB allowed");
  std::ofstream(policy) << good_policy;

  ASSERT_NO_FATAL_FAILURE(edit("policy.yaml", kSgUs,
                               "    from: 2014-10-31\n    until: 2015-06-01\n    deny: \"\xff\""));
  rejected_with(policy.string() + ":55:11: error: rules[2].deny: not UTF-8");

  nlohmann::json m = metrics();
  EXPECT_EQ(metric_value(m, "regiongate_reloads_total", {{"outcome", "rejected"}}), 4) << m.dump();
  EXPECT_EQ(metric_value(m, "regiongate_snapshot_version"), 1) << m.dump();
  // Mended, with an edit: the next reload is snapshot 2 and it applies.
  std::ofstream(policy) << good_policy;
  ASSERT_NO_FATAL_FAILURE(edit("policy.yaml", kSgUs, kUsOnly));
  std::string line = reload_and_wait("reloaded ");
  EXPECT_NE(line.find("snapshot 2:"), std::string::npos) << line;
  EXPECT_EQ(asha_shop_dc(), "oregon");
  EXPECT_EQ(gateway_->stop(SIGTERM), 0) << gateway_->output();
}

// A download open across the reload goes on; new requests see the new
// settings (a shorter response-header timeout), and a change only a restart
// can apply is named.
TEST_F(ReloadTest, ConnectionsSurviveAndRestartOnlyChangesAreReported) {
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  BackgroundProcess download({"/usr/bin/curl", "-s", "-i", "-N", "--max-time", "60",
                              "--http2-prior-knowledge", "-H", "host: api.example.com", "-H",
                              "x-account-id: in-asha", base_ + "/shop/slow/open"});
  ASSERT_TRUE(download.wait_for(std::regex("x-regiongate-dc: singapore"))) << download.output();

  set_server_section(dir_ / "regiongate.yaml",
                     "server:\n  workers: 3\n  access_log: off\n  listen:\n"
                     "    - address: 127.0.0.1:0\n  timeouts:\n    response_headers: 1s\n");
  std::string out_before = gateway_->output();
  reload_and_wait("reloaded ");
  EXPECT_NE(gateway_->output().find("reload: server.workers: 2 -> 3 needs a restart"),
            std::string::npos)
      << gateway_->output();
  EXPECT_EQ(kill(download.pid(), 0), 0);  // still running: its connection was not dropped

  // The origin never answers /hang/: the new 1 s timeout gives a 504.
  ProcessResult hung = curl({"-H", "host: api.example.com", "-H", "x-account-id: in-asha"},
                            "/shop/hang/x");
  EXPECT_EQ(hung.exit_code, 0) << hung.err;
  EXPECT_NE(hung.out.find("HTTP/2 504"), std::string::npos) << hung.out;
  EXPECT_NE(hung.out.find("x-regiongate-reason: origin-timeout"), std::string::npos) << hung.out;
  EXPECT_EQ(download.stop(SIGTERM), -1);  // killed by us, not ended by the gateway
}

// Under load: reloads, one of them moving Indian shop data off Singapore,
// while h2load runs. Not one request fails, and the new policy is in force.
TEST_F(ReloadTest, ReloadingUnderLoadFailsNoRequest) {
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_origin("oregon"));
  ASSERT_NO_FATAL_FAILURE(start_origin("beijing"));  // forbidden for Indian shop data: must stay idle
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  // About 4 s of load (4 clients, 500 requests a second each).
  BackgroundProcess load({"/usr/bin/h2load", "-n", "8000", "-c", "4", "-m", "4", "--rps", "500",
                          "-H", ":authority: api.example.com", "-H", "x-account-id: in-asha",
                          base_ + "/shop/cart"});
  reload_and_wait("reloaded ");  // the same policy again
  ASSERT_NO_FATAL_FAILURE(edit("policy.yaml", kSgUs, kUsOnly));
  std::string line = reload_and_wait("reloaded ");
  EXPECT_NE(line.find("snapshot 3:"), std::string::npos) << line;
  // h2load ends by itself (stop(0) only waits; a signal could cut it short
  // after its summary line), with its own exit status.
  EXPECT_EQ(load.stop(0, std::chrono::seconds(60)), 0) << load.output();
  EXPECT_NE(load.output().find("8000 succeeded, 0 failed, 0 errored"), std::string::npos)
      << load.output();
  EXPECT_EQ(asha_shop_dc(), "oregon");
  EXPECT_GT(requests_seen_by("oregon"), 0);
  EXPECT_EQ(requests_seen_by("beijing"), 0);
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

// Under load, the GeoIP database and the account directory are replaced as
// an operator's pipeline does it (a complete new file renamed over the
// configured one), then SIGHUP. Not one request fails: requests begun before
// the reload keep looking up in the old database's mapping, whose file the
// rename unlinked, until the old snapshot goes. Then the new data decides.
TEST_F(ReloadTest, GeoipAndDirectoryRenamedOverUnderLoadFailNoRequest) {
  namespace fs = std::filesystem;
  // The configured database is first MaxMind's test database, which knows
  // no loopback address; the demo database that replaces it does.
  const fs::path geoip = dir_ / "geoip" / "demo.mmdb";
  fs::copy_file(REGIONGATE_TESTDATA_DIR "/mmdb/GeoIP2-Country-Test.mmdb", geoip,
                fs::copy_options::overwrite_existing);
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_origin("beijing"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  // No account: a phone's country is its GeoIP country (127.3/16: SG in the demo database).
  const std::vector<std::string> phone_in_singapore = {"--interface", "127.3.0.10"};
  const std::vector<std::string> tan = {"-H", "x-account-id: sg-tan"};
  EXPECT_EQ(shop_dc(tan), "singapore");
  EXPECT_EQ(shop_dc(phone_in_singapore), "refused: unknown-account-country");

  // About 4 s of load (4 clients, 500 requests a second each).
  BackgroundProcess load({"/usr/bin/h2load", "-n", "8000", "-c", "4", "-m", "4", "--rps", "500",
                          "-H", ":authority: api.example.com", "-H", "x-account-id: in-asha",
                          base_ + "/shop/cart"});
  ASSERT_TRUE(wait_until([&] { return requests_seen_by("singapore") > 200; })) << load.output();
  // Tan's account is Chinese now: its data may go to Beijing only. Each new
  // file is complete (closed) before it is renamed over the configured one.
  std::string accounts = text_of("accounts.csv");
  const std::string tan_line = "sg-tan,SG\n";
  ASSERT_NE(accounts.find(tan_line), std::string::npos);
  accounts.replace(accounts.find(tan_line), tan_line.size(), "sg-tan,CN\n");
  std::ofstream(dir_ / "accounts.csv.new") << accounts;
  fs::rename(dir_ / "accounts.csv.new", dir_ / "accounts.csv");
  fs::copy_file(REGIONGATE_SOURCE_DIR "/examples/geoip/demo.mmdb", dir_ / "geoip" / "demo.mmdb.new");
  fs::rename(dir_ / "geoip" / "demo.mmdb.new", geoip);
  // The running snapshot still maps the file the rename unlinked.
  const std::string old_mapping = geoip.string() + " (deleted)";
  EXPECT_NE(gateway_maps().find(old_mapping), std::string::npos) << gateway_maps();
  std::string line = reload_and_wait("reloaded ");
  EXPECT_NE(line.find("snapshot 2:"), std::string::npos) << line;
  // Else the reload was not under load, and this test showed nothing.
  EXPECT_EQ(load.output().find("succeeded,"), std::string::npos) << load.output();

  // h2load ends by itself (stop(0) only waits; a signal could cut it short
  // after its summary line), with its own exit status.
  EXPECT_EQ(load.stop(0, std::chrono::seconds(60)), 0) << load.output();
  EXPECT_NE(load.output().find("8000 succeeded, 0 failed, 0 errored"), std::string::npos)
      << load.output();
  EXPECT_NE(load.output().find("status codes: 8000 2xx"), std::string::npos) << load.output();
  EXPECT_EQ(shop_dc(tan), "beijing");  // the new directory
  EXPECT_EQ(shop_dc(phone_in_singapore), "singapore");  // the new database: SG, rest-of-world
  // The old database went with the last request and connection that used
  // it: its mapping is gone, the new file's is there.
  EXPECT_TRUE(wait_until([&] { return gateway_maps().find(old_mapping) == std::string::npos; }))
      << gateway_maps();
  EXPECT_NE(gateway_maps().find(geoip.string() + "\n"), std::string::npos) << gateway_maps();
  EXPECT_EQ(gateway_->stop(SIGTERM), 0) << gateway_->output();
}

// No reload needed for the policy's own dates: with the system clock, a
// phase that begins a few seconds from now moves traffic at that second.
TEST_F(ReloadTest, APolicyDateTakesEffectOnTimeInARunningGateway) {
  using std::chrono::system_clock;
  const auto switch_at = std::chrono::ceil<std::chrono::seconds>(system_clock::now()) +
                         std::chrono::seconds(5);
  const UnixSeconds at = std::chrono::duration_cast<std::chrono::seconds>(
                             switch_at.time_since_epoch()).count();
  // India (and Brazil) come home at `at` instead of on 2015-06-01.
  std::ifstream in(dir_ / "policy.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  in.close();
  text = std::regex_replace(text, std::regex("2015-06-01"), format_rfc3339(at));
  std::ofstream(dir_ / "policy.yaml") << text;
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("mumbai"));
  ASSERT_NO_FATAL_FAILURE(start_gateway(""));
  ASSERT_LT(system_clock::now(), switch_at) << "the gateway took too long to start";
  EXPECT_EQ(asha_shop_dc(), "singapore");
  // Ask until the answer changes (10 s past the switch at most); it must not
  // change early.
  std::string dc;
  wait_until(
      [&] {
        const auto asked = system_clock::now();
        dc = asha_shop_dc();
        if (dc == "mumbai") {
          EXPECT_GE(asked + std::chrono::milliseconds(50), switch_at);  // not before its second
          return true;
        }
        EXPECT_EQ(dc, "singapore");
        return dc != "singapore";
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(switch_at - system_clock::now()) +
          std::chrono::seconds(10),
      std::chrono::milliseconds(100));
  EXPECT_EQ(dc, "mumbai");
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

}  // namespace
}  // namespace regiongate::testing
