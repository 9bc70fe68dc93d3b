#!/usr/bin/env bash
# Soak: regiongate under steady load for a long time (10 minutes by default)
# with a mix of good and abusive clients, sampling its resident memory, open
# file descriptors, threads and connections every 10 s. What must hold: RSS
# and descriptors stay flat (no leak: the last samples no higher than the
# first ones after warm-up, within a margin), the good clients are served
# throughout, and once the abusers stop the descriptors fall back to where
# they were. Not in CI (it takes minutes); the numbers go in the README.
#
#   bash bench/soak.sh [--duration SECONDS] [--no-abusers] [--regiongate PATH] [--out FILE]
#   --no-abusers: the good clients alone (the baseline for their latency).
#
# The gateway: bench/e2e/regiongate.sh's "observed" configuration (the
# access and audit logs, health checks every second, the admin listener,
# scraped every second), one worker; an nghttpd origin serving 100 bytes
# and 1 MiB.
# Good clients (h2load, rate-limited, for the whole run): 8 connections x
# 4 streams at 100 requests/s each (800/s) of the small file, and 2
# downloaders of 1 MiB at 5 requests/s each.
# Abusers, each a loop of one connection after another for the whole run,
# sent by tests/integration/h2_frames.py (raw frames, with Debian's python3-h2):
#   rapid-reset   300 streams opened and reset at once, per connection
#   zero-window   SETTINGS_INITIAL_WINDOW_SIZE 0 and 50 downloads of 1 MiB,
#                 never read (held 15 s)
#   slow-headers  a HEADERS frame without END_HEADERS, never finished (held 15 s)
#   ping-flood    1 MB of PINGs, without reading the ACKs
#   silent        a TCP connection that never sends the preface (held 15 s)
#   hpack-bomb    300 streams, each header block 7 kB that decodes to 12 MB
#   control-flood 2,000 each of PRIORITY, WINDOW_UPDATE and SETTINGS frames
#   churn         h2load: 50 connections of one request each, again and again
# Prints one JSON line per sample and a summary line; exit 1 when a good
# client failed or memory or descriptors grew past the margins.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
RG_REPO=$REPO
PY="$HERE/e2e/e2e.py"
FRAMES="$REPO/tests/integration/h2_frames.py"
REGIONGATE=$REPO/build/proxy/regiongate
DURATION=600
OUT=""
ABUSE=1
while (($#)); do
  case $1 in
    --duration) DURATION=$2; shift ;;
    --no-abusers) ABUSE=0 ;;
    --regiongate) REGIONGATE=$2; shift ;;
    --out) OUT=$2; shift ;;
    *) echo "soak: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
((DURATION >= 60)) || { echo "soak: --duration must be at least 60 s" >&2; exit 2; }
NAME=soak
# shellcheck source=bench/e2e/harness.sh
source "$HERE/e2e/harness.sh"
CPU_PROXY=-
# shellcheck source=bench/e2e/regiongate.sh
source "$HERE/e2e/regiongate.sh"
# shellcheck source=bench/e2e/abuse.sh
source "$HERE/e2e/abuse.sh"
for tool in h2load nghttpd python3 curl; do command -v $tool >/dev/null || die "$tool not found"; done

abuse_start_gateway - -
note "$DURATION s"
END=$(($(date +%s) + DURATION))

# --- the clients ------------------------------------------------------------------
start_bg GOOD_PID "$TMP/good.out" - h2load -D "$DURATION" -c 8 -m 4 --rps 100 -t 1 \
  --log-file="$TMP/good.log" "${HEADERS[@]}" "http://127.0.0.1:$PORT/b"
start_bg DOWNLOAD_PID "$TMP/download.out" - h2load -D "$DURATION" -c 2 -m 1 --rps 5 -t 1 \
  "${HEADERS[@]}" "http://127.0.0.1:$PORT/big"

abuse_write_scripts
ABUSERS=()
if ((ABUSE)); then
  for spec in rapid-reset:10 zero-window:15 slow-headers:15 ping-flood:10 silent:15 \
    hpack-bomb:10 control-flood:10; do
    abuse "${spec%%:*}" "${spec##*:}" &
    ABUSERS+=("$!")
    PIDS+=("$!")
  done
  churn &
  ABUSERS+=("$!")
  PIDS+=("$!")
fi

