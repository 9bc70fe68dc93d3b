#!/usr/bin/env bash
# End-to-end latency harness: h2load on loopback against a fast HTTP/2 origin
# directly, through nghttpx (Debian's nghttp2-proxy) and through regiongate,
# cleartext and TLS, interleaved and repeated. Prints one JSON line per target
# and mode (medians across rounds), then a table with ratios to direct and to
# nghttpx.
#
#   bash bench/e2e.sh [--quick] [--rounds N] [--requests N] [--targets a,b,c]
#                     [--modes cleartext,tls] [--regiongate PATH] [--baseline PATH]
#                     [--clients N] [--streams N] [--runs-out FILE]
#                     [--cpus auto|LOAD,PROXY]
#   --targets: of direct, nghttpx, regiongate, regiongate-observed (health checks,
#     the admin listener scraped every second, the audit log), regiongate-audit-all
#     (an audit record of every decision), regiongate-nolog (no access log),
#     regiongate-devnull (the access log formatted and written to /dev/null:
#     the log's cost without the kernel's copy into the page cache),
#     regiongate-tokens (a verified RS256 bearer token on every request, forwarded),
#     regiongate-tokens-edge (the same, not forwarded), regiongate-redis (the
#     account directory in a local redis-server, the worker's cache answering),
#     regiongate-redis-nocache (a Redis round trip on every request);
#     default: direct, nghttpx, regiongate, regiongate-observed, regiongate-nolog.
#   --quick: 3 rounds of 50k requests (about 15 s); default 5 rounds of 200k.
#   --runs-out FILE: also keep every measured run (one JSON line each).
#   --baseline PATH: another regiongate build (the previous commit, say) as
#     one more target, "baseline", interleaved with the others.
#   --cpus LOAD,PROXY: CPU for h2load+origin and CPU for the proxy ("-": not
#     pinned); auto = 0,1 when there are 2 CPUs and taskset, else -,-.
#
# Method
# - Origin: nghttpd (nghttp2-server), one worker, serving a 100-byte file;
#   cleartext for the cleartext mode and the proxies' backend, TLS (a
#   self-signed P-256 certificate made at run time) for the direct TLS mode.
# - Proxies: one worker each, pinned to CPU 1; h2load and the origin on CPU 0
#   (when the machine has at least 2 CPUs). In TLS mode a proxy terminates TLS
#   and forwards cleartext h2 to the origin. Both proxies write an access log
#   to a file.
# - Ports: every server listens on a port the kernel chose (port 0), read
#   back from its log (regiongate), from /proc/PID/fd and /proc/net/tcp
#   (nghttpd), or from sockets made for it (nghttpx refuses port 0); none is
#   found by binding a socket and closing it.
# - Every run: fixed request count (-n), -c 8 -m 10 -t 1, wrapped in timeout.
#   A warm-up run per target and mode is discarded. Rounds rotate the order of
#   targets; modes alternate inside each round.
# - Latency p50/p99/p99.9 from h2load's --log-file (per-request elapsed µs),
#   req/s from h2load's summary, the proxy's CPU per request from
#   /proc/PID/stat (utime+stime of the proxy and its children, in clock ticks)
#   across the measured run, divided by the requests. cpu_sched_us_per_req is
#   the same from /proc/PID/task/*/schedstat (ns resolution). Each run also
#   records the machine's CPU steal and how busy all CPUs were (/proc/stat),
#   and every other regiongate target is compared with plain regiongate
#   round by round (the median and range of the per-round ratios), besides
#   the ratio of the medians.
# CPU per request depends strongly on the workload: with -m 10 a proxy
# batches many frames per read/write (nghttpx about 5 us/request here); with
# --streams 1 and everything on one core (--cpus 0,0) nghttpx spends about
# 13 us cleartext and 16 us TLS, the figures issue 3 quotes. With the proxy
# on its own core and little in flight, cross-core wake-ups in this VM add
# multi-millisecond p99 tails to any proxy.
# Exit status: 0 when every target served every request with a 2xx; 1 on a
# missing tool, a target that does not start, or a non-2xx/failed request.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
RG_REPO=$REPO
PY="$HERE/e2e/e2e.py"

QUICK=0
ROUNDS=""
REQUESTS=""
TARGETS="direct,nghttpx,regiongate,regiongate-observed,regiongate-nolog"
MODES="cleartext,tls"
REGIONGATE=${REGIONGATE:-$REPO/build/proxy/regiongate}
BASELINE=""
CLIENTS=8
STREAMS=10
RUNS_OUT=""
CPUS=auto

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --rounds) ROUNDS=$2; shift ;;
    --requests) REQUESTS=$2; shift ;;
    --targets) TARGETS=$2; shift ;;
    --modes) MODES=$2; shift ;;
    --regiongate) REGIONGATE=$2; shift ;;
    --baseline) BASELINE=$2; shift ;;
    --clients) CLIENTS=$2; shift ;;
    --cpus) CPUS=$2; shift ;;
    --streams) STREAMS=$2; shift ;;
    --runs-out) RUNS_OUT=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "e2e: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
