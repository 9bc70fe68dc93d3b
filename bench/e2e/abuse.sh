# shellcheck shell=bash
# What bench/soak.sh and bench/attacks.sh share: the gateway and its origin,
# and the abusive clients (tests/integration/h2_frames.py scripts, and
# connection churn). Source after harness.sh and regiongate.sh.

HEADERS=(-H ':authority: api.example.com' -H 'x-account-id: bench-sg')

# abuse_start_gateway GATEWAY_CPU ORIGIN_CPU ("-": not pinned): an nghttpd
# origin serving /b (100 bytes) and /big (1 MiB), and regiongate in
# bench/e2e/regiongate.sh's "observed" configuration in front of it. Sets
# ORIGIN_PID, RG_PID, PORT, ADMIN and dir (the gateway's files).
abuse_start_gateway() {
  mkdir -p "$TMP/docroot"
  head -c 100 /dev/zero | tr '\0' 'x' >"$TMP/docroot/b"
  head -c $((1 << 20)) /dev/zero | tr '\0' 'y' >"$TMP/docroot/big"
  start_bg ORIGIN_PID "$TMP/origin.log" "$2" nghttpd --no-tls -a 127.0.0.1 -n 1 -d "$TMP/docroot" 0
  ORIGIN_PORT=$(python3 "$PY" listen-port "$ORIGIN_PID" 10) || die "nghttpd did not start"

  dir="$TMP/rg"
  rg_write_config "$dir" "$ORIGIN_PORT" - - - observed
  start_bg RG_PID "$dir/serve.log" "$1" "$REGIONGATE" serve --config "$dir/regiongate.yaml" \
    --now 2015-07-01T00:00:00Z
  PORT=$(wait_log "$dir/serve.log" 'listening on cleartext 127\.0\.0\.1:([0-9]+)' 30 "$RG_PID") ||
    { cat "$dir/serve.log" >&2; die "regiongate did not start"; }
  ADMIN=$(wait_log "$dir/serve.log" 'admin listening on 127\.0\.0\.1:([0-9]+)' 10 "$RG_PID") ||
    die "no admin listener"
  note "$(grep -o 'serving with.*' "$dir/serve.log"); port $PORT, admin $ADMIN"
}

# abuse_write_scripts: the abusers' scripts (h2_frames.py's format), as
# $TMP/NAME.json.
abuse_write_scripts() {
  python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
get = lambda path: [[":method", "GET"], [":scheme", "http"], [":authority", "api.example.com"],
                    [":path", path], ["x-account-id", "bench-sg"]]
scripts = {
    "rapid-reset": [{"preface": True}, {"settings": []}] + [
        s for i in range(300) for s in ({"headers": get("/b"), "stream": 2 * i + 1, "end_stream": True},
                                         {"rst_stream": 8, "stream": 2 * i + 1})],
    "zero-window": [{"preface": True}, {"settings": [[4, 0]]}] + [
        {"headers": get("/big"), "stream": 2 * i + 1, "end_stream": True} for i in range(50)] + [{"pause": True}],
    "slow-headers": [{"preface": True}, {"settings": []},
                     {"headers": get("/b")[:2], "stream": 1, "end_headers": False}, {"pause": True}],
    "ping-flood": [{"preface": True}, {"settings": []}, {"flood": 1000000}],
    "silent": [{"pause": True}],
    "hpack-bomb": [{"preface": True}, {"settings": []}] + [
        {"hpack_bomb": get("/b"), "stream": 2 * i + 1, "size": 4000, "refs": 3000} for i in range(300)],
    "control-flood": [{"preface": True}, {"settings": []}] + [
        {"repeat": f, "times": 2000} for f in ({"priority": 0, "stream": 3},
                                               {"window_update": 1, "stream": 0}, {"settings": []})],
}
for name, steps in scripts.items():
    with open(f"{tmp}/{name}.json", "w") as f:
        json.dump({"steps": steps}, f)
PY
}
# abuse NAME SECONDS: runs NAME's script, one connection after another, each
# held at most SECONDS where it pauses, until 5 s before $END (seconds since
# the epoch), in one Python process (h2_frames.py --loop: no interpreter
# start per connection to weigh on the machine); the connections it made
# in $TMP/NAME.count.
abuse() {
  local name=$1 hold=$2 left=$((END - 5 - $(date +%s)))
  ((left > 0)) || return 0
  timeout -k 2 $((left + hold + 15)) /usr/bin/python3 "$FRAMES" "$PORT" "$TMP/$name.json" \
    --loop "$left" "$hold" 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["connections"])' >"$TMP/$name.count" 2>/dev/null || true
}
# churn: h2load, 50 connections of one request each, again and again, as long.
churn() {
  local n=0
  while (($(date +%s) < END - 5)); do
    timeout -k 2 30 h2load -n 50 -c 50 -m 1 -t 1 "${HEADERS[@]}" "http://127.0.0.1:$PORT/b" \
      >"$TMP/churn.last" 2>&1 || true
    n=$((n + 1))
    echo "$n" >"$TMP/churn.count"
  done
}
