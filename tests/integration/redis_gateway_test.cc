// The Redis account directory through the real gateway: accounts loaded by
// `regiongate accounts load` into a real redis-server (and a real 3-node
// Redis Cluster), requests from real clients (curl, h2load, h2_client.py),
// nghttpd data centres that log what reached them. Redis is killed and
// brought back while h2load runs: the configured behaviour holds, and no
// request ever reaches a data centre its account may not use.

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <regex>

#include "tests/integration/gateway_fixture.h"
#include "tests/integration/python_peers.h"
#include "tests/integration/text_file.h"
#include "tests/proxy/directory/redis_test_server.h"
#include "tests/tokens/token_keys.h"

namespace regiongate::testing {
namespace {

constexpr const char* kNow = "2015-07-01T00:00:00Z";  // India in its own data centre

struct Statuses {
  long long ok = -1, server_errors = -1, total = -1;
};

// h2load's summary: "requests: N total, ...", "status codes: A 2xx, B 3xx, C 4xx, D 5xx".
Statuses h2load_statuses(const std::string& out) {
  Statuses s;
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx)"))) {
    s.ok = std::stoll(m[1]);
    s.server_errors = std::stoll(m[4]);
  }
  if (std::regex_search(out, m, std::regex(R"(requests: (\d+) total)"))) s.total = std::stoll(m[1]);
  return s;
}

