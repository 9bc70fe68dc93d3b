// decide() and service classification on the example policy.

#include <benchmark/benchmark.h>

#include <iostream>
#include <vector>

#include "policy/snapshot.h"

namespace regiongate {
namespace {

const Snapshot& example() {
  static std::shared_ptr<const Snapshot> snap = [] {
    Diagnostics diags;
    auto s = load_snapshot(REGIONGATE_SOURCE_DIR "/examples/regiongate.yaml", diags);
    if (!s) {
      std::cerr << diags.format_all();
      std::abort();
    }
    return s;
  }();
  return *snap;
}

struct Input {
  CountryId account;
  ServiceId service;
  UnixSeconds at;
  CountryId location;
};

// A spread of requests: story countries and others, every phase, known and
// unknown client locations.
std::vector<Input> inputs() {
  const Snapshot& s = example();
  std::vector<Input> out;
  const char* accounts[] = {"IN", "CN", "BR", "US", "DE", "JP", "SG", "AU", "FR", "KE", "IN", "IN"};
  const UnixSeconds instants[] = {1412121600, 1416009600, 1421280000, 1435708800};
  for (std::size_t i = 0; i < 1024; ++i) {
    out.push_back({*country_from_code(accounts[i % 12]),
                   static_cast<ServiceId>(i % s.policy.services.size()), instants[(i / 3) % 4],
                   i % 5 == 0 ? kNoCountry : *country_from_code(accounts[(i * 7) % 12])});
  }
  return out;
}

void BM_Decide(benchmark::State& state) {
  const Snapshot& s = example();
  const std::vector<Input> in = inputs();
  std::size_t i = 0;
  for (auto _ : state) {
    const Input& x = in[i++ & 1023];
    Decision d = s.table.decide(x.account, x.service, kEveryConsent, x.at, x.location, ~DataCenterMask{0});
    benchmark::DoNotOptimize(d.chosen);
  }
}
BENCHMARK(BM_Decide);

void BM_DecideWithFailover(benchmark::State& state) {
  const Snapshot& s = example();
  const std::vector<Input> in = inputs();
  // Singapore and Oregon down: the walk goes further down the candidates.
  DataCenterMask healthy = ~(dc_bit(*s.datacenters.find("singapore")) |
                             dc_bit(*s.datacenters.find("oregon")));
  std::size_t i = 0;
  for (auto _ : state) {
    const Input& x = in[i++ & 1023];
    Decision d = s.table.decide(x.account, x.service, kEveryConsent, x.at, x.location, healthy);
    benchmark::DoNotOptimize(d.chosen);
  }
}
BENCHMARK(BM_DecideWithFailover);

// `nearest: latency`: every part of the candidates reordered by measured
// round trips, the farthest on the map being the fastest on the network.
void BM_DecideByLatency(benchmark::State& state) {
  const Snapshot& s = example();
  const std::vector<Input> in = inputs();
  DataCenterLatencies latency;
  latency.tolerance_us = 5000;
  for (std::size_t i = 0; i < s.datacenters.size(); ++i) {
    latency.us[i] = static_cast<std::uint32_t>(200000 - 30000 * i);
  }
  std::size_t i = 0;
  for (auto _ : state) {
    const Input& x = in[i++ & 1023];
    Decision d =
        s.table.decide(x.account, x.service, kEveryConsent, x.at, x.location, ~DataCenterMask{0}, &latency);
    benchmark::DoNotOptimize(d.chosen);
  }
}
BENCHMARK(BM_DecideByLatency);

// Canonical hosts and paths, as the data path hands them over
// (request_target_bench.cc measures making them canonical).
void BM_DecideClassify(benchmark::State& state) {
  const Snapshot& s = example();
  const std::pair<const char*, const char*> requests[] = {
      {"shop.example.com", "/cart"},
      {"api.example.com", "/cloud/photos/1"},
      {"photos.cloud.example.com", "/"},
      {"api.example.com", "/messaging/inbox?since=1"},
      {"unknown.example.org", "/"},
  };
  std::size_t i = 0;
  for (auto _ : state) {
    const auto& r = requests[i++ % 5];
    benchmark::DoNotOptimize(s.classifier.classify(r.first, r.second));
  }
}
BENCHMARK(BM_DecideClassify);

}  // namespace
}  // namespace regiongate
