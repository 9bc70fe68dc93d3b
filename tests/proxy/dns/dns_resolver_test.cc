// DnsResolver against a real DNS server (dnsmasq on loopback, see
// dns_test_server.h): answers, failures, the TTL cache on an injected clock,
// coalescing, cancel, limits, re-entrancy and teardown with queries in flight.

#include "proxy/dns/dns_resolver.h"

#include <ev.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/proxy/dns/dns_test_server.h"

namespace regiongate {

// Readable DnsStatus in assertion failures (found by ADL).
static void PrintTo(DnsStatus status, std::ostream* os) { *os << to_string(status); }

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using Addresses = std::vector<std::string>;

constexpr int kServerTtl = 30;  // seconds, every answer of the default server
constexpr auto kDeadline = seconds(5);

const char* const kHosts =
    "127.0.0.2 both.test\n"
    "::1 both.test\n"
    "127.0.0.3 v4only.test\n"
    "::2 v6only.test\n"
    "127.0.0.4 other.test\n"
    "127.0.0.10 moving.test\n";

// The answer's addresses as text, sorted (c-ares orders them by RFC 6724,
// which depends on the host's interfaces).
Addresses texts(const DnsResult& result) {
  Addresses out;
  for (const auto& a : result.addresses) out.push_back(a.to_string());
  std::sort(out.begin(), out.end());
  return out;
}

bool contains(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

// Whether /etc/hosts (which c-ares reads for "fb" lookups) names `host`.
bool etc_hosts_names(const std::string& host) {
  std::ifstream in("/etc/hosts");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line.substr(0, line.find('#')));
    std::string word;
    words >> word;  // the address
    while (words >> word) {
      if (word == host) return true;
    }
  }
  return false;
}

// Collects the answers of the resolve() calls it hands callbacks to.
struct Answers {
  std::vector<DnsResult> results;
  DnsResolver::Callback callback() {
    return [this](const DnsResult& r) { results.push_back(r); };
  }
};

class DnsResolverTest : public ::testing::Test {
 protected:
  struct Outcome {
    DnsResult result;
    bool synchronous = false;  // answered before resolve() returned
  };

  void SetUp() override {
    loop_ = ev_loop_new(EVFLAG_AUTO);
    ASSERT_NE(loop_, nullptr);
    ev_timer_init(&guard_, [](struct ev_loop*, ev_timer*, int) {}, 0., 0.);
    start_server(kHosts, kServerTtl);
  }

  void TearDown() override {
    resolver_.reset();  // before the loop: it stops its watchers on it
    EXPECT_FALSE(loop_has_watchers());
    ev_loop_destroy(loop_);
  }

  // ev_run() answers whether any watcher is still active.
  bool loop_has_watchers() { return ev_run(loop_, EVRUN_NOWAIT) != 0; }

  // (Re)starts the dnsmasq the test talks to; SetUp starts one with kHosts.
  void start_server(const std::string& hosts, int ttl) {
    server_ = std::make_unique<testing::DnsTestServer>(hosts, ttl);
    ASSERT_TRUE(server_->ok()) << server_->error();
  }

  // DNS only (never /etc/hosts), at `server`, failing fast.
  static DnsResolverOptions options_for(const std::string& server) {
    DnsResolverOptions o;
    o.servers = {server};
    o.use_hosts_file = false;
    o.timeout = milliseconds(500);
    o.tries = 2;
    return o;
  }
  DnsResolverOptions server_options() const { return options_for(server_->address()); }
  // Makes the resolver measure TTLs on fake_now_, which only advance() moves.
  DnsResolverOptions with_fake_clock(DnsResolverOptions o) {
    o.clock = [this] { return fake_now_; };
    return o;
  }
  void advance(steady_clock::duration d) { fake_now_ += d; }

  DnsResolver& make_resolver(DnsResolverOptions options) {
    resolver_.reset();
    resolver_ = std::make_unique<DnsResolver>(loop_, std::move(options));
    return *resolver_;
  }

