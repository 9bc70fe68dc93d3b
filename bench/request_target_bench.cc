// Making a request target canonical (policy/canonical_request.h), on the
// data path before every classification: the common case (already
// canonical: checked, not copied) and one that must be rewritten.

#include <benchmark/benchmark.h>

#include <string>
#include <utility>

#include "policy/canonical_request.h"

namespace regiongate {
namespace {

using Target = std::pair<const char*, const char*>;

void run(benchmark::State& state, const Target* targets, std::size_t n) {
  TargetStorage storage;
  const TargetOptions options;
  std::size_t i = 0;
  for (auto _ : state) {
    const Target& t = targets[i++ % n];
    CanonicalTarget c = canonical_target({"GET", "https", t.first, "", t.second}, options, storage);
    benchmark::DoNotOptimize(c.path.data());
    benchmark::DoNotOptimize(c.authority.host.data());
  }
}

// What phones send: canonical already.
void BM_CanonicalTargetAlready(benchmark::State& state) {
  const Target targets[] = {
      {"shop.example.com", "/cart"},
      {"api.example.com", "/cloud/photos/2014/12/IMG_0001.jpg?size=large&v=3"},
      {"photos.cloud.example.com", "/"},
      {"api.example.com", "/messaging/inbox?since=1418601600"},
  };
  run(state, targets, std::size(targets));
}
BENCHMARK(BM_CanonicalTargetAlready);

// Escapes, dot segments, doubled slashes, an upper-case host with a port.
void BM_CanonicalTargetRewritten(benchmark::State& state) {
  const Target targets[] = {
      {"Shop.Example.com.", "/cart/./items"},
      {"api.example.com:443", "/cloud/%70hotos/../photos/2014//IMG_0001.jpg?size=large"},
      {"API.example.com", "/messaging/%e2%82%ac/inbox"},
      {"api.example.com", "/cloud/../shop/cart"},
  };
  run(state, targets, std::size(targets));
}
BENCHMARK(BM_CanonicalTargetRewritten);

}  // namespace
}  // namespace regiongate
