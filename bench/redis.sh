#!/usr/bin/env bash
# The Redis directory under load, on loopback: starts a redis-server (its own
# port and directory, stopped by PID at exit), loads ACCOUNTS accounts with
# `regiongate accounts load` (its rate), then measures pipelined lookups
# from one event loop (bench/redis_lookup_main.cc).
#   bench/redis.sh BUILD_DIR [ACCOUNTS [LOOKUPS [INFLIGHT]]]
set -euo pipefail
build=${1:?build directory}
accounts=${2:-1000000}
lookups=${3:-100000}
inflight=${4:-64}
dir=$(mktemp -d)
port=$((20000 + RANDOM % 10000))
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
  --daemonize no >"$dir/redis.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  kill -0 "$pid" || { echo "redis-server did not start (port $port taken?)" >&2; exit 1; }
  sleep 0.05
done
python3 "$(dirname "$0")/../scripts/gen_accounts.py" "$accounts" -o "$dir/accounts.csv"
"$build/proxy/regiongate" accounts load "$dir/accounts.csv" --redis "127.0.0.1:$port"
"$build/bench/regiongate_redis_lookup" "$port" "$accounts" "$lookups" "$inflight"
"$build/bench/regiongate_redis_lookup" "$port" "$accounts" "$lookups" 1