  // Runs the loop until done() or `limit` passed; returns done(). A guard
  // timer keeps one iteration from blocking past the limit.
  bool run_until(const std::function<bool()>& done, steady_clock::duration limit = kDeadline) {
    auto deadline = steady_clock::now() + limit;
    ev_now_update(loop_);  // the guard counts from now, not the last iteration
    while (!done()) {
      auto left = deadline - steady_clock::now();
      if (left <= steady_clock::duration::zero()) return done();
      ev_timer_set(&guard_, std::chrono::duration<double>(left).count(), 0.);
      ev_timer_start(loop_, &guard_);
      ev_run(loop_, EVRUN_ONCE);
      ev_timer_stop(loop_, &guard_);
    }
    return true;
  }
  // Runs the loop for `d` whatever happens (to show that something doesn't).
  void run_for(steady_clock::duration d) {
    run_until([] { return false; }, d);
  }

  Outcome resolve_and_wait(std::string_view host) {
    std::optional<DnsResult> got;
    DnsResolver::QueryId id = resolver_->resolve(host, [&](const DnsResult& r) { got = r; });
    Outcome out;
    out.synchronous = got.has_value();
    EXPECT_EQ(out.synchronous, id == DnsResolver::kNoQuery) << host;
    if (!run_until([&] { return got.has_value(); })) {
      resolver_->cancel(id);  // `got` is going away
      ADD_FAILURE() << "no answer for " << host << " within the deadline";
      return out;
    }
    out.result = *got;
    return out;
  }

  struct ev_loop* loop_ = nullptr;
  ev_timer guard_;
  steady_clock::time_point fake_now_ = steady_clock::now();
  std::unique_ptr<testing::DnsTestServer> server_;
  std::unique_ptr<DnsResolver> resolver_;
};

// --- answers ----------------------------------------------------------------

TEST_F(DnsResolverTest, NameWithAAndAaaaGetsBothAddressesAndExpiresAfterTheTtl) {
  make_resolver(server_options());
  auto before = steady_clock::now();
  Outcome out = resolve_and_wait("both.test");
  auto after = steady_clock::now();
  EXPECT_FALSE(out.synchronous);
  EXPECT_EQ(out.result.status, DnsStatus::kOk) << out.result.message;
  EXPECT_EQ(texts(out.result), (Addresses{"127.0.0.2", "::1"}));
  EXPECT_TRUE(out.result.message.empty());
  EXPECT_GT(out.result.expires, after);
  EXPECT_GE(out.result.expires, before + seconds(kServerTtl));
  EXPECT_LE(out.result.expires, after + seconds(kServerTtl));
  EXPECT_EQ(resolver_->stats().queries, 1u);
  EXPECT_EQ(resolver_->stats().failures, 0u);
  EXPECT_EQ(resolver_->pending_queries(), 0u);
}

TEST_F(DnsResolverTest, TtlIsClampedToTheOptions) {
  ASSERT_NO_FATAL_FAILURE(start_server(kHosts, /*ttl=*/2));
  DnsResolverOptions raised = with_fake_clock(server_options());
  raised.min_ttl = seconds(60);
  make_resolver(raised);
  EXPECT_EQ(resolve_and_wait("both.test").result.expires, fake_now_ + seconds(60));

  make_resolver(with_fake_clock(server_options()));
  EXPECT_EQ(resolve_and_wait("both.test").result.expires, fake_now_ + seconds(2));

  ASSERT_NO_FATAL_FAILURE(start_server(kHosts, /*ttl=*/600));
  DnsResolverOptions lowered = with_fake_clock(server_options());
  lowered.max_ttl = seconds(10);
  make_resolver(lowered);
  EXPECT_EQ(resolve_and_wait("both.test").result.expires, fake_now_ + seconds(10));
}

TEST_F(DnsResolverTest, SingleFamilyNames) {
  make_resolver(server_options());
  Outcome v4 = resolve_and_wait("v4only.test");
  EXPECT_EQ(v4.result.status, DnsStatus::kOk) << v4.result.message;
  EXPECT_EQ(texts(v4.result), (Addresses{"127.0.0.3"}));
  EXPECT_TRUE(v4.result.addresses[0].is_v4());
  Outcome v6 = resolve_and_wait("v6only.test");
  EXPECT_EQ(v6.result.status, DnsStatus::kOk) << v6.result.message;
  EXPECT_EQ(texts(v6.result), (Addresses{"::2"}));
  EXPECT_FALSE(v6.result.addresses[0].is_v4());
  EXPECT_EQ(resolver_->stats().queries, 2u);
}

