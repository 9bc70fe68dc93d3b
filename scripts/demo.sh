#!/usr/bin/env bash
# Builds regiongate on a fresh Debian 12 machine and runs its embedded
# default: `regiongate demo`, the example story of examples/. Arguments are
# passed on (e.g. --now 2015-07-01T00:00:00Z).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target regiongate
exec build/proxy/regiongate demo "$@"