// Not exited (an exited child stays a zombie until it is waited for).
bool still_running(pid_t pid) {
  const std::string text = read_text("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

class RedisGatewayTest : public GatewayFixture {
 protected:
  // The example with its directory in Redis at `nodes` (cluster when more
  // than one), the shop falling back to GeoIP when Redis cannot answer and
  // every other service refusing, and the test's own address trusted as a
  // load balancer (x-forwarded-for says where the phone is).
  void configure(const std::vector<std::string>& nodes, const std::string& cache,
                 const std::string& extra_redis = "") {
    std::string list;
    for (const std::string& n : nodes) list += (list.empty() ? "\"" : ", \"") + n + "\"";
    std::string config = read_text(dir_ / "regiongate.yaml");
    replace_first(config, "directory:\n  file: accounts.csv\n",
            "directory:\n  redis:\n    nodes: [" + list + "]\n    cluster: " +
                (nodes.size() > 1 ? "true" : "false") +
                "\n    timeout: 500ms\n    connect_timeout: 500ms\n"
                "    reconnect: {min: 20ms, max: 100ms}\n    cache: " + cache + "\n" + extra_redis);
    replace_first(config, "  trusted_proxies: []\n",
            "  trusted_proxies: [127.0.0.1/32]\n"
            "  directory_unavailable:\n    default: refuse\n    services: {shop: geoip}\n");
    write_text(dir_ / "regiongate.yaml", config);
    std::filesystem::create_directories(docroot() / "account");
    std::ofstream(docroot() / "account" / "profile") << "profile\n";
  }
  // examples/accounts.csv into Redis with the real loader.
  void load_accounts(const std::string& node, bool cluster, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {REGIONGATE_BINARY, "accounts", "load",
                                     (dir_ / "accounts.csv").string(), "--redis", node};
    if (cluster) argv.push_back("--cluster");
    argv.insert(argv.end(), extra.begin(), extra.end());
    ProcessResult r = run_process(argv, 60);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  void start_every_origin() {
    for (const char* dc : kDataCenters) start_origin(dc);
  }
  // A GET by curl, as a phone at `phone` (x-forwarded-for) for `account`.
  ProcessResult get(const std::string& path, const std::string& account,
                    const std::string& phone = "127.4.0.9") {
    return curl({"-H", "x-account-id: " + account, "-H", "x-forwarded-for: " + phone,
                 "-H", "host: api.example.com"},
                path);
  }
  static std::string header(const ProcessResult& r, const std::string& name) {
    std::smatch m;
    if (!std::regex_search(r.out, m, std::regex("\n" + name + ": ([^\r\n]*)"))) return "";
    return m[1];
  }
  static int status(const ProcessResult& r) {
    std::smatch m;
    if (!std::regex_search(r.out, m, std::regex(R"(^HTTP/2 (\d+))"))) return 0;
    return std::stoi(m[1]);
  }
  // h2load for `account` on `path`, rate-limited so that it lasts a few
  // seconds: the test changes Redis while it runs.
  std::unique_ptr<BackgroundProcess> start_load(const std::string& path, const std::string& account,
                                                int requests) {
    return std::make_unique<BackgroundProcess>(std::vector<std::string>{
        "/usr/bin/h2load", "-n", std::to_string(requests), "-c", "2", "--rps", "200", "-H",
        ":authority: api.example.com", "-H", "x-account-id: " + account, "-H",
        "x-forwarded-for: 127.4.0.9", base_ + path});
  }
  double metric(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    return metric_value(metrics(), name, labels);
  }
  // Every data centre but `allowed` received nothing.
  void expect_only(const std::string& allowed) {
    for (const char* dc : kDataCenters) {
      if (dc != allowed) {
        EXPECT_EQ(requests_seen_by(dc), 0) << dc << " received a request";
      }
    }
  }
};

TEST_F(RedisGatewayTest, AccountsComeFromRedisAndRepeatsFromTheCache) {
  // On a Unix socket: a local Redis, and no TCP port to choose.
  RedisTestServer redis(false, RedisTestServer::Listen::kUnixSocket);
  ASSERT_TRUE(redis.ok()) << redis.error();
  ASSERT_NO_FATAL_FAILURE(load_accounts(redis.authority(), false));
  ASSERT_NO_FATAL_FAILURE(configure({redis.authority()}, "{entries: 1000, ttl: 60s, negative_ttl: 60s}"));
  ASSERT_NO_FATAL_FAILURE(start_every_origin());
  ASSERT_NO_FATAL_FAILURE(start_gateway(kNow));
  const std::map<std::string, std::string> home = {
      {"in-ravi", "mumbai"}, {"cn-li", "beijing"}, {"br-joao", "sao-paulo"}, {"sg-tan", "singapore"}};
  // All on one connection: one worker, one cache, so the counts below are exact.
  std::vector<Request> requests;
  std::vector<std::string> expected;
  for (int round = 0; round < 3; ++round) {
    for (const auto& [account, dc] : home) {
      Headers h = get_request("/shop/cart", account);
      h.emplace_back("x-forwarded-for", "127.4.0.9");  // the phone is in the US
      requests.emplace_back(h);
      expected.push_back(dc);
    }
    // Not in Redis: the next source (GeoIP of the phone) decides.
    Headers h = get_request("/shop/cart", "nobody");
    h.emplace_back("x-forwarded-for", "127.4.0.9");
    requests.emplace_back(h);
    expected.push_back("");
  }
  nlohmann::json r = send_requests(base_.substr(base_.rfind(':') + 1), requests, dir_, "--one-at-a-time");
  ASSERT_EQ(r.size(), requests.size()) << r.dump();
  for (std::size_t i = 0; i < r.size(); ++i) {
    ASSERT_EQ(r[i]["status"], 200) << r[i].dump();
    if (!expected[i].empty()) {
      EXPECT_EQ(r[i]["headers"]["x-regiongate-dc"], expected[i]) << i;
    }
  }
  // Redis was asked once per account; the rest came from the cache.
  EXPECT_EQ(redis.command_calls("get"), 5);
  EXPECT_EQ(metric("regiongate_directory_cache_total", {{"result", "hit"}}), 8);
  EXPECT_EQ(metric("regiongate_directory_cache_total", {{"result", "negative_hit"}}), 2);
  EXPECT_EQ(metric("regiongate_directory_lookups_total", {{"outcome", "found"}}), 4);
  EXPECT_EQ(metric("regiongate_directory_lookups_total", {{"outcome", "not_found"}}), 1);
  // The data centre is told which source decided.
  EXPECT_NE(origin_log("mumbai").find("x-regiongate-country-source: directory"), std::string::npos);

  // explain asks Redis too.
  ProcessResult explain = run_process({REGIONGATE_BINARY, "explain", "--config",
                                       (dir_ / "regiongate.yaml").string(), "--account", "br-joao",
                                       "--service", "shop", "--at", kNow});
  ASSERT_EQ(explain.exit_code, 0) << explain.err;
  nlohmann::json j = nlohmann::json::parse(explain.out);
  EXPECT_EQ(j["country"], "BR");
  EXPECT_EQ(j["country_source"], "directory");
  EXPECT_EQ(j["lookups"]["directory"], "found");
  EXPECT_EQ(j["datacenter"], "sao-paulo");
  EXPECT_EQ(redis.stop(SIGTERM), 0);
}

TEST_F(RedisGatewayTest, RedisKilledMidLoadNeverMovesDataAcrossABorderAndRecovers) {
  // On a Unix socket: a local Redis, and no TCP port to choose.
  RedisTestServer redis(false, RedisTestServer::Listen::kUnixSocket);
  ASSERT_TRUE(redis.ok()) << redis.error();
  ASSERT_NO_FATAL_FAILURE(load_accounts(redis.authority(), false));
  // No cache: every request asks Redis, so killing it shows at once.
  ASSERT_NO_FATAL_FAILURE(configure({redis.authority()}, "{entries: 0}"));
  ASSERT_NO_FATAL_FAILURE(start_every_origin());
  ASSERT_NO_FATAL_FAILURE(start_gateway(kNow));

  // A Chinese account's phone travelling in the US: its data stays in China.
  constexpr int kRequests = 3000;  // 400/s: 7.5 s, far longer than the steps below
  auto load = start_load("/account/profile", "cn-li", kRequests);
  auto running = [&] { return still_running(load->pid()); };
  auto found = [&] { return metric("regiongate_directory_lookups_total", {{"outcome", "found"}}); };
  auto refused = [&] {
    return metric("regiongate_directory_unavailable_total", {{"service", "account"}, {"action", "refused"}});
  };
  ASSERT_TRUE(wait_until([&] { return found() >= 50; }, std::chrono::seconds(20))) << load->output();

  // Persisted first, as a production Redis is (an empty one would answer
  // "no such account" for everyone, and identity.order would go on to GeoIP).
  ASSERT_EQ(redis.cli({"SAVE"}).out, "OK\n");
  EXPECT_EQ(redis.stop(SIGKILL), -1);
  ASSERT_TRUE(wait_until([&] { return refused() >= 50; }, std::chrono::seconds(20)));
  ASSERT_TRUE(running()) << "h2load ended before Redis came back: " << load->output();
  // Refused, with the reason, rather than routed on a guess.
  ProcessResult down = get("/account/profile", "cn-li");
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(status(down), 503) << down.out;
  EXPECT_EQ(header(down, "x-regiongate-reason"), "account-directory-unavailable") << down.out;
  // The shop falls back to GeoIP, and says so: a phone in China is served in China.
  ProcessResult shop = get("/shop/cart", "cn-li", "127.2.0.9");
  ASSERT_EQ(shop.exit_code, 0) << shop.err;
  EXPECT_EQ(status(shop), 200) << shop.out;
  EXPECT_EQ(header(shop, "x-regiongate-dc"), "beijing");
  EXPECT_NE(origin_log("beijing").find("x-regiongate-country-source: geoip-fallback"), std::string::npos);

  // Redis back, with its data: the gateway reconnects by itself.
  ASSERT_TRUE(redis.restart());
  const double before = found();
  ASSERT_TRUE(wait_until([&] { return found() >= before + 50; }, std::chrono::seconds(20)));
  EXPECT_TRUE(running()) << "h2load ended before the gateway recovered: " << load->output();
  ProcessResult up = get("/account/profile", "cn-li");
  ASSERT_EQ(up.exit_code, 0) << up.err;
  EXPECT_EQ(status(up), 200) << up.out;

  ASSERT_EQ(load->stop(0, std::chrono::seconds(60)), 0) << load->output();
  const Statuses s = h2load_statuses(load->output());
  EXPECT_EQ(s.total, kRequests) << load->output();
  EXPECT_EQ(s.ok + s.server_errors, kRequests) << load->output();  // no 4xx, no failures
  EXPECT_GT(s.ok, 100);
  EXPECT_GE(s.server_errors, 50);
  // Every 503 was the directory's, counted as such (the curl's one too).
  EXPECT_EQ(refused(), static_cast<double>(s.server_errors + 1));
  // The border held throughout: only Beijing saw the Chinese account.
  EXPECT_GT(requests_seen_by("beijing"), 100);
  expect_only("beijing");
  EXPECT_GE(metric("regiongate_directory_events_total", {{"event", "connect_failure"}}), 1);
  EXPECT_EQ(redis.stop(SIGTERM), 0);
}

TEST_F(RedisGatewayTest, ClusterSlotMigratedMidLoadAndANodeLost) {
  RedisTestCluster cluster;
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  std::vector<std::string> nodes;
  for (std::size_t i = 0; i < cluster.size(); ++i) nodes.push_back(cluster.node(i).authority());
  ASSERT_NO_FATAL_FAILURE(load_accounts(nodes[0], true));
  ASSERT_NO_FATAL_FAILURE(configure(nodes, "{entries: 0}"));
  ASSERT_NO_FATAL_FAILURE(start_every_origin());
  ASSERT_NO_FATAL_FAILURE(start_gateway(kNow));

  // Move in-ravi's slot to another node while h2load asks for it (for a
  // service that refuses rather than guess: a lookup lost is a 503).
  const std::string key = "acct:in-ravi";
  const int slot = cluster.keyslot(key);
  const int from = cluster.node_of_slot(slot);
  ASSERT_GE(from, 0);
  const int to = (from + 1) % 3;
  constexpr int kRequests = 3000;
  auto load = start_load("/account/profile", "in-ravi", kRequests);
  auto found = [&] { return metric("regiongate_directory_lookups_total", {{"outcome", "found"}}); };
  ASSERT_TRUE(wait_until([&] { return found() >= 50; }, std::chrono::seconds(20))) << load->output();
  auto cli = [&](int node, const std::vector<std::string>& args) {
    ProcessResult r = cluster.node(node).cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  };
  const std::string s = std::to_string(slot);
  EXPECT_EQ(cli(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", cluster.node_id(from)}), "OK\n");
  EXPECT_EQ(cli(from, {"CLUSTER", "SETSLOT", s, "MIGRATING", cluster.node_id(to)}), "OK\n");
  EXPECT_EQ(cli(from, {"MIGRATE", "127.0.0.1", std::to_string(cluster.node(to).port()), "", "0",
                       "5000", "KEYS", key}),
            "OK\n");
  double marker = found();
  ASSERT_TRUE(wait_until([&] { return found() >= marker + 20; }, std::chrono::seconds(20)));
  // The new owner first, as the cluster specification asks: until it knows,
  // the old one's MOVED would send the lookup back.
  for (int n : {to, from, 3 - to - from}) {
    EXPECT_EQ(cli(n, {"CLUSTER", "SETSLOT", s, "NODE", cluster.node_id(to)}), "OK\n");
  }
  marker = found();
  ASSERT_TRUE(wait_until([&] { return found() >= marker + 20; }, std::chrono::seconds(20)));
  ASSERT_EQ(load->stop(0, std::chrono::seconds(60)), 0) << load->output();
  const Statuses st = h2load_statuses(load->output());
  EXPECT_EQ(st.ok, kRequests) << load->output();  // every lookup followed ASK or MOVED
  EXPECT_GE(metric("regiongate_directory_events_total", {{"event", "ask"}}) +
                metric("regiongate_directory_events_total", {{"event", "moved"}}),
            1);
  EXPECT_EQ(requests_seen_by("mumbai"), kRequests);

  // Lose a node that holds an account other than in-ravi: that account is
  // refused (its service refuses), in-ravi is still served.
  std::string lost_account;
  int lost = -1;
  for (const char* account : {"cn-li", "br-joao", "us-bob", "sg-tan", "de-anna", "jp-sato", "cn-wang"}) {
    const int owner = cluster.node_of_slot(cluster.keyslot(std::string("acct:") + account));
    if (owner >= 0 && owner != to) {
      lost_account = account;
      lost = owner;
      break;
    }
  }
  ASSERT_GE(lost, 0) << "every example account is on in-ravi's node";
  EXPECT_EQ(cluster.node(lost).stop(SIGKILL), -1);
  ProcessResult refused = get("/account/profile", lost_account);
  ASSERT_EQ(refused.exit_code, 0) << refused.err;
  EXPECT_EQ(status(refused), 503) << lost_account << refused.out;
  EXPECT_EQ(header(refused, "x-regiongate-reason"), "account-directory-unavailable");
  ProcessResult served = get("/account/profile", "in-ravi");
  ASSERT_EQ(served.exit_code, 0) << served.err;
  EXPECT_EQ(status(served), 200) << served.out;
  EXPECT_EQ(header(served, "x-regiongate-dc"), "mumbai");
  expect_only("mumbai");
}

TEST_F(RedisGatewayTest, APasswordProtectedRedisAndAReloadThatChangesThePassword) {
  RedisTestServer redis(false, RedisTestServer::Listen::kUnixSocket);
  ASSERT_TRUE(redis.ok()) << redis.error();
  ASSERT_EQ(redis.cli({"CONFIG", "SET", "requirepass", "s3cret"}).out, "OK\n");
  std::ofstream(dir_ / "redis.pass") << "s3cret\n";
  // The loader authenticates too; without the password it is refused.
  ProcessResult refused_load = run_process({REGIONGATE_BINARY, "accounts", "load",
                                            (dir_ / "accounts.csv").string(), "--redis", redis.authority()});
  EXPECT_EQ(refused_load.exit_code, 1);
  EXPECT_NE(refused_load.err.find("NOAUTH"), std::string::npos) << refused_load.err;
  ASSERT_NO_FATAL_FAILURE(load_accounts(redis.authority(), false,
                                        {"--password-file", (dir_ / "redis.pass").string(), "--db", "3"}));
  ASSERT_NO_FATAL_FAILURE(configure({redis.authority()}, "{entries: 0}",
                                    "    auth: {password_file: redis.pass}\n    db: 3\n"));
  ASSERT_NO_FATAL_FAILURE(start_origin("mumbai"));
  ASSERT_NO_FATAL_FAILURE(start_gateway(kNow));
  ProcessResult ok = get("/account/profile", "in-ravi");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(status(ok), 200) << ok.out;
  EXPECT_EQ(header(ok, "x-regiongate-dc"), "mumbai");

  // A wrong password after a reload: the new connections are refused, and
  // so is every request that needs the directory. Never a guess.
  std::ofstream(dir_ / "redis.pass") << "wrong\n";
  ASSERT_NE(reload_and_wait("reloaded "), "");
  ASSERT_TRUE(wait_until([&] {
    return gateway_->output().find("AUTH/SELECT refused (WRONGPASS") != std::string::npos;
  })) << gateway_->output();
  ProcessResult down = get("/account/profile", "in-ravi");
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_EQ(status(down), 503) << down.out;
  EXPECT_EQ(header(down, "x-regiongate-reason"), "account-directory-unavailable");
  EXPECT_EQ(gateway_->output().find("s3cret"), std::string::npos);  // no secret in the log
  EXPECT_EQ(gateway_->output().find("wrong\n"), std::string::npos);

  std::ofstream(dir_ / "redis.pass") << "s3cret\n";
  ASSERT_NE(reload_and_wait("reloaded "), "");
  ASSERT_TRUE(wait_until([&] { return status(get("/account/profile", "in-ravi")) == 200; }));
  expect_only("mumbai");
}

// The account id of a verified token, looked up in Redis (token-account):
// the country claim wins when there is one, and the account header, which
// any phone can set, is not consulted at all.
TEST_F(RedisGatewayTest, ATokensAccountIsLookedUpInRedis) {
  TestKeys keys;
  RedisTestServer redis(false, RedisTestServer::Listen::kUnixSocket);
  ASSERT_TRUE(redis.ok()) << redis.error();
  ASSERT_NO_FATAL_FAILURE(load_accounts(redis.authority(), false));
  ASSERT_NO_FATAL_FAILURE(configure({redis.authority()}, "{entries: 1000}"));
  std::string config = read_text(dir_ / "regiongate.yaml");
  replace_first(config, "  order: [directory, geoip]\n", "  order: [token, token-account, geoip]\n");
  replace_first(config, "\nserver:", "\ntokens:\n  keys:\n    - file: " + keys.path("rsa.pem") +
                                   "\n      kid: rsa-1\n  audience: regiongate\n\nserver:");
  write_text(dir_ / "regiongate.yaml", config);
  for (const char* dc : kDataCenters) start_origin(dc);
  ASSERT_NO_FATAL_FAILURE(start_gateway(kNow));
  auto bearer = [&](nlohmann::json claims) {
    claims["aud"] = "regiongate";
    claims["exp"] = 1'435'708'800 + 600;
    return "Bearer " + keys.sign({{"alg", "RS256"}, {"kid", "rsa-1"}}, claims, "rsa.key");
  };
  const std::vector<std::pair<nlohmann::json, std::string>> cases = {
      {{{"sub", "cn-li"}}, "beijing"},                       // Redis: CN
      {{{"sub", "br-joao"}}, "sao-paulo"},                   // Redis: BR
      {{{"sub", "cn-li"}, {"country", "IN"}}, "mumbai"},     // the claim decides
      {{{"sub", "cn-li"}}, "beijing"},                       // the worker's cache
  };
  for (const auto& [claims, dc] : cases) {
    ProcessResult r = curl({"-H", "authorization: " + bearer(claims), "-H", "x-account-id: in-ravi",
                            "-H", "host: api.example.com"},
                           "/shop/cart");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(status(r), 200) << claims.dump() << r.out;
    EXPECT_EQ(header(r, "x-regiongate-dc"), dc) << claims.dump();
  }
  EXPECT_NE(origin_log("beijing").find("x-regiongate-country-source: token-account"), std::string::npos);
  EXPECT_NE(origin_log("mumbai").find("x-regiongate-country-source: token"), std::string::npos);
  // Two accounts asked for: curl's connections may land on either worker,
  // each with its own cache, so one or two GETs per account.
  EXPECT_GE(redis.command_calls("get"), 2);
  EXPECT_LE(redis.command_calls("get"), 4);
}

}  // namespace
}  // namespace regiongate::testing
