// Residency holes, tried as a hostile client would: a path the gateway
// classifies one way and a data centre serves another way, and identity
// headers doubled. The origins here (normalising_origin.py) read paths as
// lenient servers do, and report exactly what they received; the client
// (h2_client.py) sends header blocks as given, without normalising them.

#include <gtest/gtest.h>

#include <signal.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/python_peers.h"

namespace regiongate::testing {
namespace {

Headers get(const std::string& path, const std::string& account = "in-ravi",
            const std::string& authority = "api.example.com") {
  return get_request(path, account, authority);
}

class ResidencyHolesTest : public GatewayFixture {
 protected:

  void start_every_origin() {
    for (const char* dc : kDataCenters) start_normalising_origin(dc);
  }

  // Every request on its own stream of one connection; one result each.
  nlohmann::json send(const std::vector<Request>& requests, const std::string& flag = "") {
    return send_requests(base_.substr(base_.rfind(':') + 1), requests, dir_, flag);
  }

  std::vector<nlohmann::json> received(const std::string& dc) {
    return origin_requests(origin_log(dc));
  }
  std::size_t received_anywhere() {
    std::size_t n = 0;
    for (const char* dc : kDataCenters) n += received(dc).size();
    return n;
  }
  // Waits until the origins have printed `n` requests in all.
  bool wait_received(std::size_t n) {
    return wait_until([&] { return received_anywhere() >= n; });
  }

  std::string log_path() const { return (dir_ / "access.log").string(); }

  // Stops the gateway (which flushes the log) and reads every line.
  std::vector<nlohmann::json> access_log() {
    EXPECT_EQ(gateway_->stop(SIGTERM), 0);
    std::ifstream in(dir_ / "access.log");
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }

