#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) in their own tree and
# runs each for a bounded time. Usage: run_fuzzers.sh BUILD_DIR SECONDS
# Called by ctest (briefly); run it by hand with more seconds to fuzz longer.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-$src/build-fuzz}
seconds=${2:-20}

cmake -S "$src" -B "$build" -G Ninja -DREGIONGATE_FUZZ=ON -DREGIONGATE_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ >/dev/null
ninja -C "$build" policy_parser_fuzzer

corpus="$build/corpus/policy"
mkdir -p "$corpus"
cp "$src"/examples/policy.yaml "$here"/corpus/policy/* "$corpus"/ 2>/dev/null || true

# -timeout: a single input taking over 10 s is a hang worth reporting.
"$build/tests/fuzz/policy_parser_fuzzer" "$corpus" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
  -artifact_prefix="$build/" 2>&1 | tail -n 25
echo "fuzz: policy parser ran ${seconds}s with no crash"
