#!/usr/bin/env bash
# Attacks, one kind at a time: what each does to a well-behaved client on
# another connection. For every attack and round, the witness runs alone
# (its baseline), then with the attack going on, back to back; the ratio
# of its p99 latencies is the attack's cost. Medians over the rounds.
# Not in CI (minutes); the numbers go in the README. The tests assert that
# each attack is met with its error and that a witness is served across it
# (tests/integration/flood_test.cc, stall_test.cc, ...); how fast it is
# served is measured here, where the machine's noise can be seen.
#
#   bash bench/attacks.sh [--seconds S] [--rounds N] [--only NAME] [--regiongate PATH]
#
# The gateway (one worker, bench/e2e/regiongate.sh's "observed"
# configuration) is pinned to CPU 0; the origin, the witness and the
# abuser share CPU 1, the witness at nice -5 and the abuser at nice 10, so
# that what is measured is the gateway's core being fought over, not the
# abuser's own Python starving the client. Witness: h2load, 4 connections
# at 50 requests/s each (200/s) of 100 bytes, S seconds (default 10).
# Abusers: bench/e2e/abuse.sh, one connection after another for the run.
# Prints a JSON line per attack and a table; exit 1 when a median ratio is
# above 2 or the witness had a failed request.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
RG_REPO=$REPO
PY="$HERE/e2e/e2e.py"
FRAMES="$REPO/tests/integration/h2_frames.py"
REGIONGATE=$REPO/build/proxy/regiongate
SECONDS_PER_RUN=10
ROUNDS=3
ONLY=""
while (($#)); do
  case $1 in
    --seconds) SECONDS_PER_RUN=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --only) ONLY=$2; shift ;;
    --regiongate) REGIONGATE=$2; shift ;;
    *) echo "attacks: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
NAME=attacks
# shellcheck source=bench/e2e/harness.sh
source "$HERE/e2e/harness.sh"
CPU_PROXY=0
# shellcheck source=bench/e2e/regiongate.sh
source "$HERE/e2e/regiongate.sh"
# shellcheck source=bench/e2e/abuse.sh
source "$HERE/e2e/abuse.sh"
for tool in h2load nghttpd python3 curl taskset; do command -v $tool >/dev/null || die "$tool not found"; done
(($(nproc) >= 2)) || die "needs 2 CPUs (the gateway on one, the clients on the other)"

abuse_start_gateway 0 1
abuse_write_scripts
# name:seconds each connection is held (as in soak.sh)
ATTACKS=(rapid-reset:10 hpack-bomb:10 control-flood:10 ping-flood:10 zero-window:15 slow-headers:15
         silent:15)
[[ -n $ONLY ]] && ATTACKS=("$(printf '%s\n' "${ATTACKS[@]}" | grep "^$ONLY:")")