  void add_secret_service() {
    std::ifstream in(dir_ / "policy.yaml");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    in.close();
    auto at = text.find("  messaging:\n");
    ASSERT_NE(at, std::string::npos);
    text.insert(at,
                "  secret:\n    match:\n      - host: api.example.com\n        path: /secret\n");
    at = text.find("  # India, phase 3");
    ASSERT_NE(at, std::string::npos);
    text.insert(at,
                "  - id: india-secret-denied\n    accounts: IN\n    services: secret\n"
                "    until: 2015-06-01\n    deny: secret data is served nowhere\n\n");
    std::ofstream(dir_ / "policy.yaml") << text;
  }
};

// The issue's story: on 2014-12-15 Indian cloud data is still in Beijing, but
// Indian shop data may not go there since 2014-10-31. /cloud/../shop/cart is
// shop data, however it is spelled.
TEST_F(ResidencyHolesTest, TheStorysPathTrickNeverReachesBeijing) {
  ASSERT_NO_FATAL_FAILURE(start_every_origin());
  ASSERT_NO_FATAL_FAILURE(start_gateway("2014-12-15T00:00:00Z", "", log_path()));
  const std::vector<std::string> tricks = {
      "/cloud/../shop/cart",    "/cloud/%2e%2e/shop/cart",         "/cloud/%2E%2E/shop/cart",
      "/cloud/.%2e/shop/cart",  "/cloud/photos/../../shop/cart",   "/cloud/./../%73hop/cart",
      "//cloud/..//shop//cart", "/cloud/%2e%2e/%73%68%6F%70/cart",
  };
  std::vector<Request> requests;
  for (const std::string& path : tricks) requests.push_back(get(path));
  requests.push_back(get("/cloud/photos"));  // the control: cloud still goes to Beijing
  nlohmann::json results = send(requests);
  ASSERT_EQ(results.size(), tricks.size() + 1);
  for (std::size_t i = 0; i < tricks.size(); ++i) {
    EXPECT_EQ(results[i]["status"], 200) << tricks[i] << results[i].dump();
    EXPECT_NE(results[i]["headers"].value("x-regiongate-dc", "beijing"), "beijing") << tricks[i];
    nlohmann::json body = nlohmann::json::parse(results[i]["body"].get<std::string>());
    EXPECT_EQ(body["path"], "/shop/cart") << tricks[i];  // exactly what was decided on
    EXPECT_EQ(body["served"], "/shop/cart") << tricks[i];
  }
  EXPECT_EQ(results[tricks.size()]["headers"]["x-regiongate-dc"], "beijing");
  ASSERT_TRUE(wait_received(tricks.size() + 1));
  std::vector<nlohmann::json> beijing = received("beijing");
  ASSERT_EQ(beijing.size(), 1u);
  EXPECT_EQ(beijing[0]["path"], "/cloud/photos");

  std::vector<nlohmann::json> lines = access_log();
  ASSERT_EQ(lines.size(), tricks.size() + 1);
  std::size_t shop = 0;
  for (const nlohmann::json& line : lines) {
    if (line["service"] == "shop") {
      ++shop;
      EXPECT_EQ(line["rule"], "india-shop-sg-us");
      EXPECT_NE(line["datacenter"], "beijing");
    }
  }
  EXPECT_EQ(shop, tricks.size());
}

// The issue's second list: a service denied by a rule, reached by spellings
// of its path. Each is refused (451 on the canonical path, or 400 when the
// path cannot be read one way only); no origin receives any of them. The
// allowed requests on the same connection are unharmed.
TEST_F(ResidencyHolesTest, EverySpellingOfADeniedPathIsRefused) {
  add_secret_service();
  ASSERT_NO_FATAL_FAILURE(start_every_origin());
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z", "", log_path()));
  struct Vector {
    std::string path;
    int status;
    std::string reason;
  };
  const std::vector<Vector> vectors = {
      {"/secret/file", 451, "denied"},
      {"/x/../secret/file", 451, "denied"},
      {"/x/%2e%2e/secret/file", 451, "denied"},
      {"/%73ecret/file", 451, "denied"},
      {"//secret/file", 451, "denied"},
      {"/./secret/file", 451, "denied"},
      {"/secret;jsessionid=1/file", 451, "denied"},
      {"/secret%3Bx/file", 451, "denied"},
      {"/secret%2ffile", 400, "encoded-slash"},
      {"/x/..%2fsecret/file", 400, "encoded-slash"},
      {"/x/..%5Csecret/file", 400, "encoded-slash"},
      {"/x/..\\secret/file", 400, "backslash"},
      {"/x/..;/secret/file", 400, "dot-segment-parameters"},
      {"/x/%252e%252e/secret/file", 400, "double-encoded"},
      {"/x/%c0%ae%c0%ae/secret/file", 400, "escape-not-utf8"},
      {"/secret/file%00", 400, "encoded-control"},
      {"/x/%zz/secret", 400, "malformed-escape"},
  };
  std::vector<Request> requests;
  for (const Vector& v : vectors) requests.push_back(get(v.path));
  // Allowed, and made canonical on the way; the query travels byte for byte.
  requests.push_back(get("/shop/cart/./../cart?next=/../secret%2F&X=%7e"));
  // One at a time, so the access log has their lines in this order.
  nlohmann::json results = send(requests, "--one-at-a-time");
  ASSERT_EQ(results.size(), vectors.size() + 1);
  const nlohmann::json& allowed = results[vectors.size()];
  ASSERT_EQ(allowed["status"], 200) << allowed.dump();
  nlohmann::json body = nlohmann::json::parse(allowed["body"].get<std::string>());
  EXPECT_EQ(body["path"], "/shop/cart?next=/../secret%2F&X=%7e");
  ASSERT_TRUE(wait_received(1));
  EXPECT_EQ(received_anywhere(), 1u);  // the allowed one, and nothing else

  std::vector<nlohmann::json> lines = access_log();
  ASSERT_EQ(lines.size(), vectors.size() + 1);
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    const Vector& v = vectors[i];
    const nlohmann::json& line = lines[i];
    EXPECT_EQ(results[i]["status"], v.status) << v.path << results[i].dump();
    EXPECT_EQ(line["status"], v.status) << v.path << line.dump();
    EXPECT_TRUE(line["datacenter"].is_null()) << v.path << line.dump();
    const std::string reason = results[i]["headers"].value("x-regiongate-reason", "");
    if (v.status == 400) {
      EXPECT_EQ(reason, v.reason) << v.path;
      EXPECT_EQ(line["reason"], v.reason) << v.path;
      EXPECT_TRUE(line["service"].is_null()) << v.path << line.dump();
    } else {
      EXPECT_NE(reason.find(v.reason), std::string::npos) << v.path << reason;
      EXPECT_EQ(line["service"], "secret") << v.path << line.dump();
      EXPECT_EQ(line["rule"], "india-secret-denied") << v.path;
    }
  }
  EXPECT_EQ(lines[vectors.size()]["service"], "shop");
  EXPECT_EQ(lines[vectors.size()]["datacenter"], body["dc"]);
}

// Doubled identity, and a host that disagrees with :authority: refused with
// 400 before any decision; nothing reaches a data centre. What passes
// reaches the origin with exactly one account header (and te: trailers).
TEST_F(ResidencyHolesTest, IdentityAndHostAreTakenFromExactlyOnePlace) {
  ASSERT_NO_FATAL_FAILURE(start_every_origin());
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z", "", log_path()));
  Headers twice = get("/shop/cart", "cn-li");
  twice.push_back({"x-account-id", "in-ravi"});  // China's account, decided on as India's?
  Headers list = get("/shop/cart", "cn-li, in-ravi");
  Headers two_hosts = get("/shop/cart");
  two_hosts.push_back({"host", "api.example.com"});
  two_hosts.push_back({"host", "shop.example.com"});
  Headers other_host = get("/cloud/photos", "in-ravi", "api.example.com");
  other_host.push_back({"host", "shop.example.com"});
  Headers userinfo = get("/shop/cart", "in-ravi", "cn-li@api.example.com");
  Headers two_forwarded = get("/shop/cart");
  two_forwarded.push_back({"x-forwarded-for", "127.4.0.1"});
  two_forwarded.push_back({"x-forwarded-for", "127.2.0.1"});
  Headers same_host = get("/shop/cart", "in-ravi", "API.Example.com.");
  same_host.push_back({"host", "api.example.com"});
  same_host.push_back({"te", "trailers"});
  Headers host_only = get("/cart", "cn-li", "");
  host_only.push_back({"host", "Shop.Example.com"});
  // A second account (and host) in the trailers never reaches the origin.
  Request trailing(get("/shop/trailers"),
                   {{"x-account-id", "cn-li"}, {"host", "cn.example.com"}, {"x-checksum", "1"}});

  nlohmann::json r = send({twice, list, two_hosts, other_host, userinfo, two_forwarded, same_host,
                           host_only, trailing});
  ASSERT_EQ(r.size(), 9u);
  // nghttp2 itself resets a stream with two host headers (a malformed
  // request, RFC 9113 §8.1.1); the gateway refuses the rest with 400.
  EXPECT_EQ(r[2]["reset"], "PROTOCOL_ERROR") << r[2].dump();
  const char* reasons[] = {"duplicate-header", "list-value",         "",
                           "host-mismatch",    "authority-userinfo", "duplicate-header"};
  for (int i = 0; i < 6; ++i) {
    if (i == 2) continue;
    EXPECT_EQ(r[i]["status"], 400) << i << r[i].dump();
    EXPECT_EQ(r[i]["headers"].value("x-regiongate-reason", ""), reasons[i]) << i;
  }
  EXPECT_EQ(r[6]["status"], 200) << r[6].dump();
  EXPECT_EQ(r[6]["headers"]["x-regiongate-dc"], "singapore");
  EXPECT_EQ(r[7]["status"], 200) << r[7].dump();
  EXPECT_EQ(r[7]["headers"]["x-regiongate-dc"], "beijing");  // cn-li's shop, by the host header

  EXPECT_EQ(r[8]["status"], 200) << r[8].dump();

  ASSERT_TRUE(wait_received(3));
  EXPECT_EQ(received_anywhere(), 3u);
  std::vector<nlohmann::json> singapore = received("singapore");
  ASSERT_EQ(singapore.size(), 2u);
  if (singapore[0]["path"] != "/shop/cart") std::swap(singapore[0], singapore[1]);
  EXPECT_EQ(singapore[1]["trailers"], nlohmann::json::parse(R"([["x-checksum","1"]])"));
  EXPECT_EQ(singapore[0]["authority"], "api.example.com");
  int accounts = 0, hosts = 0;
  bool te = false;
  for (const nlohmann::json& h : singapore[0]["headers"]) {
    if (h[0] == "x-account-id") {
      ++accounts;
      EXPECT_EQ(h[1], "in-ravi");
    }
    if (h[0] == "host") ++hosts;
    if (h[0] == "te") te = h[1] == "trailers";
  }
  EXPECT_EQ(accounts, 1);
  EXPECT_EQ(hosts, 0);  // :authority is the one place the host is named
  EXPECT_TRUE(te);
  std::vector<nlohmann::json> beijing = received("beijing");
  ASSERT_EQ(beijing.size(), 1u);
  EXPECT_EQ(beijing[0]["authority"], "shop.example.com");
  EXPECT_EQ(beijing[0]["path"], "/cart");
}

// A malformed request is that stream's problem only: nghttp2 resets what
// HTTP/2 itself forbids (PROTOCOL_ERROR), the gateway answers 400 for what
// RFC 3986 forbids, and the request beside them is served.
TEST_F(ResidencyHolesTest, AMalformedTargetHurtsNoOtherStream) {
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  nlohmann::json r = send({get(std::string("/shop/a\0b", 9)), get("/shop/a b"), get("shop/cart"),
                           get("/shop/caf\xc3\xa9"), get("/shop/cart")});
  ASSERT_EQ(r.size(), 5u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r[i]["reset"], "PROTOCOL_ERROR") << i << r[i].dump();
  EXPECT_EQ(r[3]["status"], 400);
  EXPECT_EQ(r[3]["headers"].value("x-regiongate-reason", ""), "invalid-path-character");
  EXPECT_EQ(r[4]["status"], 200) << r[4].dump();
  ASSERT_TRUE(wait_received(1));
  EXPECT_EQ(received("singapore").size(), 1u);
}

// Doubled slashes refused when so configured (the operator's choice).
TEST_F(ResidencyHolesTest, DoubledSlashesCanBeRefused) {
  {
    std::ifstream in(dir_ / "regiongate.yaml");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    in.close();
    text.replace(text.find("doubled_slashes: merge"), 22, "doubled_slashes: refuse");
    std::ofstream(dir_ / "regiongate.yaml") << text;
  }
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z"));
  nlohmann::json r = send({get("//shop/cart"), get("/shop//cart"), get("/shop/./cart")});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0]["status"], 400);
  EXPECT_EQ(r[0]["headers"].value("x-regiongate-reason", ""), "doubled-slash");
  EXPECT_EQ(r[1]["status"], 400);
  EXPECT_EQ(r[2]["status"], 200);
  ASSERT_TRUE(wait_received(1));
  EXPECT_EQ(received("singapore")[0]["path"], "/shop/cart");
}

