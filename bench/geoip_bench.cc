// GeoIP lookups as the request path does them: by the peer's sockaddr, on one
// shared database. The addresses rotate through a small set so the benchmark
// measures tree walks and record decoding, not one cached path.

#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "maps/geoip.h"

namespace regiongate {
namespace {

const char* const kDatabase = REGIONGATE_SOURCE_DIR "/tests/data/mmdb/GeoIP2-Country-Test.mmdb";

std::shared_ptr<const GeoipDatabase> open_or_skip(benchmark::State& state) {
  GeoipOptions options;
  options.path = kDatabase;
  std::string error;
  auto db = GeoipDatabase::open(options, &error);
  if (db == nullptr) state.SkipWithError(error.c_str());
  return db;
}

std::vector<sockaddr_in> v4_addresses(const std::vector<const char*>& texts) {
  std::vector<sockaddr_in> out;
  for (const char* text : texts) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    if (inet_pton(AF_INET, text, &a.sin_addr) != 1) std::abort();
    out.push_back(a);
  }
  return out;
}

std::vector<sockaddr_in6> v6_addresses(const std::vector<const char*>& texts) {
  std::vector<sockaddr_in6> out;
  for (const char* text : texts) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, text, &a.sin6_addr) != 1) std::abort();
    out.push_back(a);
  }
  return out;
}

// Found records with and without a registered_country fallback, and misses.
template <typename Address>
void run_lookups(benchmark::State& state, const std::vector<Address>& addresses) {
  auto db = open_or_skip(state);
  if (db == nullptr) return;
  std::size_t i = 0;
  std::size_t found = 0;
  for (auto _ : state) {
    GeoipResult result = db->lookup(reinterpret_cast<const sockaddr*>(&addresses[i]));
    benchmark::DoNotOptimize(result);
    found += result.status == GeoipStatus::kFound;
    if (++i == addresses.size()) i = 0;
  }
  state.counters["found_ratio"] =
      benchmark::Counter(static_cast<double>(found), benchmark::Counter::kAvgIterations);
}

void BM_GeoipLookupV4(benchmark::State& state) {
  static const auto addresses =
      v4_addresses({"81.2.69.142", "2.125.160.216", "216.160.83.56", "89.160.20.112",
                    "175.16.199.1", "202.196.224.1", "67.43.156.1", "1.1.1.1"});
  run_lookups(state, addresses);
}
BENCHMARK(BM_GeoipLookupV4);

void BM_GeoipLookupV6(benchmark::State& state) {
  static const auto addresses =
      v6_addresses({"2001:218::1", "2001:220::1", "2a02:d180::1", "2001:480:10::1",
                    "2001:220::", "2002:5102:458e::1", "2a02:d500::1", "2001:db8::1"});
  run_lookups(state, addresses);
}
BENCHMARK(BM_GeoipLookupV6);

// What a dual-stack listener hands over for IPv4 clients.
void BM_GeoipLookupMappedV4(benchmark::State& state) {
  static const auto addresses = v6_addresses(
      {"::ffff:81.2.69.142", "::ffff:2.125.160.216", "::ffff:216.160.83.56", "::ffff:89.160.20.112",
       "::ffff:175.16.199.1", "::ffff:202.196.224.1", "::ffff:67.43.156.1", "::ffff:1.1.1.1"});
  run_lookups(state, addresses);
}
BENCHMARK(BM_GeoipLookupMappedV4);

// The textual entry point (explain --ip, x-forwarded-for), parse included.
void BM_GeoipLookupText(benchmark::State& state) {
  auto db = open_or_skip(state);
  if (db == nullptr) return;
  static const std::vector<std::string> texts = {"81.2.69.142", "2001:218::1",
                                                 "::ffff:89.160.20.112", "175.16.199.1"};
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(db->lookup(std::string_view(texts[i])));
    if (++i == texts.size()) i = 0;
  }
}
BENCHMARK(BM_GeoipLookupText);

void BM_GeoipOpen(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(open_or_skip(state));
}
BENCHMARK(BM_GeoipOpen)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace regiongate