if ((QUICK)); then
  ROUNDS=${ROUNDS:-3}; REQUESTS=${REQUESTS:-50000}; RUN_TIMEOUT=30
else
  ROUNDS=${ROUNDS:-5}; REQUESTS=${REQUESTS:-200000}; RUN_TIMEOUT=90
fi
WARMUP=$((REQUESTS / 5 > 2000 ? REQUESTS / 5 : 2000))

note() { echo "e2e: $*" >&2; }
die() { echo "e2e: error: $*" >&2; exit 1; }

# --- tools ------------------------------------------------------------------
need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' not found: install $2 (apt-get install $2)"
}
PATH=$PATH:/usr/sbin:/sbin
need h2load nghttp2-client
need nghttpd nghttp2-server
need nghttpx nghttp2-proxy
need openssl openssl
need python3 python3
need timeout coreutils
need getconf libc-bin
CLK_TCK=$(getconf CLK_TCK)

# --- CPU placement ------------------------------------------------------------
CPU_LOAD=-
CPU_PROXY=-
if [[ $CPUS != auto ]]; then
  IFS=, read -r CPU_LOAD CPU_PROXY <<<"$CPUS"
  for c in "$CPU_LOAD" "$CPU_PROXY"; do
    [[ $c == - ]] || taskset -c "$c" true 2>/dev/null || die "--cpus: cannot pin to CPU '$c'"
  done
elif command -v taskset >/dev/null 2>&1 && taskset -c 1 true 2>/dev/null && taskset -c 0 true 2>/dev/null; then
  CPU_LOAD=0
  CPU_PROXY=1
else
  note "taskset or a second CPU is not available: processes are not pinned"
fi
pin() { # pin CPU CMD... (CPU "-": not pinned)
  local cpu=$1; shift
  if [[ $cpu == - ]]; then "$@"; else taskset -c "$cpu" "$@"; fi
}

