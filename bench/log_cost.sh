#!/usr/bin/env bash
# Where a log's cost goes, per request: regiongate (bench/e2e/regiongate.sh's
# configuration, one worker, pinned to one CPU; h2load and nghttpd on the
# other) serving N requests (-c 32 -m 10), for each profile:
#   - CPU per request of each thread (worker, log writers, ...), from
#     /proc/PID/task/TID/schedstat, and its context switches per 1,000
#     requests (voluntary and not, /proc/PID/task/TID/status);
#   - with --strace, the syscalls per 1,000 requests (strace -c -f, in a
#     separate run: strace slows everything down, its counts not);
#   - with --perf, what the logs cost, measured inside the one gateway, so
#     that the swing of a request's CPU from one gateway to the next (up to
#     25% here, for every proxy) does not hide it. In a second run of N
#     requests, perf samples the worker (4 kHz, stacks unwound with DWARF)
#     and counts the samples under ProxiedRequest::write_log_record (all
#     the logs' work on the worker: the record, the lines, the hand-over),
#     and under append_audit_record (the audit log's part). The worker's
#     CPU per request from the first run times those shares, plus each log
#     writer thread's CPU, is each log's cost; the rest of the gateway's CPU
#     is the request without logs, and each log's cost is given as a
#     percentage of that.
#
#   bash bench/log_cost.sh [--requests N] [--profiles nolog,plain,audit-all] [--strace]
#                          [--perf] [--writer-cpu CPU] [--tls]
# --tls: the load comes over TLS (h2 by ALPN), as phones' requests do: the
# same logs against a request that costs more.
# --writer-cpu moves the log writer threads (rg-log-*) to CPU (0: the load's)
# off the worker's, to tell what sharing a core costs from what writing does.
# Prints one JSON line per profile and thread, and one for all threads with
# the bytes logged per request (appended to the logs meanwhile: the
# writer's lag of up to 100 ms at the start and at the end about cancels).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
RG_REPO=$REPO
PY="$HERE/e2e/e2e.py"
REGIONGATE=$REPO/build/proxy/regiongate
REQUESTS=300000
PROFILES=nolog,plain,audit-all
STRACE=0
PERF=0
TLS=0
WRITER_CPU=""
while (($#)); do
  case $1 in
    --requests) REQUESTS=$2; shift ;;
    --profiles) PROFILES=$2; shift ;;
    --strace) STRACE=1 ;;
    --perf) PERF=1 ;;
    --tls) TLS=1 ;;
    --regiongate) REGIONGATE=$2; shift ;;
    --writer-cpu) WRITER_CPU=$2; shift ;;
    *) echo "log_cost: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
NAME=logcost
((PERF)) && ! command -v perf >/dev/null && { echo "log_cost: --perf needs perf (apt-get install linux-perf)" >&2; exit 1; }
# shellcheck source=bench/e2e/harness.sh
source "$HERE/e2e/harness.sh"
CPU_LOAD=0
CPU_PROXY=1
# shellcheck source=bench/e2e/regiongate.sh
source "$HERE/e2e/regiongate.sh"

# rg_start gives the gateway a TLS listener too (unused here).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
  -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >"$TMP/openssl.log" 2>&1 || die "openssl failed"
mkdir -p "$TMP/docroot"
head -c 200 /dev/zero | tr '\0' 'x' >"$TMP/docroot/b"
start_bg ORIGIN_PID "$TMP/origin.log" "$CPU_LOAD" nghttpd --no-tls -a 127.0.0.1 -n 1 -d "$TMP/docroot" 0
ORIGIN_PORT=$(python3 "$PY" listen-port "$ORIGIN_PID" 10) || die "nghttpd did not start"

