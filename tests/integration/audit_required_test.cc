// A required audit log that cannot be written, through the real gateway.
// The log's name is a symbolic link to /dev/full (every write fails with
// ENOSPC). Required: what the log would have to record and that moves data
// is refused with 503 audit-log-unavailable before anything is forwarded
// (Asha's data served abroad; with records: all, everything forwarded),
// what it would not record is served (Tan at home), refusals still happen;
// pointing the name at a real file and SIGUSR1 bring it back, with every
// record kept in one verifiable chain. Not required: the same requests are
// served and the failed writes counted.

#include <gtest/gtest.h>

#include <signal.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "tests/integration/audit_records.h"
#include "tests/integration/gateway_fixture.h"

namespace regiongate::testing {
namespace {

class AuditRequiredTest : public GatewayFixture {
 protected:
  void start(const std::string& settings) {
    std::filesystem::create_symlink("/dev/full", audit());
    ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
    ASSERT_NO_FATAL_FAILURE(start_gateway(
        "2015-01-15T00:00:00Z", "  audit_log: {file: " + audit().string() + settings + "}\n"));
    // A refusal is always recorded: once the worker hands its batch over
    // (within half a second) the write fails and the writer says so.
    EXPECT_NE(ask("").find("HTTP/2 451"), std::string::npos);
    ASSERT_TRUE(gateway_->wait_for(std::regex("audit log: cannot write .*No space left on device")))
        << gateway_->output();
  }

  // A shop request of `account` (none when empty); the -i output.
  std::string ask(const std::string& account) {
    std::vector<std::string> args = {"-H", "host: api.example.com"};
    if (!account.empty()) args.insert(args.end(), {"-H", "x-account-id: " + account});
    ProcessResult r = curl(args, "/shop/cart");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }

  static bool refused_for_audit(const std::string& response) {
    return response.find("HTTP/2 503") != std::string::npos &&
           response.find("x-regiongate-reason: audit-log-unavailable") != std::string::npos;
  }

  // The audit log's name (a symbolic link).
  std::filesystem::path audit() const { return dir_ / "audit.log"; }
};

TEST_F(AuditRequiredTest, RefusesWhatItMustRecordUntilItCanBeWrittenAgain) {
  ASSERT_NO_FATAL_FAILURE(start(", required: true"));
  EXPECT_TRUE(refused_for_audit(ask("in-asha")));  // IN data served in SG: must be recorded
  EXPECT_NE(ask("sg-tan").find("x-regiongate-dc: singapore"), std::string::npos);  // at home
  EXPECT_NE(ask("").find("HTTP/2 451"), std::string::npos);  // refusals move no data
  EXPECT_EQ(requests_seen_by("singapore"), 1) << "only Tan's request may have been forwarded";
  // /metrics says so too.
  nlohmann::json m = metrics();
  EXPECT_EQ(metric_value(m, "regiongate_log_writable", {{"log", "audit"}}), 0) << m.dump();
  EXPECT_GE(metric_value(m, "regiongate_log_write_failures_total", {{"log", "audit"}}), 1);
  EXPECT_EQ(metric_value(m, "regiongate_denials_total", {{"reason", "audit-log-unavailable"}}), 1);

  // The name now points at a real file; SIGUSR1 opens it again by name.
  const std::filesystem::path real = dir_ / "audit-real.log";
  std::filesystem::create_symlink(real, dir_ / "next");
  std::filesystem::rename(dir_ / "next", audit());
  ASSERT_EQ(kill(gateway_->pid(), SIGUSR1), 0);
  ASSERT_TRUE(gateway_->wait_for(std::regex("audit log: writing .* again"))) << gateway_->output();
  EXPECT_NE(ask("in-asha").find("x-regiongate-dc: singapore"), std::string::npos);
  EXPECT_EQ(requests_seen_by("singapore"), 2);
  EXPECT_EQ(metric_value(metrics(), "regiongate_log_writable", {{"log", "audit"}}), 1);
  ASSERT_EQ(gateway_->stop(SIGTERM), 0);

  // Nothing was lost: the refused batches were kept and written after the reopen.
  int refusals = 0, audit_refusals = 0, abroad = 0;
  for (const nlohmann::json& r : audit_records(real)) {
    refusals += r["status"] == 451;
    audit_refusals +=
        r["status"] == 503 && r["reason"] == "audit-log-unavailable" && r["datacenter"].is_null();
    abroad += r["status"] == 200 && r["datacenter_country"] == "SG" && r["country"] == "IN";
    EXPECT_NE(r["country"], "SG") << "served at home: not audited: " << r.dump();
  }
  EXPECT_EQ(refusals, 2);
  EXPECT_EQ(audit_refusals, 1);
  EXPECT_EQ(abroad, 1);
  ProcessResult verify = run_process({REGIONGATE_BINARY, "audit", "verify", real.string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("4 record(s) in 1 file(s): the chain holds"), std::string::npos)
      << verify.out;
}

TEST_F(AuditRequiredTest, WithRecordsAllEveryForwardedRequestIsRefused) {
  ASSERT_NO_FATAL_FAILURE(start(", records: all, required: true"));
  EXPECT_TRUE(refused_for_audit(ask("in-asha")));
  EXPECT_TRUE(refused_for_audit(ask("sg-tan")));  // at home, but every decision is recorded
  EXPECT_NE(ask("").find("HTTP/2 451"), std::string::npos);
  EXPECT_EQ(requests_seen_by("singapore"), 0);
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

TEST_F(AuditRequiredTest, NotRequiredTheRequestsAreServedAndTheFailuresCounted) {
  ASSERT_NO_FATAL_FAILURE(start(""));
  EXPECT_NE(ask("in-asha").find("x-regiongate-dc: singapore"), std::string::npos);
  EXPECT_NE(ask("sg-tan").find("x-regiongate-dc: singapore"), std::string::npos);
  ASSERT_EQ(gateway_->stop(SIGTERM), 0);
  std::smatch m;
  const std::string out = gateway_->output();
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(audit log: (\d+) failed write\(s\))")))
      << out;
  EXPECT_GE(std::stoi(m[1].str()), 1);
  // The batches the file never took are counted when the gateway stops.
  EXPECT_TRUE(std::regex_search(
      out, std::regex(R"(audit log: stopping: [1-9]\d* batch\(es\) could not be written)")))
      << out;
}

}  // namespace
}  // namespace regiongate::testing
