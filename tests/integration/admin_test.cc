// The admin listener through the real gateway: /metrics read by the
// Prometheus client's own parser, /healthz, /readyz, /status, /explain (the
// CLI's JSON on the live snapshot and live health), POST /reload (the
// SIGHUP reload, its rejections counted), and HTTP/1.1 handled as a client
// would send it: pipelined, malformed, too large. None of it is reachable
// from the client listeners.

#include <gtest/gtest.h>

#include <fstream>
#include <regex>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/python_peers.h"
#include "tests/integration/text_file.h"

namespace regiongate::testing {
namespace {

constexpr const char* kIndiaInCountry = "2026-12-01T00:00:00Z";  // Indian data stays in Mumbai

class AdminTest : public GatewayFixture {
 protected:
  // The status line and the body of an admin answer.
  static int status_of(const ProcessResult& r) {
    std::smatch m;
    return std::regex_search(r.out, m, std::regex("^HTTP/1\\.1 (\\d+)")) ? std::stoi(m[1]) : 0;
  }
  static std::string body_of(const ProcessResult& r) {
    auto at = r.out.find("\r\n\r\n");
    return at == std::string::npos ? "" : r.out.substr(at + 4);
  }
  int shop_status(const std::string& account) {
    ProcessResult r = curl({"-o", "/dev/null", "-w", "%{http_code}", "-H", "host: api.example.com",
                            "-H", "x-account-id: " + account},
                           "/shop/cart");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::atoi(r.out.c_str());
  }
  // Raw bytes to the admin listener, and everything it answers until it closes.
  std::string raw_admin(const std::string& bytes) {
    nlohmann::json r = raw_tcp(admin_base_.substr(admin_base_.rfind(':') + 1), bytes, true);
    EXPECT_TRUE(r["closed"]) << r.dump();
    return r["received"];
  }
  void edit(const std::string& file, const std::string& from, const std::string& to) {
    edit_text(dir_ / file, from, to);
  }
};

TEST_F(AdminTest, MetricsParseAsPrometheusTextAndCountWhatHappened) {
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("mumbai"));
  ASSERT_NO_FATAL_FAILURE(start_gateway(kIndiaInCountry));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(shop_status("in-ravi"), 200);
  EXPECT_EQ(shop_status("nobody-knows-me"), 451);  // no country: refused
  ProcessResult unknown = curl({"-H", "host: elsewhere.example.org"}, "/");
  EXPECT_EQ(unknown.exit_code, 0) << unknown.err;

  // Counted when each stream ends, which may be a moment after the client
  // has its answer: wait for the counter, not for time.
  nlohmann::json m;
  ASSERT_TRUE(wait_until([&] {
    m = metrics();
    return metric_value(m, "regiongate_request_duration_seconds_count") >= 5;
  })) << m.dump();
  EXPECT_EQ(metric_value(m, "regiongate_requests_total",
                         {{"country", "IN"}, {"datacenter", "mumbai"}, {"status", "200"}}),
            3);
  EXPECT_EQ(metric_value(m, "regiongate_requests_total", {{"status", "451"}}), 1);
  EXPECT_EQ(metric_value(m, "regiongate_requests_total", {{"status", "404"}}), 1);
  EXPECT_EQ(metric_value(m, "regiongate_requests_total"), 5);
  EXPECT_EQ(metric_value(m, "regiongate_denials_total", {{"reason", "unknown-service"}}), 1);
  EXPECT_EQ(metric_value(m, "regiongate_denials_total"), 2);
  EXPECT_EQ(metric_value(m, "regiongate_failovers_total"), 0);
  EXPECT_EQ(metric_value(m, "regiongate_request_duration_seconds_bucket", {{"le", "+Inf"}}), 5);
  EXPECT_GT(metric_value(m, "regiongate_request_duration_seconds_sum"), 0);
  EXPECT_GE(metric_value(m, "regiongate_connections_accepted_total"), 5);
  EXPECT_EQ(metric_value(m, "regiongate_snapshot_version"), 1);
  EXPECT_EQ(metric_value(m, "regiongate_reloads_total", {{"outcome", "rejected"}}), 0);
  EXPECT_GT(metric_value(m, "regiongate_geoip_build_timestamp_seconds"), 1.4e9);
  EXPECT_EQ(metric_value(m, "regiongate_datacenter_healthy", {{"datacenter", "mumbai"}}), 1);
  EXPECT_EQ(metric_value(m, "regiongate_log_lines_dropped_total", {{"log", "access"}}), 0);
  // The conventions: counters end in _total, durations are _seconds
  // histograms; the parser read HELP and TYPE for every family.
  EXPECT_EQ(m["regiongate_requests"]["type"], "counter");
  EXPECT_EQ(m["regiongate_request_duration_seconds"]["type"], "histogram");
  EXPECT_EQ(m["regiongate_connections_open"]["type"], "gauge");
  for (const auto& [name, family] : m.items()) {
    EXPECT_FALSE(family["help"].get<std::string>().empty()) << name;
    EXPECT_NE(family["type"], "unknown") << name;
  }
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

TEST_F(AdminTest, HealthzReadyzAndStatusSayWhatServes) {
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("mumbai"));
  ASSERT_NO_FATAL_FAILURE(start_gateway(kIndiaInCountry));
  ProcessResult healthz = admin("/healthz");
  ASSERT_EQ(healthz.exit_code, 0) << healthz.err;
  EXPECT_EQ(status_of(healthz), 200);
  ProcessResult readyz = admin("/readyz");
  EXPECT_EQ(status_of(readyz), 200) << readyz.out;
  EXPECT_NE(body_of(readyz).find("snapshot 1"), std::string::npos) << readyz.out;