TEST_F(DnsResolverTest, NamesAreCaseInsensitiveAndMayBeAbsolute) {
  make_resolver(server_options());
  EXPECT_EQ(texts(resolve_and_wait("V4Only.TEST").result), (Addresses{"127.0.0.3"}));
  Outcome again = resolve_and_wait("v4only.test");
  EXPECT_TRUE(again.synchronous);
  EXPECT_EQ(texts(again.result), (Addresses{"127.0.0.3"}));
  EXPECT_EQ(texts(resolve_and_wait("other.test.").result), (Addresses{"127.0.0.4"}));
}

// --- failures ---------------------------------------------------------------

TEST_F(DnsResolverTest, NxdomainIsNotFoundAndCachedForTheNegativeTtl) {
  DnsResolverOptions o = with_fake_clock(server_options());
  o.negative_ttl = seconds(2);
  make_resolver(o);
  Outcome out = resolve_and_wait("missing.test");
  EXPECT_FALSE(out.synchronous);
  EXPECT_EQ(out.result.status, DnsStatus::kNotFound);
  EXPECT_TRUE(out.result.addresses.empty());
  EXPECT_FALSE(out.result.message.empty());
  EXPECT_EQ(resolver_->stats().failures, 1u);

  advance(seconds(1));
  Outcome cached = resolve_and_wait("missing.test");
  EXPECT_TRUE(cached.synchronous);
  EXPECT_EQ(cached.result.status, DnsStatus::kNotFound);
  EXPECT_EQ(resolver_->stats().cache_hits, 1u);

  advance(seconds(1));
  Outcome requeried = resolve_and_wait("missing.test");
  EXPECT_FALSE(requeried.synchronous);
  EXPECT_EQ(requeried.result.status, DnsStatus::kNotFound);
  EXPECT_EQ(resolver_->stats().queries, 2u);
}

TEST_F(DnsResolverTest, InvalidNamesAreRejectedAtOnce) {
  make_resolver(server_options());
  const std::string too_long = std::string(60, 'a') + "." + std::string(60, 'b') + "." +
                               std::string(60, 'c') + "." + std::string(60, 'd') + "." +
                               std::string(51, 'e') + ".test";  // 300 characters
  ASSERT_EQ(too_long.size(), 300u);
  const std::string long_label = std::string(64, 'a') + ".test";
  int n = 0;
  for (const std::string& name :
       {std::string("bad..name"), too_long, std::string("under score ok?"), long_label,
        std::string(".test"), std::string("")}) {
    Outcome out = resolve_and_wait(name);
    EXPECT_TRUE(out.synchronous) << name;
    EXPECT_EQ(out.result.status, DnsStatus::kError) << name;
    EXPECT_TRUE(out.result.addresses.empty()) << name;
    EXPECT_TRUE(contains(out.result.message, "invalid")) << out.result.message << name;
    EXPECT_EQ(resolver_->stats().rejected, static_cast<std::uint64_t>(++n)) << name;
  }
  EXPECT_EQ(resolver_->stats().queries, 0u);

  // An underscore is not a reason to refuse (SRV-style labels): it is asked.
  Outcome underscore = resolve_and_wait("under_score.test");
  EXPECT_FALSE(underscore.synchronous);
  EXPECT_EQ(underscore.result.status, DnsStatus::kNotFound) << underscore.result.message;
  EXPECT_EQ(resolver_->stats().queries, 1u);
  EXPECT_EQ(resolver_->stats().rejected, static_cast<std::uint64_t>(n));
}

TEST_F(DnsResolverTest, IpLiteralsAreAnsweredWithoutAQuery) {
  // No server at all: a query would fail.
  make_resolver(options_for("127.0.0.1:9"));
  struct Case {
    const char* host;
    const char* address;
  };
  for (Case c : {Case{"127.0.0.1", "127.0.0.1"}, Case{"::1", "::1"}, Case{"[::1]", "::1"},
                 Case{"[2001:db8::7]", "2001:db8::7"}}) {
    Outcome out = resolve_and_wait(c.host);
    EXPECT_TRUE(out.synchronous) << c.host;
    EXPECT_EQ(out.result.status, DnsStatus::kOk) << c.host;
    EXPECT_EQ(texts(out.result), (Addresses{c.address})) << c.host;
    EXPECT_EQ(out.result.expires, steady_clock::time_point::max()) << c.host;
  }
  EXPECT_EQ(resolver_->stats().queries, 0u);
  EXPECT_EQ(resolver_->stats().cache_hits, 0u);
  EXPECT_EQ(resolver_->cache_size(), 0u);
}

