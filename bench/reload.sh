#!/usr/bin/env bash
# How long a reload takes with a large policy: `regiongate serve` with the
# example data centres, GeoIP database and directory and a generated policy
# of N rules (scripts/gen_policy.py), reloaded by POST /reload on its admin
# listener R times. Prints the time of `regiongate check` on the same
# configuration, and the median and maximum of the reloads (curl's
# time_total: read, validate, prove, publish, answer).
#
#   bash bench/reload.sh [--rules N] [--reloads R] [--regiongate PATH]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
RULES=10000
RELOADS=5
REGIONGATE=$REPO/build/proxy/regiongate
while (($#)); do
  case $1 in
    --rules) RULES=$2; shift ;;
    --reloads) RELOADS=$2; shift ;;
    --regiongate) REGIONGATE=$2; shift ;;
    *) echo "reload: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/regiongate-reload.XXXXXX")
PID=""
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

cp -r "$REPO/examples/." "$TMP/"
python3 "$REPO/scripts/gen_policy.py" "$RULES" -o "$TMP/policy.yaml"
python3 - "$TMP/regiongate.yaml" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
text = text[:text.index("server:")] + (
    "server:\n  workers: 2\n  admin: {address: \"127.0.0.1:0\"}\n"
    "  listen:\n    - address: 127.0.0.1:0\n")
open(path, "w").write(text)
PY

start=$EPOCHREALTIME
"$REGIONGATE" check --config "$TMP/regiongate.yaml" >/dev/null 2>"$TMP/check.err" ||
  { cat "$TMP/check.err" >&2; echo "reload: the generated policy does not check" >&2; exit 1; }
check=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')

"$REGIONGATE" serve --config "$TMP/regiongate.yaml" 2>"$TMP/serve.log" &
PID=$!
port=""
for _ in $(seq 100); do
  port=$(grep -oP 'admin listening on 127\.0\.0\.1:\K[0-9]+' "$TMP/serve.log" || true)
  [[ -n $port ]] && break
  kill -0 "$PID" 2>/dev/null || break
  sleep 0.1
done
[[ -n $port ]] || { cat "$TMP/serve.log" >&2; echo "reload: the gateway did not start" >&2; exit 1; }

times=()
for ((i = 1; i <= RELOADS; i++)); do
  out=$(curl -s -X POST -o "$TMP/reload.json" -w '%{http_code} %{time_total}' "http://127.0.0.1:$port/reload")
  [[ ${out% *} == 200 ]] || { cat "$TMP/reload.json" >&2; echo "reload: reload $i failed" >&2; exit 1; }
  times+=("${out#* }")
done
printf '%s\n' "${times[@]}" | sort -n | awk -v rules="$RULES" -v check="$check" '
  { t[NR] = $1 }
  END {
    median = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
    printf "{\"rules\": %d, \"check_s\": %.3f, \"reloads\": %d, \"reload_median_s\": %.3f, \"reload_max_s\": %.3f}\n",
      rules, check, NR, median, t[NR]
  }'
