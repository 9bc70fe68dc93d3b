#!/usr/bin/env bash
# Installs every Debian 12 package regiongate needs to build, test and benchmark.
# Idempotent: safe to run again; apt-get skips what is already installed.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev
  # libraries (the fixed stack and the helpers the README explains)
  libnghttp2-dev libc-ares-dev libmaxminddb-dev libyaml-cpp-dev libssl-dev
  libev-dev libcli11-dev nlohmann-json3-dev libhowardhinnant-date-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # real peers for tests and benchmarks: HTTP/2 clients and servers, DNS, GeoIP tools
  curl nghttp2-client nghttp2-server nghttp2-proxy dnsmasq-base
  # raw HTTP/2 frames for the residency and attack tests (Debian's /usr/bin/python3)
  python3-h2
  # the admin listener's HTTP/1.1 requests, and a real Prometheus text parser for its tests
  libhttp-parser-dev python3-prometheus-client
  mmdb-bin libmaxmind-db-writer-perl
  # small tools the scripts use
  python3 procps jq
  # bench/callgrind.sh: instructions per request, repeatable where times are not;
  # bench/log_cost.sh --perf: the logs' share of the worker, sampled inside one gateway
  valgrind linux-perf
  # verified tokens (JWS/JWK) and the Redis account directory, with a real Redis for its tests
  libcjose-dev libjansson-dev libhiredis-dev redis-server redis-tools
  # the allocator (proxy/runtime/allocator.h)
  libmimalloc-dev
)

if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