TEST_F(DnsResolverTest, HostsFileAnswerIsDeliveredBeforeResolveReturns) {
  if (!etc_hosts_names("localhost")) GTEST_SKIP() << "/etc/hosts has no localhost";
  // c-ares ends this lookup inside ares_getaddrinfo(): the resolver must
  // still call back (and not leave it for a loop event that never comes).
  DnsResolverOptions o = options_for("127.0.0.1:9");  // never asked
  o.use_hosts_file = true;
  make_resolver(o);
  Outcome out = resolve_and_wait("localhost");
  EXPECT_TRUE(out.synchronous);
  EXPECT_EQ(out.result.status, DnsStatus::kOk) << out.result.message;
  EXPECT_FALSE(out.result.addresses.empty());
  EXPECT_EQ(resolver_->stats().queries, 1u);
  EXPECT_EQ(resolver_->pending_queries(), 0u);
  EXPECT_EQ(resolver_->cache_size(), 1u);
}

TEST_F(DnsResolverTest, TimeoutIsReportedAndNotCached) {
  testing::SilentUdpServer silent;
  DnsResolverOptions o = options_for(silent.address());
  o.timeout = milliseconds(100);
  o.tries = 1;
  make_resolver(o);
  auto start = steady_clock::now();
  Outcome out = resolve_and_wait("both.test");
  EXPECT_LT(steady_clock::now() - start, seconds(1));
  EXPECT_EQ(out.result.status, DnsStatus::kTimeout) << out.result.message;
  EXPECT_TRUE(out.result.addresses.empty());
  EXPECT_EQ(resolver_->stats().timeouts, 1u);
  EXPECT_EQ(resolver_->stats().failures, 1u);
  EXPECT_EQ(resolver_->cache_size(), 0u);

  Answers second;
  EXPECT_NE(resolver_->resolve("both.test", second.callback()), DnsResolver::kNoQuery);
  EXPECT_TRUE(second.results.empty());
  EXPECT_EQ(resolver_->stats().queries, 2u);
  EXPECT_EQ(resolver_->stats().cache_hits, 0u);
}

TEST_F(DnsResolverTest, ServerThatIsDownNeverAnswersOk) {
  DnsResolverOptions o = server_options();
  o.timeout = milliseconds(200);
  o.tries = 1;
  ASSERT_TRUE(server_->stop()) << server_->error();  // its port now refuses
  make_resolver(o);
  Outcome out = resolve_and_wait("both.test");
  EXPECT_TRUE(out.result.status == DnsStatus::kError || out.result.status == DnsStatus::kTimeout)
      << to_string(out.result.status) << ": " << out.result.message;
  EXPECT_TRUE(out.result.addresses.empty());
  EXPECT_FALSE(out.result.message.empty());
  EXPECT_EQ(resolver_->stats().failures, 1u);
  EXPECT_EQ(resolver_->cache_size(), 0u);
}

TEST_F(DnsResolverTest, BadServerStringFailsInitAndEveryResolve) {
  DnsResolver& r = make_resolver(options_for("not an address"));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.init_error(), "not an address")) << r.init_error();
  Outcome out = resolve_and_wait("both.test");
  EXPECT_TRUE(out.synchronous);
  EXPECT_EQ(out.result.status, DnsStatus::kError);
  EXPECT_EQ(out.result.message, r.init_error());
  EXPECT_EQ(r.stats().rejected, 1u);
  EXPECT_EQ(r.stats().queries, 0u);
}

// --- cache ------------------------------------------------------------------

