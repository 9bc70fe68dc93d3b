// The embedded account directory: lookups over 1,000,000 accounts and
// loading a 1,000,000-row file.
//
// The table (16 MiB) and arena (13 MiB) of a million accounts are about the
// size of this machine's last-level cache, and the ids are looked up in a
// random order, so most lookups miss the cache as independent requests would.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "maps/file_directory.h"

namespace regiongate {
namespace {

constexpr std::size_t kAccounts = 1'000'000;

std::string account_id(std::size_t n) { return "acct-" + std::to_string(n); }

// "acct-<n>,<CC>" rows, most in a few big markets as in scripts/gen_accounts.py,
// in a temporary file removed at exit.
class GeneratedFile {
 public:
  explicit GeneratedFile(std::size_t rows)
      : path_((std::filesystem::temp_directory_path() /
               ("regiongate_directory_bench_" + std::to_string(::getpid()) + ".csv"))
                  .string()) {
    static constexpr const char* kBigMarkets[] = {"CN", "CN", "CN", "IN", "IN", "ID",
                                                  "US", "BR", "PK", "NG", "RU", "MX"};
    std::mt19937_64 rng(1);
    std::string text;
    for (std::size_t i = 0; i < rows; ++i) {
      std::string_view code = rng() % 4 != 0
                                  ? kBigMarkets[rng() % std::size(kBigMarkets)]
                                  : country_code(static_cast<CountryId>(rng() % country_count()));
      text += account_id(i);
      text += ',';
      text += code;
      text += '\n';
    }
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~GeneratedFile() { std::remove(path_.c_str()); }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const GeneratedFile& accounts_file() {
  static const GeneratedFile file(kAccounts);
  return file;
}

const FileAccountDirectory& directory() {
  static const std::shared_ptr<const FileAccountDirectory> dir = [] {
    Diagnostics diags;
    auto loaded = FileAccountDirectory::load(accounts_file().path(), diags);
    if (!loaded) {
      std::fputs(diags.format_all().c_str(), stderr);
      std::abort();
    }
    return loaded;
  }();
  return *dir;
}

// Ids n in [first, first + kAccounts), shuffled.
std::vector<std::string> shuffled_ids(std::size_t first) {
  std::vector<std::string> ids;
  ids.reserve(kAccounts);
  for (std::size_t i = 0; i < kAccounts; ++i) ids.push_back(account_id(first + i));
  std::shuffle(ids.begin(), ids.end(), std::mt19937_64(2));
  return ids;
}

template <bool kHit>
void find_loop(benchmark::State& state) {
  const FileAccountDirectory& dir = directory();
  static const std::vector<std::string> ids = shuffled_ids(kHit ? 0 : kAccounts);
  std::size_t i = 0;
  for (auto _ : state) {
    DirectoryResult r = dir.find(ids[i]);
    benchmark::DoNotOptimize(r);
    if (++i == ids.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// Independent lookups: the CPU overlaps the cache misses of consecutive
// lookups, so this is the throughput of one core.
void BM_DirectoryFindHit(benchmark::State& state) { find_loop<true>(state); }
void BM_DirectoryFindMiss(benchmark::State& state) { find_loop<false>(state); }

// Each lookup's key depends on the previous result, so the misses cannot
// overlap: the latency of one lookup on a cold cache line, as a request sees it.
void BM_DirectoryFindHitLatency(benchmark::State& state) {
  const FileAccountDirectory& dir = directory();
  static const std::vector<std::string> ids = shuffled_ids(0);
  std::size_t i = 0;
  for (auto _ : state) {
    DirectoryResult r = dir.find(ids[i]);
    i += 1 + (r.status != DirectoryStatus::kFound);  // always 1, but only known after the find
    if (i >= ids.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DirectoryLoad(benchmark::State& state) {
  const std::string& path = accounts_file().path();
  std::size_t bytes = 0;
  for (auto _ : state) {
    Diagnostics diags;
    auto dir = FileAccountDirectory::load(path, diags);
    if (!dir) state.SkipWithError("load failed");
    bytes = dir ? dir->memory_bytes() : 0;
    benchmark::DoNotOptimize(dir);
    state.PauseTiming();  // unmapping is not part of loading
    dir.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kAccounts);
  state.counters["bytes_per_account"] = static_cast<double>(bytes) / kAccounts;
}

BENCHMARK(BM_DirectoryFindHit);
BENCHMARK(BM_DirectoryFindMiss);
BENCHMARK(BM_DirectoryFindHitLatency);
BENCHMARK(BM_DirectoryLoad)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace regiongate
