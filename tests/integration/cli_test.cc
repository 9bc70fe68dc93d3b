// The regiongate binary's check and explain commands on the example story.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/ports.h"
#include "tests/integration/run_process.h"
#include "tests/integration/text_file.h"

namespace regiongate::testing {
namespace {

const std::string kBinary = REGIONGATE_BINARY;
const std::string kExample = REGIONGATE_SOURCE_DIR "/examples/regiongate.yaml";

nlohmann::json explain(std::vector<std::string> args) {
  std::vector<std::string> argv = {kBinary, "explain", "--config", kExample};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult r = run_process(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

TEST(CheckCommand, TheExampleIsValidProvedAndCovered) {
  ProcessResult r = run_process({kBinary, "check", "--config", kExample});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("valid: 6 data centres, 4 services"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("proof: holds"), std::string::npos) << r.out;
  // The coverage table shows India's phases: Beijing, then Singapore first, then Mumbai.
  std::regex india_shop(
      R"(\n +shop +\| beijing +nearest of singapore/oregon/california +nearest of )"
      R"(singapore/oregon/california +mumbai\n)");
  EXPECT_TRUE(std::regex_search(r.out, india_shop)) << r.out;
  std::regex china(R"(\nCN +all services +\| beijing +beijing +beijing +beijing\n)");
  EXPECT_TRUE(std::regex_search(r.out, china)) << r.out;
  EXPECT_NE(r.out.find("rest-of-world except SG,US (245)"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");  // no warnings either
}

class BrokenCopy : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("regiongate-broken-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    for (const auto& entry : std::filesystem::recursive_directory_iterator(
             std::filesystem::path(kExample).parent_path())) {
      auto rel = std::filesystem::relative(entry.path(), std::filesystem::path(kExample).parent_path());
      if (entry.is_directory()) {
        std::filesystem::create_directories(dir_ / rel);
      } else {
        std::filesystem::copy_file(entry.path(), dir_ / rel);
      }
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Replaces the first `from` in examples/policy.yaml's copy with `to`.
  void edit_policy(const std::string& from, const std::string& to) {
    edit_text(dir_ / "policy.yaml", from, to);
  }

  std::filesystem::path dir_;
};

TEST_F(BrokenCopy, ListsEveryErrorWithFileLineAndColumn) {
  edit_policy("  - id: china-in-country\n", "  - id: china-in-country\n    colour: red\n");
  edit_policy("    accounts: BR\n    until: 2015-06-01", "    accounts: XX\n    until: 2015-06-01");
  edit_policy("  - id: india-in-country\n    accounts: IN\n    from: 2015-06-01",
              "  - id: india-in-country\n    accounts: IN\n    from: 2015-05-01");
  edit_policy("accounts: rest-of-world", "accounts: rest-of-wrold");
  std::string config = (dir_ / "regiongate.yaml").string();
  std::ofstream(config, std::ios::app) << "  workers: many\n";  // into the server section
  ProcessResult r = run_process({kBinary, "check", "--config", config});
  EXPECT_EQ(r.exit_code, 1);
  std::string policy = (dir_ / "policy.yaml").string();
  EXPECT_NE(r.err.find(policy + ":40:5: error: rule 'china-in-country': unknown key 'colour'"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find(policy + ":80:15: error: rule 'brazil-abroad'.accounts: 'XX' is neither"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find(policy + ":90:15: error: rule 'rest-of-world'.accounts: 'rest-of-wrold' is neither"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find(policy + ":72:5: error: rule 'india-in-country' overlaps rule "
                                "'india-shop-sg-us' (" + policy + ":51:5)"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find(policy + ":72:5: error: rule 'india-in-country' overlaps rule "
                                "'india-cloud-sg-us' (" + policy + ":64:5)"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find(config + ":48:12: error: server.workers: not a whole number: 'many'"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("invalid: 6 error(s)"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

// A service path that is not canonical could never match a request (they are
// matched after normalisation): `check` names it with file:line:col.
TEST_F(BrokenCopy, NonCanonicalServicePathsAreErrors) {
  edit_policy("        path: /shop\n", "        path: /x/../shop\n");
  edit_policy("        path: /cloud\n", "        path: \"/cloud%2fphotos\"\n");
  std::string config = (dir_ / "regiongate.yaml").string();
  edit_text(config, "doubled_slashes: merge", "doubled_slashes: twice");
  ProcessResult r = run_process({kBinary, "check", "--config", config});
  EXPECT_EQ(r.exit_code, 1);
  std::string policy = (dir_ / "policy.yaml").string();
  EXPECT_NE(r.err.find(policy + ":20:15: error: services.shop.match[1].path: '/x/../shop' is not "
                                "canonical"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("so write '/shop'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("services.cloud.match[2].path: '/cloud%2fphotos' can never match a "
                       "request: the path has an encoded slash"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("requests.doubled_slashes: 'merge' or 'refuse', not 'twice'"),
            std::string::npos) << r.err;
}

// requests.max_body in bytes; by service, for services of the policy only.
TEST_F(BrokenCopy, BodyLimitsAreBytesForServicesOfThePolicy) {
  std::string config = (dir_ / "regiongate.yaml").string();
  edit_text(config, "doubled_slashes: merge",
            "doubled_slashes: merge\n  max_body: -5\n  max_body_by_service: {cloud: 100, backup: 1}");
  ProcessResult r = run_process({kBinary, "check", "--config", config});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(config + ":39:13: error: requests.max_body:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(config + ":40:37: error: requests.max_body_by_service: 'backup' is not a "
                                "service of the policy"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("cloud"), std::string::npos) << r.err;
}

TEST(PlanCommand, ShowsTheMigrationScheduleAsATableAndAsJson) {
  ProcessResult table = run_process(
      {kBinary, "plan", "--config", kExample, "--from", "2014-01-01", "--to", "2016-01-01"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_TRUE(std::regex_search(
      table.out, std::regex(R"(2014-10-31T00:00:00Z +IN +shop +\| beijing +-> nearest of singapore)")))
      << table.out;
  ProcessResult json = run_process({kBinary, "plan", "--config", kExample, "--from", "2015-01-01",
                                    "--to", "2015-12-31", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  nlohmann::json j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j["changes"].size(), 2u) << j.dump();
  for (const nlohmann::json& c : j["changes"]) {
    EXPECT_EQ(c["at"], "2015-06-01T00:00:00Z");
    EXPECT_EQ(c["accounts"].size(), 1u);
    EXPECT_EQ(c["services"].size(), 4u);
    EXPECT_EQ(c["before"]["datacenters"].size(), 3u);  // singapore, oregon, california
    EXPECT_EQ(c["after"]["datacenters"].size(), 1u);
    EXPECT_EQ(c["after"]["status"], 200);
  }
  ProcessResult none = run_process(
      {kBinary, "plan", "--config", kExample, "--from", "2016-01-01", "--to", "2017-01-01"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_NE(none.out.find("no change"), std::string::npos) << none.out;
  EXPECT_EQ(run_process({kBinary, "plan", "--config", kExample, "--from", "2016-01-01", "--to",
                         "2015-01-01"}).exit_code, 2);
  EXPECT_EQ(run_process({kBinary, "plan", "--config", kExample, "--from", "soon", "--to",
                         "2015-01-01"}).exit_code, 2);
}

TEST(CheckCommand, AMissingFileIsAnError) {
  ProcessResult r = run_process({kBinary, "check", "--config", "/nonexistent/regiongate.yaml"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/regiongate.yaml: error: cannot open the YAML file: No such "
                       "file or directory"),
            std::string::npos)
      << r.err;
}

struct StoryCase {
  const char* account;
  const char* service;
  const char* at;
  const char* ip;  // or nullptr
  int status;
  const char* datacenter;  // or nullptr
  const char* rule;        // or nullptr
};

// The story of examples/, before, between and after each phase.
const StoryCase kStory[] = {
    // India, shop: Beijing until 2014-10-31, then Singapore/US, then Mumbai from 2015-06-01.
    {"in-asha", "shop", "2014-10-01T00:00:00Z", nullptr, 200, "beijing", "india-shop-beijing"},
    {"in-asha", "shop", "2014-10-30T23:59:59Z", nullptr, 200, "beijing", "india-shop-beijing"},
    {"in-asha", "shop", "2014-10-31T00:00:00Z", nullptr, 200, "singapore", "india-shop-sg-us"},
    {"in-asha", "shop", "2014-12-31T00:00:00Z", nullptr, 200, "singapore", "india-shop-sg-us"},
    {"in-asha", "shop", "2015-05-31T23:59:59Z", nullptr, 200, "singapore", "india-shop-sg-us"},
    {"in-asha", "shop", "2015-06-01T00:00:00Z", nullptr, 200, "mumbai", "india-in-country"},
    // India, cloud services: Beijing until 2014-12-31.
    {"in-asha", "cloud", "2014-11-15T00:00:00Z", nullptr, 200, "beijing", "india-cloud-beijing"},
    {"in-asha", "account", "2014-12-30T23:59:59Z", nullptr, 200, "beijing", "india-cloud-beijing"},
    {"in-asha", "messaging", "2014-12-31T00:00:00Z", nullptr, 200, "singapore", "india-cloud-sg-us"},
    {"in-asha", "cloud", "2015-07-01T00:00:00Z", nullptr, 200, "mumbai", "india-in-country"},
    // An Indian account roaming in the US goes to the nearest allowed: the US.
    {"in-ravi", "cloud", "2015-01-15T00:00:00Z", "127.4.0.10", 200, "oregon", "india-cloud-sg-us"},
    // ...but after 2015-06-01 its data stays in India wherever the phone is.
    {"in-ravi", "cloud", "2015-07-01T00:00:00Z", "127.4.0.10", 200, "mumbai", "india-in-country"},
    // China stays in China.
    {"cn-li", "messaging", "2014-01-01T00:00:00Z", nullptr, 200, "beijing", "china-in-country"},
    {"cn-li", "shop", "2016-01-01T00:00:00Z", "127.3.0.1", 200, "beijing", "china-in-country"},
    // Brazil: nearest of the US and Singapore, then São Paulo from 2015-06-01.
    {"br-joao", "account", "2015-05-31T23:59:59Z", nullptr, 200, "california", "brazil-abroad"},
    {"br-joao", "account", "2015-06-01T00:00:00Z", nullptr, 200, "sao-paulo", "brazil-in-country"},
    // Everyone else: in-country where there is a data centre, else nearest of SG and US.
    {"de-anna", "cloud", "2015-01-15T00:00:00Z", nullptr, 200, "oregon", "rest-of-world"},
    {"us-bob", "shop", "2015-01-15T00:00:00Z", "127.3.0.9", 200, "oregon", "rest-of-world"},
    {"sg-tan", "shop", "2015-01-15T00:00:00Z", nullptr, 200, "singapore", "rest-of-world"},
    {"au-jack", "shop", "2015-01-15T00:00:00Z", nullptr, 200, "singapore", "rest-of-world"},
};

TEST(ExplainCommand, TellsTheStoryPhaseByPhase) {
  for (const StoryCase& c : kStory) {
    SCOPED_TRACE(std::string(c.account) + " " + c.service + " " + c.at);
    std::vector<std::string> args = {"--account", c.account, "--service", c.service, "--at", c.at};
    if (c.ip) args.insert(args.end(), {"--ip", c.ip});
    nlohmann::json j = explain(args);
    EXPECT_EQ(j["status"], c.status);
    EXPECT_EQ(j["country_source"], "directory");
    if (c.datacenter) {
      EXPECT_EQ(j["datacenter"], c.datacenter) << j.dump();
    } else {
      EXPECT_TRUE(j["datacenter"].is_null()) << j.dump();
    }
    if (c.rule) {
      EXPECT_EQ(j["rule"], c.rule) << j.dump();
    }
    EXPECT_TRUE(j["reason"].is_string());
  }
}

TEST(ExplainCommand, PrintsTheContractKeys) {
  nlohmann::json j = explain({"--account", "in-ravi", "--ip", "127.4.0.10", "--service", "shop",
                              "--at", "2014-11-15T00:00:00Z"});
  for (const char* key : {"country", "country_source", "service", "rule", "candidates",
                          "datacenter", "datacenter_country", "status", "reason"}) {
    EXPECT_TRUE(j.contains(key)) << key << " in " << j.dump();
  }
  EXPECT_EQ(j["country"], "IN");
  EXPECT_EQ(j["client_location"], "US");
  EXPECT_EQ(j["service"], "shop");
  EXPECT_EQ(j["candidates"], nlohmann::json({"oregon", "california", "singapore"}));
  EXPECT_EQ(j["datacenter_country"], "US");
}

TEST(ExplainCommand, CountrySources) {
  nlohmann::json given = explain({"--country", "CN", "--service", "shop", "--at", "2015-01-01"});
  EXPECT_EQ(given["country_source"], "given");
  EXPECT_EQ(given["datacenter"], "beijing");
  // An unknown account falls back to GeoIP of the phone: Japan, nearest allowed is Singapore.
  nlohmann::json geo = explain({"--account", "nobody", "--ip", "127.7.0.1", "--service", "shop",
                                "--at", "2015-01-01"});
  EXPECT_EQ(geo["country_source"], "geoip");
  EXPECT_EQ(geo["country"], "JP");
  EXPECT_EQ(geo["lookups"]["directory"], "not-found");
  EXPECT_EQ(geo["datacenter"], "singapore");
  // Nothing known: refused.
  nlohmann::json none = explain({"--ip", "127.0.0.1", "--service", "shop", "--at", "2015-01-01"});
  EXPECT_EQ(none["status"], 451);
  EXPECT_EQ(none["reason_code"], "unknown-account-country");
}

TEST(ExplainCommand, ClassifiesByHostAndPath) {
  nlohmann::json j = explain({"--country", "IN", "--host", "api.example.com", "--path",
                              "/cloud/photos", "--at", "2015-01-15T00:00:00Z"});
  EXPECT_EQ(j["service"], "cloud");
  nlohmann::json none = explain({"--country", "IN", "--host", "www.example.org", "--at", "2015-01-15"});
  EXPECT_EQ(none["status"], 404);
  EXPECT_TRUE(none["service"].is_null());
}

// The issue's story: /cloud/../shop/cart on 2014-12-15 is shop (gone from
// Beijing since 2014-10-31), not cloud (still in Beijing).
TEST(ExplainCommand, ShowsTheRawAndTheCanonicalTargetAndDecidesOnTheCanonicalOne) {
  nlohmann::json j = explain({"--account", "in-ravi", "--host", "API.example.com.", "--path",
                              "/cloud/../shop/cart?x=%2F", "--at", "2014-12-15T00:00:00Z"});
  EXPECT_EQ(j["target"]["raw"]["authority"], "API.example.com.");
  EXPECT_EQ(j["target"]["raw"]["path"], "/cloud/../shop/cart?x=%2F");
  EXPECT_EQ(j["target"]["canonical"]["authority"], "api.example.com");
  EXPECT_EQ(j["target"]["canonical"]["path"], "/shop/cart?x=%2F");
  EXPECT_EQ(j["service"], "shop");
  EXPECT_EQ(j["rule"], "india-shop-sg-us");
  EXPECT_NE(j["datacenter"], "beijing");
  EXPECT_EQ(j["status"], 200);
  nlohmann::json cloud = explain({"--account", "in-ravi", "--host", "api.example.com", "--path",
                                  "/cloud/photos", "--at", "2014-12-15T00:00:00Z"});
  EXPECT_EQ(cloud["datacenter"], "beijing");
}

TEST(ExplainCommand, ATargetThatCannotBeReadOneWayIsRefusedWith400) {
  nlohmann::json j = explain({"--account", "in-ravi", "--host", "api.example.com", "--path",
                              "/cloud/..%2fshop/cart", "--at", "2014-12-15T00:00:00Z"});
  EXPECT_EQ(j["status"], 400);
  EXPECT_EQ(j["reason_code"], "encoded-slash");
  EXPECT_EQ(j["target"]["fault"], "encoded-slash");
  EXPECT_TRUE(j["datacenter"].is_null());
  EXPECT_TRUE(j["service"].is_null());
  EXPECT_EQ(j["candidates"], nlohmann::json::array());
  nlohmann::json u = explain({"--country", "IN", "--host", "user@api.example.com", "--at", "2015-01-15"});
  EXPECT_EQ(u["reason_code"], "authority-userinfo");
}

// Whatever bytes a query holds, the output is valid JSON (explain once
// aborted on an account id that was not UTF-8).
TEST(ExplainCommand, AnyBytesGiveValidJson) {
  nlohmann::json j = explain({"--account", "in\xff\x01", "--service", "shop", "--at", "2015-01-15"});
  EXPECT_EQ(j["account"], "in\xEF\xBF\xBD\x01");
  EXPECT_EQ(j["status"], 451);  // no such account, no GeoIP: unknown country
  nlohmann::json t = explain({"--country", "IN", "--host", "api.example.com", "--path",
                              "/a\xc0\xae", "--at", "2015-01-15"});
  EXPECT_EQ(t["target"]["raw"]["path"], "/a\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(t["status"], 400);
}

TEST(ExplainCommand, FailsClosedWhenNoAllowedDataCentreIsUp) {
  nlohmann::json j = explain({"--account", "in-asha", "--service", "shop", "--at", "2015-01-15",
                              "--down", "singapore", "--down", "oregon", "--down", "california"});
  EXPECT_EQ(j["status"], 503);
  EXPECT_TRUE(j["datacenter"].is_null());
  EXPECT_EQ(j["reason_code"], "no-allowed-datacenter-up");
  // Beijing is up but forbidden: it is not even a candidate.
  EXPECT_EQ(j["candidates"], nlohmann::json({"singapore", "oregon", "california"}));
  nlohmann::json one_down = explain({"--account", "in-asha", "--service", "shop", "--at",
                                     "2015-01-15", "--down", "singapore"});
  EXPECT_EQ(one_down["datacenter_country"], "US");
}

// --latency orders the candidates as `nearest: latency` would: measured
// before unmeasured, the faster first (by more than the 5 ms tolerance);
// a forbidden data centre stays out however fast it is.
TEST(ExplainCommand, OrdersByTheRoundTripsGiven) {
  nlohmann::json j =
      explain({"--account", "in-asha", "--service", "shop", "--at", "2015-01-15", "--latency",
               "singapore=80ms", "--latency", "california=10ms", "--latency", "beijing=1ms"});
  EXPECT_EQ(j["candidates"], nlohmann::json({"california", "singapore", "oregon"}));
  EXPECT_EQ(j["datacenter"], "california");
  EXPECT_EQ(j["nearest"], "latency");
  EXPECT_EQ(j["round_trips_ms"],
            nlohmann::json::parse(R"({"california":10.0,"singapore":80.0,"oregon":null})"));
  nlohmann::json tie = explain({"--account", "in-asha", "--service", "shop", "--at", "2015-01-15",
                                "--latency", "singapore=14ms", "--latency", "oregon=10ms"});
  EXPECT_EQ(tie["candidates"], nlohmann::json({"singapore", "oregon", "california"}));
  EXPECT_FALSE(explain({"--account", "in-asha", "--service", "shop", "--at", "2015-01-15"})
                   .contains("nearest"));
  for (const char* bad : {"oregon", "oregon=fast", "mars=1ms", "oregon=0ms"}) {
    ProcessResult r = run_process({kBinary, "explain", "--config", kExample, "--account", "in-asha",
                                   "--service", "shop", "--latency", bad});
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find("--latency"), std::string::npos) << r.err;
  }
}

TEST(ExplainCommand, BadArgumentsExit2) {
  EXPECT_EQ(run_process({kBinary, "explain", "--config", kExample, "--country", "ZZ", "--service",
                         "shop"}).exit_code, 2);
  EXPECT_EQ(run_process({kBinary, "explain", "--config", kExample, "--country", "IN", "--service",
                         "books"}).exit_code, 2);
  EXPECT_EQ(run_process({kBinary, "explain", "--config", kExample, "--country", "IN", "--service",
                         "shop", "--at", "tomorrow"}).exit_code, 2);
}

}  // namespace
}  // namespace regiongate::testing

namespace regiongate::testing {
namespace {

// The README's first command: real requests through the gateway to the demo
// data centres on loopback. The demo binds its data centres on the ports
// of datacenters.yaml (it cannot take port 0 for them), and the example's
// fixed ports (18080, 18101-18106) may be taken by another run: on a copy
// of examples/, the gateway takes port 0 and the data centres ports chosen
// for this run; if one is taken, the demo cannot listen there and says so,
// and another set is tried.
TEST(DemoCommand, RunsTheTourThroughTheGateway) {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("regiongate-demo-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::copy(REGIONGATE_SOURCE_DIR "/examples", dir,
                        std::filesystem::copy_options::recursive);
  set_server_section(dir / "regiongate.yaml", "server:\n  listen:\n    - address: 127.0.0.1:0\n");
  const std::string example = read_text(dir / "datacenters.yaml");
  ProcessResult r;
  for (int attempt = 0; attempt < 10; ++attempt) {
    std::string dcs = example;
    for (int i = 1; i <= 6; ++i) {
      dcs = std::regex_replace(dcs, std::regex("127\\.0\\.0\\.1:1810" + std::to_string(i) + "\\b"),
                               "127.0.0.1:" + std::to_string(choose_unassigned_port()));
    }
    std::ofstream(dir / "datacenters.yaml") << dcs;
    r = run_process({kBinary, "demo", "--config", (dir / "regiongate.yaml").string(),
                     "--exit-after-tour", "--now", "2015-07-01T00:00:00Z"},
                    120);
    if (!(r.exit_code == 1 && r.err.find("Address already in use") != std::string::npos)) break;
  }
  std::filesystem::remove_all(dir);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("proof: holds"), std::string::npos);
  std::regex asha(R"(Asha \(India\), at home +/shop/cart +-> mumbai)");
  std::regex ravi(R"(Ravi \(India\), roaming in the US +/cloud/photos +-> mumbai)");
  std::regex li(R"(Li \(China\) +/messaging/inbox +-> beijing)");
  std::regex nobody(R"(no account, unknown place +/shop/cart +refused 451 unknown-account-country)");
  std::regex trick(R"(Asha \(India\), a path trick +/cloud/\.\./shop/cart +-> mumbai)");
  std::regex slash(R"(Asha \(India\), an encoded slash +/cloud%2f\.\.%2fshop/cart +refused 400 encoded-slash)");
  for (const std::regex& re : {asha, ravi, li, nobody, trick, slash}) {
    EXPECT_TRUE(std::regex_search(r.out, re)) << r.out;
  }
}

}  // namespace
}  // namespace regiongate::testing
