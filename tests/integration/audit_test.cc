// The audit log of decisions through the real gateway: refusals and data
// served abroad are recorded (what stays at home is not), addresses cut to
// their network, each batch sealed into one chain; rotation by SIGUSR1
// keeps one chain; `regiongate audit verify` passes on it and names the
// seal over an edited record.

#include <gtest/gtest.h>

#include <signal.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/integration/audit_records.h"
#include "tests/integration/gateway_fixture.h"

namespace regiongate::testing {
namespace {

using AuditTest = GatewayFixture;

TEST_F(AuditTest, RecordsRefusalsAndDataServedAbroadInOneVerifiableChain) {
  ASSERT_NO_FATAL_FAILURE(start_origin("singapore"));
  const std::filesystem::path audit = dir_ / "audit.log";
  ASSERT_NO_FATAL_FAILURE(start_gateway(
      "2015-01-15T00:00:00Z", "  audit_log: {file: " + audit.string() + ", client_prefix_v4: 16}\n"));
  auto ask = [&](const std::string& account) {
    std::vector<std::string> args = {"-H", "host: api.example.com"};
    if (!account.empty()) args.insert(args.end(), {"-H", "x-account-id: " + account});
    ProcessResult r = curl(args, "/shop/cart");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  EXPECT_NE(ask("in-asha").find("x-regiongate-dc: singapore"), std::string::npos);  // abroad
  EXPECT_NE(ask("").find("HTTP/2 451"), std::string::npos);                         // refused
  EXPECT_NE(ask("sg-tan").find("x-regiongate-dc: singapore"), std::string::npos);   // at home

  // Rotation: the log is renamed, SIGUSR1 opens it again by name.
  const std::filesystem::path rotated = dir_ / "audit.log.1";
  // The worker hands its batch over within half a second; wait for it.
  ASSERT_TRUE(wait_until([&] { return audit_records(audit).size() >= 2; }));
  ASSERT_EQ(audit_records(audit).size(), 2u);
  std::filesystem::rename(audit, rotated);
  ASSERT_EQ(kill(gateway_->pid(), SIGUSR1), 0);
  ASSERT_TRUE(gateway_->wait_for(std::regex("SIGUSR1: reopening the logs")));
  EXPECT_NE(ask("in-ravi").find("x-regiongate-dc: singapore"), std::string::npos);  // abroad
  ASSERT_EQ(gateway_->stop(SIGTERM), 0);

  std::vector<nlohmann::json> first = audit_records(rotated), second = audit_records(audit);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 1u);
  const nlohmann::json& abroad = first[0]["status"] == 200 ? first[0] : first[1];
  const nlohmann::json& refused = first[0]["status"] == 200 ? first[1] : first[0];
  EXPECT_EQ(abroad["country"], "IN");
  EXPECT_EQ(abroad["datacenter_country"], "SG");
  EXPECT_EQ(abroad["rule"], "india-shop-sg-us");
  EXPECT_EQ(abroad["snapshot"], 1);
  EXPECT_EQ(abroad["client"], "127.0.0.0/16");
  EXPECT_EQ(refused["status"], 451);
  EXPECT_EQ(refused["reason"], "unknown-account-country");
  EXPECT_TRUE(refused["datacenter"].is_null());
  EXPECT_EQ(second[0]["country"], "IN");

  const std::string binary = REGIONGATE_BINARY;
  ProcessResult ok = run_process({binary, "audit", "verify", rotated.string(), audit.string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("3 record(s) in 2 file(s): the chain holds"), std::string::npos) << ok.out;

  // An edit of the first record is found at the seal over it.
  std::ifstream in(rotated);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  in.close();
  text.replace(text.find("\"status\":"), 9, "\"status\": ");
  std::ofstream(rotated) << text;
  ProcessResult broken = run_process({binary, "audit", "verify", rotated.string(), audit.string()});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_TRUE(std::regex_search(
      broken.err, std::regex(rotated.string() + ":[23]: the chain is broken: the seal over the [12] "
                             "line\\(s\\) from " + rotated.string() + ":1 does not hold")))
      << broken.err;
}

}  // namespace
}  // namespace regiongate::testing