TEST_F(DnsResolverTest, CacheAnswersUntilTheTtlThenRequeries) {
  make_resolver(with_fake_clock(server_options()));
  Outcome first = resolve_and_wait("both.test");
  ASSERT_EQ(first.result.status, DnsStatus::kOk) << first.result.message;
  EXPECT_EQ(resolver_->cache_size(), 1u);

  Outcome hit = resolve_and_wait("both.test");
  EXPECT_TRUE(hit.synchronous);
  EXPECT_EQ(texts(hit.result), texts(first.result));
  EXPECT_EQ(hit.result.expires, first.result.expires);
  EXPECT_EQ(resolver_->stats().cache_hits, 1u);
  EXPECT_EQ(resolver_->stats().queries, 1u);

  advance(seconds(kServerTtl) - milliseconds(1));
  EXPECT_TRUE(resolve_and_wait("both.test").synchronous);
  EXPECT_EQ(resolver_->stats().cache_hits, 2u);

  advance(milliseconds(1));  // now == expires: stale
  Outcome fresh = resolve_and_wait("both.test");
  EXPECT_FALSE(fresh.synchronous);
  EXPECT_EQ(fresh.result.status, DnsStatus::kOk);
  EXPECT_EQ(fresh.result.expires, fake_now_ + seconds(kServerTtl));
  EXPECT_EQ(resolver_->stats().queries, 2u);
  EXPECT_EQ(resolver_->stats().cache_hits, 2u);
}

TEST_F(DnsResolverTest, ClearCacheAndEvictionForceNewQueries) {
  DnsResolverOptions o = server_options();
  o.max_cache_entries = 1;
  make_resolver(o);
  resolve_and_wait("v4only.test");
  resolve_and_wait("other.test");  // evicts v4only.test
  EXPECT_EQ(resolver_->cache_size(), 1u);
  EXPECT_FALSE(resolve_and_wait("v4only.test").synchronous);
  EXPECT_TRUE(resolve_and_wait("v4only.test").synchronous);
  resolver_->clear_cache();
  EXPECT_EQ(resolver_->cache_size(), 0u);
  EXPECT_FALSE(resolve_and_wait("v4only.test").synchronous);
  EXPECT_EQ(resolver_->stats().queries, 4u);
}