# --- samples ----------------------------------------------------------------------
sample() {
  local t=$1 rss fds threads open requests
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$RG_PID/status")
  threads=$(awk '/^Threads:/ {print $2}' "/proc/$RG_PID/status")
  fds=$(find "/proc/$RG_PID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
  open=$(curl -sf "http://127.0.0.1:$ADMIN/metrics" |
    awk '$1 == "regiongate_connections_open" {s += $2} END {print s + 0}')
  requests=$(curl -sf "http://127.0.0.1:$ADMIN/metrics" |
    awk '$1 ~ /^regiongate_requests_total/ {s += $2} END {printf "%d", s}')
  echo "{\"t\": $t, \"rss_kib\": $rss, \"fds\": $fds, \"threads\": $threads, \"connections_open\": $open, \"requests\": $requests}"
}
START=$(date +%s)
: >"$TMP/samples.jsonl"
while (($(date +%s) < END)); do
  kill -0 "$RG_PID" 2>/dev/null || die "regiongate died: $(tail -5 "$dir/serve.log")"
  sample $(($(date +%s) - START)) | tee -a "$TMP/samples.jsonl"
  sleep 10  # the sampling period, not a synchronisation
done
for pid in "${ABUSERS[@]}"; do wait "$pid" 2>/dev/null || true; done
good_rc=0 download_rc=0
wait "$GOOD_PID" || good_rc=$?
wait "$DOWNLOAD_PID" || download_rc=$?
# The abusers are gone: their connections close within the gateway's
# timeouts (handshake 10 s, linger 2 s): sample until the descriptors settle.
python3 - "$RG_PID" 30 <<'PY' || true
import os, sys, time
pid, deadline = sys.argv[1], time.time() + float(sys.argv[2])
last, steady = None, 0
while time.time() < deadline and steady < 3:
    n = len(os.listdir(f"/proc/{pid}/fd"))
    steady = steady + 1 if n == last else 0
    last = n
    time.sleep(1)
PY
sample "\"after\"" | tee -a "$TMP/samples.jsonl"
curl -sf "http://127.0.0.1:$ADMIN/metrics" >"$TMP/final.metrics" || true
[[ -n $OUT ]] && cp "$TMP/samples.jsonl" "$OUT"

counts=""
for name in rapid-reset zero-window slow-headers ping-flood silent hpack-bomb control-flood churn; do
  counts+="\"$name\": $(cat "$TMP/$name.count" 2>/dev/null || echo 0), "
done
python3 - "$TMP/samples.jsonl" "$TMP/good.out" "$TMP/good.log" "$TMP/download.out" "$good_rc" \
  "$download_rc" "{${counts%, }}" "$DURATION" "$TMP/final.metrics" <<'PY'
import json, re, sys
samples = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
during = [s for s in samples if s["t"] != "after"]
after = samples[-1]
good, download = open(sys.argv[2]).read(), open(sys.argv[4]).read()
good_rc, download_rc, abusers = int(sys.argv[5]), int(sys.argv[6]), json.loads(sys.argv[7])
elapsed = sorted(int(l.split("\t")[2]) for l in open(sys.argv[3]) if l.count("\t") >= 2)
pct = lambda q: round(elapsed[min(len(elapsed) - 1, int(q * len(elapsed)))] / 1000.0, 2) if elapsed else None
def statuses(text):
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    f = re.search(r"(\d+) failed, (\d+) errored, (\d+) timeout", text)
    return (int(m.group(1)) if m else 0, sum(int(x) for x in m.groups()[1:]) if m else -1,
            sum(int(x) for x in f.groups()) if f else -1)
warm = [s for s in during if s["t"] >= 60] or during
first, last = warm[: max(1, len(warm) // 5)], warm[-max(1, len(warm) // 5):]
rss_first = max(s["rss_kib"] for s in first)
rss_last = max(s["rss_kib"] for s in last)
fds_first = during[0]["fds"]
g_ok, g_bad, g_fail = statuses(good)
d_ok, d_bad, d_fail = statuses(download)
# h2load -D counts what completed within the duration: 8 x 100/s asked for.
asked = 800 * int(sys.argv[8])
summary = {
    "seconds": during[-1]["t"], "abuser_connections": abusers,
    "good": {"ok": g_ok, "of_asked": round(g_ok / asked, 3), "non_2xx": g_bad, "failed": g_fail,
             "p50_ms": pct(0.5), "p99_ms": pct(0.99), "exit": good_rc},
    "downloads": {"ok": d_ok, "non_2xx": d_bad, "failed": d_fail, "exit": download_rc},
    "rss_kib": {"first_after_warmup": rss_first, "last": rss_last, "max": max(s["rss_kib"] for s in during),
                "after": after["rss_kib"]},
    "fds": {"start": fds_first, "max": max(s["fds"] for s in during), "after": after["fds"]},
    "requests": after["requests"],
    # What the gateway closed, by reason (summed over workers).
    "closed_by_reason": {},
}
for line in open(sys.argv[9]):
    m = re.match(r'regiongate_client_connection_errors_total\{.*reason="([^"]+)".*\} (\S+)', line)
    if m:
        reason = m.group(1)
        summary["closed_by_reason"][reason] = summary["closed_by_reason"].get(reason, 0) + int(float(m.group(2)))
# Flat: the last fifth no more than 20% (and 8 MB) above the first fifth
# after warm-up; the descriptors back within 4 of the start; the good
# clients served (every request a 2xx, 90% of the rate they asked for).
problems = []
if good_rc or g_bad or g_fail or not g_ok:
    problems.append("good clients were not all served")
if g_ok < 0.9 * asked:
    problems.append(f"good clients got {g_ok} of the {asked} requests they asked for")
if download_rc or d_bad or d_fail or not d_ok:
    problems.append("downloads were not all served")
if rss_last > rss_first * 1.2 and rss_last - rss_first > 8192:
    problems.append(f"RSS grew from {rss_first} to {rss_last} KiB")
if after["fds"] > fds_first + 4:
    problems.append(f"descriptors: {fds_first} at the start, {after['fds']} after")
summary["verdict"] = "flat" if not problems else "; ".join(problems)
print(json.dumps(summary))
sys.exit(1 if problems else 0)
PY