# threads PID: "TID NAME RUN_NS VOLUNTARY NONVOLUNTARY" per thread.
threads() {
  local t
  for t in /proc/"$1"/task/*; do
    echo "$(basename "$t") $(tr ' ' _ <"$t/comm") $(cut -d' ' -f1 "$t/schedstat") \
      $(awk '/^voluntary_ctxt_switches/ {v=$2} /^nonvoluntary_ctxt_switches/ {n=$2} END {print v, n}' "$t/status")"
  done
}

load() {  # PORT N
  local scheme=http
  ((TLS)) && scheme=https
  taskset -c "$CPU_LOAD" h2load -n "$2" -c 32 -m 10 -t 1 -H ':authority: api.example.com' \
    -H 'x-account-id: bench-sg' "$scheme://127.0.0.1:$1/b" >"$TMP/h2load.out" 2>&1 ||
    { cat "$TMP/h2load.out" >&2; die "h2load failed"; }
  grep -q "status codes: $2 2xx" "$TMP/h2load.out" || { cat "$TMP/h2load.out" >&2; die "not all 2xx"; }
}

IFS=, read -r -a profile_list <<<"$PROFILES"
for profile in "${profile_list[@]}"; do
  rg_start "$profile" "$REGIONGATE" "$ORIGIN_PORT" "$TMP/cert.pem" "$TMP/key.pem" "$profile"
  [[ $profile == observed || $profile == audit-all ]] && stop_pid "$RG_SCRAPER_PID"  # no scrapes here
  port=$RG_PORT
  if ((TLS)); then
    [[ -n $RG_TLS_PORT ]] || die "$profile: the gateway has no TLS listener"
    port=$RG_TLS_PORT
  fi
  if [[ -n $WRITER_CPU ]]; then
    for t in /proc/"$RG_PID"/task/*; do
      [[ $(cat "$t/comm") == rg-log-* ]] && taskset -p -c "$WRITER_CPU" "$(basename "$t")" >/dev/null
    done
  fi
  load "$port" 20000  # warm-up
  log_bytes() { cat "$TMP/$profile"/*.log 2>/dev/null | wc -c; }
  bytes_before=$(log_bytes)
  threads "$RG_PID" >"$TMP/before"
  load "$port" "$REQUESTS"
  threads "$RG_PID" >"$TMP/after"
  bytes_after=$(log_bytes)
  python3 - "$profile" "$REQUESTS" "$TMP/before" "$TMP/after" "$((bytes_after - bytes_before))" \
    "$TMP/cpu.$profile.json" <<'PY'
import json, sys
profile, n = sys.argv[1], int(sys.argv[2])
log_bytes = int(sys.argv[5])
def read(path):
    out = {}
    for line in open(path):
        tid, name, run, vol, invol = line.split()
        out[tid] = (name, int(run), int(vol), int(invol))
    return out
before, after = read(sys.argv[3]), read(sys.argv[4])
total = 0
rows = []
for tid, (name, run, vol, invol) in sorted(after.items()):
    b = before.get(tid, (name, 0, 0, 0))
    us = (run - b[1]) / 1000 / n
    total += us
    rows.append({"profile": profile, "thread": name, "tid": int(tid), "cpu_us_per_req": round(us, 3),
                 "voluntary_switches_per_1k_req": round((vol - b[2]) * 1000 / n, 2),
                 "involuntary_switches_per_1k_req": round((invol - b[3]) * 1000 / n, 2)})
for r in rows:
    print(json.dumps(r))
print(json.dumps({"profile": profile, "thread": "all", "cpu_us_per_req": round(total, 3),
                  "log_bytes_per_req": round(log_bytes / n, 1)}))
# For --perf: CPU per request by thread name, summed over threads of one name.
by_name = {}
for r in rows:
    by_name[r["thread"]] = by_name.get(r["thread"], 0) + r["cpu_us_per_req"]
json.dump({"all": total, "threads": by_name}, open(sys.argv[6], "w"))
PY
  if ((PERF)); then
    workers=$(for t in /proc/"$RG_PID"/task/*; do
      if [[ $(cat "$t/comm") == rg-worker* ]]; then basename "$t"; fi; done | paste -sd,)
    perf record -q -F 4000 --call-graph dwarf,16384 -t "$workers" -o "$TMP/perf.$profile" \
      >"$TMP/perf.$profile.log" 2>&1 &
    perf_pid=$!
    PIDS+=("$perf_pid")  # stopped on exit if the run fails before it is
    # Sampling once perf has written its file's header.
    python3 - "$TMP/perf.$profile" <<'PY' || die "perf did not start"
import os, sys, time
deadline = time.time() + 10
while time.time() < deadline:
    if os.path.exists(sys.argv[1]) and os.path.getsize(sys.argv[1]) > 0:
        sys.exit(0)
    time.sleep(0.01)
sys.exit(1)
PY
    load "$port" "$REQUESTS"
    # perf record stopped by SIGINT exits with 130: its file tells.
    kill -INT "$perf_pid"; wait "$perf_pid" || true
    perf script -i "$TMP/perf.$profile" -F ip,sym --no-demangle 2>"$TMP/perf.$profile.log" \
      >"$TMP/perf.$profile.stacks" || die "perf record or script failed: $(cat "$TMP/perf.$profile.log")"
    python3 - "$profile" "$TMP/perf.$profile.stacks" "$TMP/cpu.$profile.json" <<'PY'
import json, sys
profile, stacks, cpu = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
# Mangled names: ProxiedRequest::write_log_record, append_audit_record, and
# the bottom of a worker's stack (a sample unwound that far is whole).
LOGS, AUDIT = "_ZNK10regiongate14ProxiedRequest16write_log_record", "_ZN10regiongate19append_audit_record"
def samples_of(path):
    # Each sample: its frames, one "IP SYMBOL" a line, then an empty line.
    frames = []
    for line in open(path):
        words = line.split()
        if words:
            frames.append(words[1] if len(words) > 1 else "")
        elif frames:
            yield frames
            frames = []
    if frames:
        yield frames
samples = logs = audit = whole = 0
for frames in samples_of(stacks):
    samples += 1
    logs += any(f.startswith(LOGS) for f in frames)
    audit += any(f.startswith(AUDIT) for f in frames)
    whole += any(f in ("start_thread", "clone3", "__clone3", "ev_run") for f in frames)
if samples == 0:
    sys.exit("log_cost: perf took no samples of the worker")
threads = cpu["threads"]
worker = sum(v for k, v in threads.items() if k.startswith("rg-worker"))
access_writer, audit_writer = threads.get("rg-log-access", 0.0), threads.get("rg-log-audit", 0.0)
access = worker * (logs - audit) / samples + access_writer
audited = worker * audit / samples + audit_writer
base = cpu["all"] - access - audited  # the gateway's CPU per request without either log
print(json.dumps({
    "profile": profile, "worker_samples": samples, "whole_stacks_pct": round(100 * whole / samples, 1),
    "worker_log_share_pct": round(100 * logs / samples, 2),
    "worker_audit_share_pct": round(100 * audit / samples, 2),
    "access_log_us_per_req": round(access, 3), "audit_log_us_per_req": round(audited, 3),
    "request_without_logs_us": round(base, 3),
    "access_log_pct": round(100 * access / base, 2), "audit_log_pct": round(100 * audited / base, 2)}))
PY
  fi
  if ((STRACE)); then
    strace -c -f -o "$TMP/strace.$profile" -p "$RG_PID" 2>/dev/null &
    spid=$!
    # Attached once the kernel names a tracer (strace's times are not used, only its counts).
    python3 - "$RG_PID" <<'PY' || die "strace did not attach"
import sys, time
deadline = time.time() + 10
while time.time() < deadline:
    for line in open(f"/proc/{sys.argv[1]}/status"):
        if line.startswith("TracerPid:") and line.split()[1] != "0":
            sys.exit(0)
    time.sleep(0.01)
sys.exit(1)
PY
    load "$port" 50000
    kill -INT "$spid"; wait "$spid" 2>/dev/null || true
    # strace -c: "% time  seconds  usecs/call  calls  [errors]  syscall".
    awk -v p="$profile" -v n=50000 '$4 ~ /^[0-9]+$/ && $NF ~ /^[a-z_0-9]+$/ && $NF != "total" {
      printf "{\"profile\": \"%s\", \"syscall\": \"%s\", \"calls_per_1k_req\": %.2f}\n", p, $NF, $4 * 1000 / n }' \
      "$TMP/strace.$profile"
  fi
  stop_pid "$RG_PID"
done
