#!/usr/bin/env bash
# Instructions per request, counted by callgrind: repeatable on a noisy,
# shared machine where times are not. regiongate (the e2e configuration:
# one worker, the residency decision on every request, forwarding to an
# nghttpd origin) runs under valgrind twice, serving LOW and then HIGH
# requests from h2load; (I(HIGH) - I(LOW)) / (HIGH - LOW) is the cost of one
# request with start-up and shutdown taken out. Every thread of the gateway
# counts (the log writer's too).
#
#   bash bench/callgrind.sh [--profile plain|observed|audit-all|nolog|tokens] [--low N] [--high N]
#                           [--clients C] [--streams M] [--regiongate PATH] [--keep DIR]
#   --profile: bench/e2e/regiongate.sh's (plain: the access log; observed: health
#     checks, admin listener, the audit log too; audit-all: an audit record of every
#     decision; nolog: no access log; tokens: a verified bearer token on every request).
#   --keep DIR: keep the callgrind.out files there (for callgrind_annotate).
#   --cache-sim: also simulate the caches (valgrind --cache-sim=yes) and print
#     data reads, writes and their first-level and last-level misses per
#     request (Dr, Dw, D1mr, D1mw, DLmr, DLmw): where instructions do not
#     explain a time difference, misses may.
# Prints one JSON line.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
RG_REPO=$REPO
PY="$HERE/e2e/e2e.py"
REGIONGATE=$REPO/build/proxy/regiongate
PROFILE=plain
LOW=1000
HIGH=5000
CLIENTS=1
STREAMS=1
KEEP=""
CACHE_SIM=no
while (($#)); do
  case $1 in
    --profile) PROFILE=$2; shift ;;
    --low) LOW=$2; shift ;;
    --high) HIGH=$2; shift ;;
    --clients) CLIENTS=$2; shift ;;
    --streams) STREAMS=$2; shift ;;
    --regiongate) REGIONGATE=$2; shift ;;
    --keep) KEEP=$2; shift ;;
    --cache-sim) CACHE_SIM=yes ;;
    *) echo "callgrind: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
command -v valgrind >/dev/null || { echo "callgrind: valgrind not found (apt-get install valgrind)" >&2; exit 1; }

NAME=callgrind
# shellcheck source=bench/e2e/harness.sh
source "$HERE/e2e/harness.sh"
CPU_PROXY=-
CPU_LOAD=-
# shellcheck source=bench/e2e/regiongate.sh
source "$HERE/e2e/regiongate.sh"

mkdir -p "$TMP/docroot"
head -c 100 /dev/zero | tr '\0' 'x' >"$TMP/docroot/b"
start_bg ORIGIN_PID "$TMP/origin.log" - nghttpd --no-tls -a 127.0.0.1 -n 1 -d "$TMP/docroot" 0
ORIGIN_PORT=$(python3 "$PY" listen-port "$ORIGIN_PID" 10) || die "nghttpd did not start"

# count N: instructions of a gateway that served N requests, start to exit.
count() {
  local n=$1 dir="$TMP/rg-$1" pid port out
  rg_write_config "$dir" "$ORIGIN_PORT" - - - "$PROFILE"
  (cd "$dir" && exec valgrind --tool=callgrind --cache-sim="$CACHE_SIM" --callgrind-out-file="$dir/callgrind.out" \
    "$REGIONGATE" serve --config "$dir/regiongate.yaml" --now 2015-07-01T00:00:00Z) \
    >"$dir/serve.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  port=$(wait_log "$dir/serve.log" 'listening on cleartext 127\.0\.0\.1:([0-9]+)' 120 "$pid") ||
    { cat "$dir/serve.log" >&2; die "regiongate did not start under valgrind"; }
  if [[ $PROFILE == observed || $PROFILE == audit-all ]]; then
    admin=$(wait_log "$dir/serve.log" 'admin listening on 127\.0\.0\.1:([0-9]+)' 60 "$pid")
    curl -sf -o /dev/null "http://127.0.0.1:$admin/metrics" || die "no /metrics"
  fi
  local auth=()
  [[ $PROFILE == tokens* ]] && auth=(-H "authorization: Bearer $(cat "$dir/bearer")")
  out=$(h2load -n "$n" -c "$CLIENTS" -m "$STREAMS" -t 1 -H ':authority: api.example.com' \
    -H 'x-account-id: bench-sg' "${auth[@]}" "http://127.0.0.1:$port/b" 2>&1) ||
    { echo "$out" >&2; die "h2load failed"; }
  grep -q "status codes: $n 2xx" <<<"$out" || { echo "$out" >&2; die "not every request got a 2xx"; }
  [[ $PROFILE == observed || $PROFILE == audit-all ]] && curl -sf -o /dev/null "http://127.0.0.1:$admin/metrics"
  kill -TERM "$pid"
  wait "$pid" || true
  [[ -n $KEEP ]] && { mkdir -p "$KEEP"; cp "$dir/callgrind.out" "$KEEP/callgrind.$PROFILE.$n.out"; }
  # Every thread's counts (one file for all threads; its "events:" and
  # "summary:" lines), as "event=total" words.
  awk '/^events:/ { for (i = 2; i <= NF; i++) name[i] = $i }
       /^summary:/ { for (i = 2; i <= NF; i++) s[i] += $i }
       END { for (i in s) printf "%s=%d ", name[i], s[i]; print "" }' "$dir"/callgrind.out*
}
low=$(count "$LOW")
high=$(count "$HIGH")
awk -v low="$low" -v high="$high" -v nl="$LOW" -v nh="$HIGH" -v profile="$PROFILE" \
  -v c="$CLIENTS" -v m="$STREAMS" 'function parse(text, into,   n, i, kv, words) {
    n = split(text, words, " ")
    for (i = 1; i <= n; i++) { split(words[i], kv, "="); into[kv[1]] = kv[2] }
  }
  BEGIN {
  parse(low, L); parse(high, H)
  printf "{\"profile\": \"%s\", \"clients\": %d, \"streams\": %d, \"instructions_low\": %d, \"instructions_high\": %d, \"instructions_per_request\": %.0f",
    profile, c, m, L["Ir"], H["Ir"], (H["Ir"] - L["Ir"]) / (nh - nl)
  split("Dr Dw D1mr D1mw DLmr DLmw", extra, " ")
  for (i = 1; i <= 6; i++) {
    e = extra[i]
    if (e in H) printf ", \"%s_per_request\": %.1f", e, (H[e] - L[e]) / (nh - nl)
  }
  print "}" }'