TEST_F(DnsResolverTest, ChangedRecordIsSeenOnceTheTtlPassed) {
  make_resolver(with_fake_clock(server_options()));
  ASSERT_EQ(texts(resolve_and_wait("moving.test").result), (Addresses{"127.0.0.10"}));

  std::string moved = kHosts;
  moved.replace(moved.find("127.0.0.10 moving.test"), 22, "127.0.0.11 moving.test");
  ASSERT_TRUE(server_->replace_hosts(moved));

  // Within the TTL the cached answer stands, whatever the server says now.
  advance(seconds(kServerTtl - 1));
  Outcome cached = resolve_and_wait("moving.test");
  EXPECT_TRUE(cached.synchronous);
  EXPECT_EQ(texts(cached.result), (Addresses{"127.0.0.10"}));

  // Past it, every resolve() asks again; dnsmasq rereads its hosts file
  // asynchronously after the SIGHUP, so ask until the new address shows.
  const Addresses moved_to = {"127.0.0.11"};
  auto deadline = steady_clock::now() + kDeadline;
  std::uint64_t queries = resolver_->stats().queries;
  Addresses seen;
  while (true) {
    advance(seconds(kServerTtl));
    Outcome out = resolve_and_wait("moving.test");
    EXPECT_FALSE(out.synchronous);
    EXPECT_EQ(resolver_->stats().queries, ++queries);
    seen = texts(out.result);
    if (seen == moved_to || steady_clock::now() >= deadline) break;
    EXPECT_EQ(seen, (Addresses{"127.0.0.10"}));  // not reread yet
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(seen, moved_to);
}

// --- coalescing and cancel --------------------------------------------------

TEST_F(DnsResolverTest, ConcurrentResolvesOfOneNameShareOneQuery) {
  make_resolver(server_options());
  Answers a, b;
  DnsResolver::QueryId ia = resolver_->resolve("both.test", a.callback());
  DnsResolver::QueryId ib = resolver_->resolve("BOTH.test", b.callback());
  EXPECT_NE(ia, DnsResolver::kNoQuery);
  EXPECT_NE(ib, DnsResolver::kNoQuery);
  EXPECT_NE(ia, ib);
  EXPECT_EQ(resolver_->stats().queries, 1u);
  EXPECT_EQ(resolver_->stats().coalesced, 1u);
  EXPECT_EQ(resolver_->pending_queries(), 1u);

  ASSERT_TRUE(run_until([&] { return !a.results.empty() && !b.results.empty(); }));
  ASSERT_EQ(a.results.size(), 1u);
  ASSERT_EQ(b.results.size(), 1u);
  EXPECT_EQ(a.results[0].status, DnsStatus::kOk);
  EXPECT_EQ(texts(a.results[0]), (Addresses{"127.0.0.2", "::1"}));
  EXPECT_EQ(texts(b.results[0]), texts(a.results[0]));
  EXPECT_EQ(b.results[0].expires, a.results[0].expires);
  EXPECT_EQ(resolver_->stats().queries, 1u);
  EXPECT_FALSE(resolver_->cancel(ia));  // answered: nothing to cancel
}

TEST_F(DnsResolverTest, CancelledCallbackNeverRunsOtherWaitersStillDo) {
  make_resolver(server_options());
  Answers cancelled, kept;
  DnsResolver::QueryId id = resolver_->resolve("both.test", cancelled.callback());
  resolver_->resolve("both.test", kept.callback());
  EXPECT_TRUE(resolver_->cancel(id));
  EXPECT_FALSE(resolver_->cancel(id));
  EXPECT_FALSE(resolver_->cancel(DnsResolver::kNoQuery));

  ASSERT_TRUE(run_until([&] { return !kept.results.empty(); }));
  EXPECT_EQ(kept.results[0].status, DnsStatus::kOk);
  EXPECT_TRUE(cancelled.results.empty());

  // The only waiter cancelled: the lookup still ends and fills the cache.
  Answers alone;
  resolver_->cancel(resolver_->resolve("other.test", alone.callback()));
  ASSERT_TRUE(run_until([&] { return resolver_->pending_queries() == 0; }));
  run_for(milliseconds(20));
  EXPECT_TRUE(alone.results.empty());
  EXPECT_TRUE(resolve_and_wait("other.test").synchronous);
}

// --- limits -----------------------------------------------------------------

TEST_F(DnsResolverTest, PendingQueryLimitRejectsAnotherName) {
  DnsResolverOptions o = server_options();
  o.max_pending_queries = 1;
  make_resolver(o);
  Answers first, joined;
  EXPECT_NE(resolver_->resolve("both.test", first.callback()), DnsResolver::kNoQuery);
  EXPECT_NE(resolver_->resolve("both.test", joined.callback()), DnsResolver::kNoQuery);

  Outcome refused = resolve_and_wait("other.test");
  EXPECT_TRUE(refused.synchronous);
  EXPECT_EQ(refused.result.status, DnsStatus::kError);
  EXPECT_TRUE(contains(refused.result.message, "pending")) << refused.result.message;
  EXPECT_EQ(resolver_->stats().rejected, 1u);
  EXPECT_EQ(resolver_->stats().queries, 1u);

  ASSERT_TRUE(run_until([&] { return !first.results.empty() && !joined.results.empty(); }));
  EXPECT_EQ(first.results[0].status, DnsStatus::kOk);
  // The slot is free again.
  EXPECT_EQ(resolve_and_wait("other.test").result.status, DnsStatus::kOk);
}

TEST_F(DnsResolverTest, WaiterLimitRejectsAnotherWaiter) {
  DnsResolverOptions o = server_options();
  o.max_waiters_per_query = 1;
  make_resolver(o);
  Answers first;
  EXPECT_NE(resolver_->resolve("both.test", first.callback()), DnsResolver::kNoQuery);
  Outcome refused = resolve_and_wait("both.test");
  EXPECT_TRUE(refused.synchronous);
  EXPECT_EQ(refused.result.status, DnsStatus::kError);
  EXPECT_EQ(resolver_->stats().rejected, 1u);
  ASSERT_TRUE(run_until([&] { return !first.results.empty(); }));
  EXPECT_EQ(first.results[0].status, DnsStatus::kOk);
}

TEST_F(DnsResolverTest, CancelledWaitersDoNotCountAgainstTheWaiterLimit) {
  DnsResolverOptions o = server_options();
  o.max_waiters_per_query = 2;
  make_resolver(o);
  // Clients that give up while the lookup is in flight free their places.
  for (int i = 0; i < 5; ++i) {
    Answers gone;
    EXPECT_TRUE(resolver_->cancel(resolver_->resolve("both.test", gone.callback())));
  }
  Answers a, b;
  EXPECT_NE(resolver_->resolve("both.test", a.callback()), DnsResolver::kNoQuery);
  EXPECT_NE(resolver_->resolve("both.test", b.callback()), DnsResolver::kNoQuery);
  EXPECT_EQ(resolver_->stats().rejected, 0u);
  EXPECT_EQ(resolver_->stats().queries, 1u);
  ASSERT_TRUE(run_until([&] { return !a.results.empty() && !b.results.empty(); }));
  EXPECT_EQ(a.results[0].status, DnsStatus::kOk);
  EXPECT_EQ(b.results[0].status, DnsStatus::kOk);
}

// --- re-entrancy and teardown ------------------------------------------------

TEST_F(DnsResolverTest, CallbackMayResolveAgain) {
  make_resolver(server_options());
  Answers cached, other;
  DnsResolver::QueryId cached_id = 0, other_id = 0;
  bool outer_called = false;
  resolver_->resolve("both.test", [&](const DnsResult& r) {
    outer_called = true;
    EXPECT_EQ(r.status, DnsStatus::kOk);
    cached_id = resolver_->resolve("both.test", cached.callback());  // from the cache
    other_id = resolver_->resolve("v4only.test", other.callback());  // a new query
  });
  ASSERT_TRUE(run_until([&] { return !other.results.empty(); }));
  EXPECT_TRUE(outer_called);
  EXPECT_EQ(cached_id, DnsResolver::kNoQuery);
  ASSERT_EQ(cached.results.size(), 1u);
  EXPECT_EQ(texts(cached.results[0]), (Addresses{"127.0.0.2", "::1"}));
  EXPECT_NE(other_id, DnsResolver::kNoQuery);
  EXPECT_EQ(texts(other.results[0]), (Addresses{"127.0.0.3"}));
  EXPECT_EQ(resolver_->stats().queries, 2u);
}

TEST_F(DnsResolverTest, CallbackMayCancelALaterWaiter) {
  make_resolver(server_options());
  Answers second;
  DnsResolver::QueryId second_id = 0;
  bool first_called = false;
  resolver_->resolve("both.test", [&](const DnsResult&) {
    first_called = true;
    EXPECT_TRUE(resolver_->cancel(second_id));
  });
  second_id = resolver_->resolve("both.test", second.callback());
  ASSERT_TRUE(run_until([&] { return first_called; }));
  run_for(milliseconds(20));
  EXPECT_TRUE(second.results.empty());
}

TEST_F(DnsResolverTest, DestroyingWithQueriesInFlightCallsNoCallback) {
  testing::SilentUdpServer silent;
  for (const std::string& server : {silent.address(), server_->address()}) {
    SCOPED_TRACE(server);
    make_resolver(options_for(server));
    Answers a, b;
    resolver_->resolve("both.test", a.callback());
    resolver_->resolve("both.test", b.callback());
    resolver_->resolve("other.test", a.callback());
    EXPECT_EQ(resolver_->pending_queries(), 2u);
    resolver_.reset();
    EXPECT_FALSE(loop_has_watchers());
    run_for(milliseconds(50));
    EXPECT_TRUE(a.results.empty());
    EXPECT_TRUE(b.results.empty());
  }
}

TEST_F(DnsResolverTest, DestroyingAfterSomeLoopIterations) {
  testing::SilentUdpServer silent;
  DnsResolverOptions o = options_for(silent.address());
  make_resolver(o);
  Answers a;
  resolver_->resolve("both.test", a.callback());
  run_for(milliseconds(30));  // sockets open, timer armed
  EXPECT_EQ(resolver_->pending_queries(), 1u);
  EXPECT_TRUE(loop_has_watchers());
  resolver_.reset();
  EXPECT_FALSE(loop_has_watchers());
  run_for(milliseconds(30));
  EXPECT_TRUE(a.results.empty());
}

}  // namespace
}  // namespace regiongate