  ProcessResult status = admin("/status");
  ASSERT_EQ(status_of(status), 200) << status.out;
  nlohmann::json s = nlohmann::json::parse(body_of(status));
  EXPECT_EQ(s["snapshot"]["version"], 1);
  EXPECT_EQ(s["snapshot"]["sources"]["policy"], (dir_ / "policy.yaml").string());
  EXPECT_EQ(s["phase"]["now"], kIndiaInCountry);
  std::vector<std::string> rules = s["phase"]["rules_in_force"];
  EXPECT_NE(std::find(rules.begin(), rules.end(), "india-in-country"), rules.end()) << s.dump();
  ASSERT_EQ(s["datacenters"].size(), 6u) << s.dump();
  EXPECT_EQ(s["datacenters"][4]["id"], "mumbai");
  EXPECT_EQ(s["datacenters"][4]["country"], "IN");
  EXPECT_EQ(s["datacenters"][4]["healthy"], true);
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

// With health checks on and only one data centre answering: /readyz is
// ready, /explain routes around the dead ones as a request would; with none
// answering, /readyz says not ready.
TEST_F(AdminTest, ReadyzAndExplainReadTheLiveHealth) {
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("oregon"));
  ASSERT_NO_FATAL_FAILURE(start_gateway(
      "2015-01-15T00:00:00Z", "  health: {path: /healthz, interval: 100ms, timeout: 200ms, rise: 1, fall: 1}\n"));
  // Only Oregon has an origin; Singapore (the first choice for Indian shop
  // data then) and the others are down once probed.
  ASSERT_TRUE(wait_until([&] {
    nlohmann::json m = metrics();
    return metric_value(m, "regiongate_datacenter_healthy") == 1 &&
           metric_value(m, "regiongate_datacenter_healthy", {{"datacenter", "oregon"}}) == 1;
  }));
  ProcessResult e = admin("/explain?account=in-asha&host=api.example.com&path=/shop/cart");
  ASSERT_EQ(status_of(e), 200) << e.out;
  nlohmann::json live = nlohmann::json::parse(body_of(e));
  EXPECT_EQ(live["datacenter"], "oregon") << live.dump();
  EXPECT_EQ(live["snapshot"], 1);

  // The same question to the CLI, told which data centres are down, gives
  // the same JSON (the admin's adds the snapshot version).
  std::vector<std::string> argv = {REGIONGATE_BINARY, "explain", "--config", (dir_ / "regiongate.yaml").string(),
                                   "--account", "in-asha", "--host", "api.example.com", "--path",
                                   "/shop/cart", "--at", "2015-01-15T00:00:00Z"};
  for (const char* dc : {"beijing", "singapore", "california", "mumbai", "sao-paulo"}) {
    argv.insert(argv.end(), {"--down", dc});
  }
  ProcessResult cli = run_process(argv);
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  live.erase("snapshot");
  EXPECT_EQ(live, nlohmann::json::parse(cli.out));
  EXPECT_EQ(status_of(admin("/readyz")), 200);

  // A bad query is a 400 with the reason, as the CLI's exit status 2 is.
  ProcessResult bad = admin("/explain?account=in-asha&service=no-such-service");
  EXPECT_EQ(status_of(bad), 400) << bad.out;
  EXPECT_NE(body_of(bad).find("no-such-service"), std::string::npos) << bad.out;
  EXPECT_EQ(status_of(admin("/explain?account=%zz&service=shop")), 400);

