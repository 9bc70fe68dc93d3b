# shellcheck shell=bash
# What bench/callgrind.sh and bench/log_cost.sh share: messages, a temp dir
# and the processes they start, stopped by PID on exit. Set NAME first.
note() { echo "$NAME: $*" >&2; }
die() { echo "$NAME: error: $*" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/regiongate-$NAME.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
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
# stop_pid PID: SIGTERM, sent again every 0.1 s while PID runs, SIGKILL
# after 10 s; then reaped. Once is not enough: a signal that lands between
# the fork and the exec of a process just started is taken by the handler
# the child inherited from this shell, and lost (log_cost.sh stops the
# metrics scraper right after rg_start starts it, and hung on this).
stop_pid() {
  local i
  for ((i = 0; i < 100; i++)); do
    running "$1" && kill "$1" 2>/dev/null || break
    sleep 0.1
  done
  running "$1" && kill -9 "$1" 2>/dev/null
  wait "$1" 2>/dev/null || true
}
# running PID: it exists and is not a zombie.
running() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) && [[ ${state%% *} != Z ]]
}
wait_log() { python3 "$PY" wait-log "$@"; }
