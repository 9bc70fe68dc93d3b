#!/usr/bin/env bash
# Everything needed to build regiongate and pass all its tests on a fresh
# Debian 12 machine: installs the packages, builds (Release, warnings on),
# runs the whole ctest suite. With --sanitize: the same in an ASan+UBSan
# build (build-asan/).
set -euo pipefail
cd "$(dirname "$0")/.."

build=build
flags=(-DCMAKE_BUILD_TYPE=Release)
if [ "${1:-}" = "--sanitize" ]; then
  build=build-asan
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DREGIONGATE_SANITIZE=ON -DREGIONGATE_BENCH=OFF)
fi

bash scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja "${flags[@]}"
cmake --build "$build"
ctest --test-dir "$build" --output-on-failure -j 2 --timeout 900