  // Nothing answers: not ready.
  stop_origin("oregon");  // stopped by PID
  ASSERT_TRUE(wait_until([&] { return status_of(admin("/readyz")) == 503; })) << admin("/readyz").out;
  EXPECT_EQ(status_of(admin("/healthz")), 200);  // the process is still up
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

TEST_F(AdminTest, PostReloadPublishesAndABrokenOneIsRejectedVisiblyAndCounted) {
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("oregon"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  EXPECT_EQ(status_of(admin("/reload")), 405);  // a GET changes nothing

  // Indian shop data may no longer go to Singapore.
  ASSERT_NO_FATAL_FAILURE(edit("policy.yaml", "    until: 2015-06-01\n    allow: [SG, US]",
                               "    until: 2015-06-01\n    allow: [US]"));
  ProcessResult ok = admin("/reload", {"-X", "POST"});
  ASSERT_EQ(status_of(ok), 200) << ok.out;
  nlohmann::json published = nlohmann::json::parse(body_of(ok));
  EXPECT_EQ(published["published"], true);
  EXPECT_EQ(published["version"], 2);
  ProcessResult r = curl({"-H", "host: api.example.com", "-H", "x-account-id: in-asha"}, "/shop/cart");
  EXPECT_NE(r.out.find("x-regiongate-dc: oregon"), std::string::npos) << r.out;

  // Broken: 422 with file:line:col, the old snapshot serving, and counted.
  ASSERT_NO_FATAL_FAILURE(edit("policy.yaml", "allow: [US]", "allow: [US"));
  ProcessResult rejected = admin("/reload", {"-X", "POST"});
  ASSERT_EQ(status_of(rejected), 422) << rejected.out;
  nlohmann::json why = nlohmann::json::parse(body_of(rejected));
  EXPECT_EQ(why["published"], false);
  EXPECT_EQ(why["version"], 2);
  EXPECT_TRUE(std::regex_search(why["messages"].dump(), std::regex("policy\\.yaml:\\d+:\\d+: error")))
      << why.dump();
  EXPECT_NE(gateway_->output().find("reload rejected"), std::string::npos) << gateway_->output();
  r = curl({"-H", "host: api.example.com", "-H", "x-account-id: in-asha"}, "/shop/cart");
  EXPECT_NE(r.out.find("x-regiongate-dc: oregon"), std::string::npos) << r.out;
  nlohmann::json m = metrics();
  EXPECT_EQ(metric_value(m, "regiongate_reloads_total", {{"outcome", "published"}}), 1);
  EXPECT_EQ(metric_value(m, "regiongate_reloads_total", {{"outcome", "rejected"}}), 1);
  EXPECT_EQ(metric_value(m, "regiongate_snapshot_version"), 2);

  // SIGHUP and /reload share the count and the versions.
  ASSERT_NO_FATAL_FAILURE(edit("policy.yaml", "allow: [US", "allow: [US]"));
  ASSERT_EQ(kill(gateway_->pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_until([&] { return metric_value(metrics(), "regiongate_snapshot_version") == 3; }));
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

TEST_F(AdminTest, Http1AsClientsSendItPipelinedMalformedOrTooLarge) {
  ASSERT_NO_FATAL_FAILURE(start_gateway(kIndiaInCountry));
  // Two requests in one write: two answers, in order.
  std::string two = raw_admin(
      "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /readyz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(std::regex_search(two, std::regex("^HTTP/1\\.1 200 OK\r\n[^]*\r\n\r\nok\n"
                                                "HTTP/1\\.1 200 OK\r\n[^]*ready: snapshot 1\n$")))
      << two;
  // Not HTTP: 400 and closed.
  EXPECT_EQ(raw_admin("\x16\x03\x01 hello?\r\n\r\n").rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
  // A head past its bound: 431, and the connection is closed.
  std::string big = raw_admin("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  EXPECT_EQ(big.rfind("HTTP/1.1 431 ", 0), 0u) << big.substr(0, 200);
  // An unknown path says what there is; the listener still serves.
  ProcessResult missing = admin("/nope");
  EXPECT_EQ(status_of(missing), 404);
  EXPECT_NE(body_of(missing).find("/metrics"), std::string::npos) << missing.out;
  EXPECT_EQ(status_of(admin("/healthz")), 200);
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

// The client listeners know nothing of the admin paths: /metrics there is
// an unknown service like any other path.
TEST_F(AdminTest, TheAdminPathsAreNotReachableFromTheClientListener) {
  ASSERT_NO_FATAL_FAILURE(start_gateway(kIndiaInCountry));
  for (const char* path : {"/metrics", "/status", "/reload", "/healthz"}) {
    ProcessResult r = curl({"-H", "host: api.example.com"}, path);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("x-regiongate-reason: unknown-service"), std::string::npos) << path << r.out;
    EXPECT_EQ(r.out.find("regiongate_"), std::string::npos) << r.out;
  }
  EXPECT_EQ(gateway_->stop(SIGTERM), 0);
}

}  // namespace
}  // namespace regiongate::testing
