// The Redis directory's local cache (proxy/directory/directory_cache.h):
// what a request costs when its account is cached, and a store that evicts.

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "proxy/directory/directory_cache.h"

namespace regiongate {
namespace {

std::vector<std::string> ids(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back("acct-" + std::to_string(i));
  std::shuffle(out.begin(), out.end(), std::mt19937_64(1));
  return out;
}

void BM_DirectoryCacheHit(benchmark::State& state) {
  const auto entries = static_cast<std::size_t>(state.range(0));
  DirectoryCache cache({entries, std::chrono::minutes(1), std::chrono::seconds(5)});
  const auto now = DirectoryCache::Clock::now();
  const auto keys = ids(entries);
  for (const auto& k : keys) cache.store_found(k, 1, now);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(cache.find(keys[i], now));
    if (++i == keys.size()) i = 0;
  }
}
BENCHMARK(BM_DirectoryCacheHit)->Arg(10'000)->Arg(100'000)->Arg(1'000'000);

void BM_DirectoryCacheStoreEvicting(benchmark::State& state) {
  DirectoryCache cache({100'000, std::chrono::minutes(1), std::chrono::seconds(5)});
  const auto now = DirectoryCache::Clock::now();
  const auto keys = ids(1'000'000);
  std::size_t i = 0;
  for (auto _ : state) {
    cache.store_found(keys[i], 1, now);
    if (++i == keys.size()) i = 0;
  }
}
BENCHMARK(BM_DirectoryCacheStoreEvicting);

}  // namespace
}  // namespace regiongate
