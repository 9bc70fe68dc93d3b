# shellcheck shell=bash
# What bench/callgrind.sh and bench/log_cost.sh share: messages, a temp dir
# and the processes they start, stopped by PID on exit. Set NAME first.
note() { echo "$NAME: $*" >&2; }
die() { echo "$NAME: error: $*" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regiongate-$NAME.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
# start_bg VAR LOG CPU CMD...: CMD in the background, pinned to CPU ("-": not).
start_bg() {
  local var=$1 log=$2 cpu=$3; shift 3
  if [[ $cpu == - ]]; then "$@" >"$log" 2>&1 & else taskset -c "$cpu" "$@" >"$log" 2>&1 & fi
  PIDS+=("$!")
  printf -v "$var" '%s' "$!"
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
wait_log() { python3 "$PY" wait-log "$@"; }