# witness LOG: the well-behaved client for SECONDS_PER_RUN; its summary in LOG.out.
witness() {
  taskset -c 1 nice -n -5 h2load -D "$SECONDS_PER_RUN" -c 4 -m 1 --rps 50 -t 1 \
    --log-file="$1" "${HEADERS[@]}" "http://127.0.0.1:$PORT/b" >"$1.out" 2>&1
}
# A run: the machine's busy/steal ticks around the witness (e2e.py's sample).
machine() { python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import e2e; print(e2e.machine_sample())' "$HERE/e2e"; }

: >"$TMP/runs.jsonl"
for round in $(seq 1 "$ROUNDS"); do
  for spec in "${ATTACKS[@]}"; do
    attack=${spec%%:*} hold=${spec##*:}
    for phase in alone attacked; do
      log="$TMP/$attack.$round.$phase"
      if [[ $phase == attacked ]]; then
        END=$(($(date +%s) + SECONDS_PER_RUN + 7))  # abuse() stops 5 s before END
        # Pinned and niced from inside, before it starts a client (children inherit both).
        (taskset -pc 1 $BASHPID >/dev/null && renice -n 10 -p $BASHPID >/dev/null && abuse "$attack" "$hold") &
        ABUSER=$!
        PIDS+=("$ABUSER")
      fi
      before=$(machine)
      witness "$log" || true
      after=$(machine)
      if [[ $phase == attacked ]]; then
        stop_pid "$ABUSER"
        pkill -f "$TMP/$attack.json" 2>/dev/null || true  # its client of the moment
      fi
      echo "{\"attack\": \"$attack\", \"round\": $round, \"phase\": \"$phase\", \"log\": \"$log\"," \
        "\"machine\": [\"$before\", \"$after\"]}" >>"$TMP/runs.jsonl"
    done
  done
done
curl -sf "http://127.0.0.1:$ADMIN/metrics" >"$TMP/final.metrics" || true

python3 - "$TMP/runs.jsonl" "$TMP/final.metrics" <<'PY'
import json, re, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]

def p99(log):
    ms = sorted(int(l.split("\t")[2]) / 1000.0 for l in open(log) if l.count("\t") >= 2)
    return ms[min(len(ms) - 1, int(0.99 * len(ms)))] if ms else None

def failures(out):
    text = open(out).read()
    m = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", text)
    return (int(m.group(2)), sum(int(x) for x in m.groups()[2:])) if m else (0, -1)

def steal(machine):
    (b0, s0, t0), (b1, s1, t1) = (map(int, m.split(":")) for m in machine)
    return round(100.0 * (s1 - s0) / max(1, t1 - t0), 1)

closed = {}
for line in open(sys.argv[2]):
    m = re.match(r'regiongate_client_connection_errors_total\{.*reason="([^"]+)".*\} (\S+)', line)
    if m:
        closed[m.group(1)] = closed.get(m.group(1), 0) + int(float(m.group(2)))

problems, rows = [], []
for attack in dict.fromkeys(r["attack"] for r in runs):
    ratios, alone, attacked, bad, steals = [], [], [], 0, []
    for rnd in sorted({r["round"] for r in runs if r["attack"] == attack}):
        pair = {r["phase"]: r for r in runs if r["attack"] == attack and r["round"] == rnd}
        a, b = p99(pair["alone"]["log"]), p99(pair["attacked"]["log"])
        for r in pair.values():
            ok, failed = failures(r["log"] + ".out")
            bad += failed if failed > 0 else 0
            if failed < 0 or ok == 0:
                bad += 1
            steals.append(steal(r["machine"]))
        if a and b:
            alone.append(a)
            attacked.append(b)
            ratios.append(b / a)
    row = {"attack": attack, "p99_ms_alone": round(statistics.median(alone), 2) if alone else None,
           "p99_ms_attacked": round(statistics.median(attacked), 2) if attacked else None,
           "p99_ratio_median": round(statistics.median(ratios), 2) if ratios else None,
           "p99_ratios": [round(x, 2) for x in ratios], "witness_failures": bad,
           "steal_pct_max": max(steals) if steals else None}
    rows.append(row)
    print(json.dumps(row))
    if bad:
        problems.append(f"{attack}: the witness had {bad} failed requests")
    if row["p99_ratio_median"] is None or row["p99_ratio_median"] > 2:
        problems.append(f"{attack}: witness p99 x{row['p99_ratio_median']} of its baseline")
print("\n| attack | witness p99 alone (ms) | attacked (ms) | ratio (median) | per round | steal max % |")
print("|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['attack']} | {r['p99_ms_alone']} | {r['p99_ms_attacked']} | {r['p99_ratio_median']} | "
          f"{', '.join(map(str, r['p99_ratios']))} | {r['steal_pct_max']} |")
print("\nconnections the gateway closed, by reason:", json.dumps(closed))
print("verdict:", "within 2x" if not problems else "; ".join(problems))
sys.exit(1 if problems else 0)
PY