# --- processes and cleanup ------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regiongate-e2e.XXXXXX")
PIDS=()
# stop_pid PID: SIGTERM to PID and its descendants (nghttpx forks its
# worker), SIGKILL to whatever is left after 5 s.
stop_pid() {
  local pid=$1 i p tree
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  tree=$(python3 "$PY" tree "$pid" 2>/dev/null || echo "$pid")
  kill -TERM $tree 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    for p in $tree; do kill -0 "$p" 2>/dev/null && break; p=""; done
    [[ -z $p ]] && break
    sleep 0.1
  done
  kill -KILL $tree 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_bg VAR LOG CPU CMD...: starts CMD in the background (pinned to CPU),
# its PID in VAR and in the cleanup list.
start_bg() {
  local var=$1 log=$2 cpu=$3; shift 3
  if [[ $cpu == - ]]; then "$@" >"$log" 2>&1 & else taskset -c "$cpu" "$@" >"$log" 2>&1 & fi
  local pid=$!
  PIDS+=("$pid")
  printf -v "$var" '%s' "$pid"
}
# No port is found by binding a socket and closing it (another process can
# take it in between): servers bind port 0, and the port is read back.
# listen_port VAR NAME PID LOG: waits until PID listens on 127.0.0.1 (the
# kernel says which port: /proc/PID/fd and /proc/net/tcp) and sets VAR.
listen_port() {
  local var=$1 name=$2 pid=$3 log=$4 port
  if port=$(python3 "$PY" listen-port "$pid" 10) && [[ $port =~ ^[0-9]+$ ]]; then
    printf -v "$var" '%s' "$port"
    return 0
  fi
  sed "s/^/  $name: /" "$log" >&2
  die "$name did not start listening on 127.0.0.1 (log above)"
}
# wait_log FILE REGEX SECONDS PID: prints REGEX's first group once a line
# of FILE matches; fails at the deadline or once PID has exited.
wait_log() { python3 "$PY" wait-log "$@"; }

# shellcheck source=bench/e2e/regiongate.sh
source "$HERE/e2e/regiongate.sh"

# --- origin -------------------------------------------------------------------
mkdir -p "$TMP/docroot"
head -c 100 /dev/zero | tr '\0' 'x' >"$TMP/docroot/b"
URL_PATH=/b
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=localhost -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:api.example.com' \
  -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >"$TMP/openssl.log" 2>&1 ||
  { cat "$TMP/openssl.log" >&2; die "openssl could not make a test certificate"; }

start_bg ORIGIN_PID "$TMP/origin.log" "$CPU_LOAD" nghttpd --no-tls -a 127.0.0.1 -n 1 \
  -d "$TMP/docroot" 0
listen_port ORIGIN_PORT nghttpd "$ORIGIN_PID" "$TMP/origin.log"
start_bg ORIGIN_TLS_PID "$TMP/origin-tls.log" "$CPU_LOAD" nghttpd -a 127.0.0.1 -n 1 \
  -d "$TMP/docroot" 0 "$TMP/key.pem" "$TMP/cert.pem"
listen_port ORIGIN_TLS_PORT "nghttpd (tls)" "$ORIGIN_TLS_PID" "$TMP/origin-tls.log"

# --- targets ----------------------------------------------------------------------
declare -A URL=() PROXY_PID=() AUTH=()
ACTIVE=()
has() { [[ ,$1, == *,$2,* ]]; }
IFS=, read -r -a MODE_LIST <<<"$MODES"
for m in "${MODE_LIST[@]}"; do
  [[ $m == cleartext || $m == tls ]] || die "unknown mode '$m' (cleartext, tls)"
done

if has "$TARGETS" direct; then
  ACTIVE+=(direct)
  URL[direct/cleartext]=http://127.0.0.1:$ORIGIN_PORT$URL_PATH
  URL[direct/tls]=https://127.0.0.1:$ORIGIN_TLS_PORT$URL_PATH
fi

if has "$TARGETS" nghttpx; then
  # --conf=/dev/null: nothing from /etc/nghttpx; access log to a file like
  # regiongate's; x-forwarded-for added like regiongate does. nghttpx
  # refuses port 0: it gets two listening sockets on ports the kernel chose,
  # the way an nghttpx hands them to its successor (e2e.py listeners).
  start_bg NGX_PID "$TMP/nghttpx.log" "$CPU_PROXY" python3 "$PY" listeners "$TMP/nghttpx.ports" 2 \
    -- nghttpx --conf=/dev/null --workers=1 \
    --frontend="127.0.0.1,{port1};no-tls" --frontend="127.0.0.1,{port2}" \
    --backend="127.0.0.1,$ORIGIN_PORT;;proto=h2" --no-ocsp --add-x-forwarded-for \
    --accesslog-file="$TMP/nghttpx-access.log" --errorlog-file="$TMP/nghttpx-error.log" \
    "$TMP/key.pem" "$TMP/cert.pem"
  # Ready once it says it listens on the second (the TLS) frontend.
  if ! wait_log "$TMP/nghttpx-error.log" 'Listening on 127\.0\.0\.1:[0-9]+, tls' 10 "$NGX_PID" >/dev/null ||
    ! { read -r NGX_PORT && read -r NGX_TLS_PORT; } <"$TMP/nghttpx.ports"; then
    { cat "$TMP/nghttpx.log" "$TMP/nghttpx-error.log" 2>/dev/null || true; } | sed 's/^/  nghttpx: /' >&2
    die "nghttpx did not start listening (log above)"
  fi
  ACTIVE+=(nghttpx)
  PROXY_PID[nghttpx]=$NGX_PID
  URL[nghttpx/cleartext]=http://127.0.0.1:$NGX_PORT$URL_PATH
  URL[nghttpx/tls]=https://127.0.0.1:$NGX_TLS_PORT$URL_PATH
fi

# rg_target NAME BIN [PROFILE]: a regiongate build as a target.
rg_target() {
  local name=$1 bin=$2 profile=${3:-plain}
  if rg_supported "$bin"; then
    rg_start "$name" "$bin" "$ORIGIN_PORT" "$TMP/cert.pem" "$TMP/key.pem" "$profile"
    ACTIVE+=("$name")
    PROXY_PID[$name]=$RG_PID
    URL[$name/cleartext]=http://127.0.0.1:$RG_PORT$URL_PATH
    [[ -n $RG_TLS_PORT ]] && URL[$name/tls]=https://127.0.0.1:$RG_TLS_PORT$URL_PATH
  else
    note "$name skipped: $bin has no 'serve' subcommand yet (or is not built)"
  fi
}
has "$TARGETS" regiongate && rg_target regiongate "$REGIONGATE"
has "$TARGETS" regiongate-observed && rg_target regiongate-observed "$REGIONGATE" observed
has "$TARGETS" regiongate-audit-all && rg_target regiongate-audit-all "$REGIONGATE" audit-all
has "$TARGETS" regiongate-nolog && rg_target regiongate-nolog "$REGIONGATE" nolog
has "$TARGETS" regiongate-devnull && rg_target regiongate-devnull "$REGIONGATE" devnull
for profile in redis redis-nocache; do
  has "$TARGETS" "regiongate-$profile" && rg_target "regiongate-$profile" "$REGIONGATE" "$profile"
done
for profile in tokens tokens-edge; do
  if has "$TARGETS" "regiongate-$profile"; then
    rg_target "regiongate-$profile" "$REGIONGATE" "$profile"
    AUTH[regiongate-$profile]="authorization: Bearer $(cat "$TMP/regiongate-$profile/bearer")"
  fi
done
[[ -n $BASELINE ]] && rg_target baseline "$BASELINE"
((${#ACTIVE[@]})) || die "no target to measure"

# --- runs -------------------------------------------------------------------------
# measure TARGET MODE ROUND N: one h2load run; appends its JSON to runs.jsonl
# unless ROUND is "warmup".
measure() {
  local target=$1 mode=$2 round=$3 n=$4 rc=0 before=- after=- pid=${PROXY_PID[$1]:-}
  local base="$TMP/run-$target-$mode-$round"
  [[ -n $pid ]] && before=$(python3 "$PY" cpu "$pid" | tr ' ' ,)
  timeout -k 5 "$RUN_TIMEOUT" taskset_or_not "$CPU_LOAD" h2load -n "$n" -c "$CLIENTS" \
    -m "$STREAMS" -t 1 --log-file="$base.log" \
    -H ':authority: api.example.com' -H 'x-account-id: bench-sg' \
    ${AUTH[$target]:+-H "${AUTH[$target]}"} \
    "${URL[$target/$mode]}" >"$base.out" 2>&1 || rc=$?
  [[ -n $pid ]] && after=$(python3 "$PY" cpu "$pid" | tr ' ' ,)
  if ((rc == 124 || rc == 137)); then
    die "$target/$mode: h2load did not finish $n requests within ${RUN_TIMEOUT}s"
  fi
  ((rc == 0)) || { sed 's/^/  h2load: /' "$base.out" >&2; die "$target/$mode: h2load exited $rc"; }
  local line
  line=$(python3 "$PY" run "$target" "$mode" "$round" "$n" "$base.out" "$base.log" \
    "$before" "$after" "$CLK_TCK") || {
    sed 's/^/  h2load: /' "$base.out" >&2
    die "$target/$mode: the target did not serve every request with a 2xx"
  }
  [[ $round == warmup ]] || echo "$line" >>"$TMP/runs.jsonl"
  rm -f "$base.log"
}
# timeout runs a program, not a function: taskset_or_not is a tiny wrapper script.
cat >"$TMP/taskset_or_not" <<'SH'
#!/bin/sh
cpu=$1; shift
if [ "$cpu" = - ]; then exec "$@"; else exec taskset -c "$cpu" "$@"; fi
SH
chmod +x "$TMP/taskset_or_not"
PATH=$TMP:$PATH

# Other work on the machine (a compile, tests) moves rps and tails most; the
# CPU per request much less. Say so rather than print quiet-looking numbers.
busy_note() {
  local pct
  pct=$(python3 "$PY" busy 1)
  if ((pct > 10)); then
    note "warning: the CPUs are ${pct}% busy $1 (other processes: a build, tests?):" \
      "rps and tail latencies will be noisy; CPU per request less so"
  fi
}
busy_note "with no load sent"
START=$(date +%s)
note "targets: ${ACTIVE[*]}; modes: ${MODE_LIST[*]}; $ROUNDS round(s) of $REQUESTS requests" \
  "(-c $CLIENTS -m $STREAMS -t 1), warm-up $WARMUP; proxy on CPU $CPU_PROXY, h2load+origin on CPU $CPU_LOAD"
for mode in "${MODE_LIST[@]}"; do
  for target in "${ACTIVE[@]}"; do
    if [[ -z ${URL[$target/$mode]:-} ]]; then continue; fi
    measure "$target" "$mode" warmup "$WARMUP"
  done
done
: >"$TMP/runs.jsonl"
k=${#ACTIVE[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  for mode in "${MODE_LIST[@]}"; do
    for ((i = 0; i < k; i++)); do
      target=${ACTIVE[$(((i + r - 1) % k))]}
      [[ -n ${URL[$target/$mode]:-} ]] || continue
      measure "$target" "$mode" "$r" "$REQUESTS"
    done
  done
  note "round $r/$ROUNDS done ($(($(date +%s) - START))s)"
done
for target in "${ACTIVE[@]}"; do
  for mode in "${MODE_LIST[@]}"; do
    [[ -n ${URL[$target/$mode]:-} ]] || note "$target/$mode: not measured (not available)"
  done
done
[[ -z $RUNS_OUT ]] || cp "$TMP/runs.jsonl" "$RUNS_OUT"
python3 "$PY" report "$TMP/runs.jsonl"
