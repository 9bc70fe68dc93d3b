#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) in their own tree and
# runs each for a bounded time. Usage: run_fuzzers.sh BUILD_DIR SECONDS
# (SECONDS per target). Called by ctest (briefly); run it by hand with more
# seconds to fuzz longer.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-$src/build-fuzz}
seconds=${2:-20}

cmake -S "$src" -B "$build" -G Ninja -DREGIONGATE_FUZZ=ON -DREGIONGATE_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ >/dev/null
ninja -C "$build" policy_parser_fuzzer request_target_fuzzer token_fuzzer redis_reply_fuzzer \
  directory_line_fuzzer config_fuzzer client_session_fuzzer audit_chain_fuzzer

# run_one NAME MAX_LEN SEEDS...: the target on its own corpus (seeded from
# the repository), for `seconds`. -timeout: one input taking over 10 s is a
# hang worth reporting.
run_one() {
  local name=$1 max_len=$2
  shift 2
  local corpus="$build/corpus/$name"
  mkdir -p "$corpus"
  cp "$@" "$corpus"/ 2>/dev/null || true
  "$build/tests/fuzz/${name}_fuzzer" "$corpus" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 \
    -artifact_prefix="$build/$name-" 2>&1 | tail -n 25
  echo "fuzz: $name ran ${seconds}s with no crash"
}

run_one policy_parser 16384 "$src"/examples/policy.yaml "$here"/corpus/policy/*
run_one request_target 4096 "$here"/corpus/request_target/*
run_one token 16384 "$here"/corpus/token/*
run_one redis_reply 4096 "$here"/corpus/redis_reply/*
run_one config 16384 "$here"/corpus/config/*
run_one directory_line 4096 "$src"/examples/accounts.csv "$here"/corpus/directory_line/*
run_one client_session 65536 "$here"/corpus/client_session/*
run_one audit_chain 16384 "$here"/corpus/audit_chain/*