// A phone that goes away mid-download: its connection closes with the
// stream still open. The request was decided and forwarded, so it is in the
// access log, with how it ended.
TEST_F(ResidencyHolesTest, AStreamCutOffByItsConnectionIsLogged) {
  ASSERT_NO_FATAL_FAILURE(start_normalising_origin("singapore"));
  ASSERT_NO_FATAL_FAILURE(start_gateway("2015-01-15T00:00:00Z", "", log_path()));
  nlohmann::json r = send({get("/shop/slow/download"), get("/shop/cart")}, "--close-after-headers");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["status"], 200);
  // The gateway saw the close once it cancels the origin's stream.
  ASSERT_TRUE(origins_["singapore"]->wait_for(std::regex("reset \\d+ CANCEL")))
      << origin_log("singapore");
  std::vector<nlohmann::json> lines = access_log();
  ASSERT_EQ(lines.size(), 2u);
  bool cut = false, complete = false;
  for (const nlohmann::json& line : lines) {
    EXPECT_EQ(line["status"], 200);
    EXPECT_EQ(line["service"], "shop");
    EXPECT_EQ(line["datacenter"], "singapore");
    cut = cut || line["outcome"] == "connection-closed";
    complete = complete || line["outcome"] == "complete";
  }
  EXPECT_TRUE(cut) << lines[0].dump() << lines[1].dump();
  EXPECT_TRUE(complete) << lines[0].dump() << lines[1].dump();
}

}  // namespace
}  // namespace regiongate::testing
