# shellcheck shell=bash
# The regiongate target of bench/e2e.sh, kept on its own so that it follows
# `regiongate serve` as it grows. Sourced by bench/e2e.sh; uses its helpers
# (start_bg, stop_pid, freeport, wait_port, die, note) and variables (TMP,
# CPU_PROXY, RG_REPO).
#
# Workload parity with nghttpx: one worker, pinned to the proxy core,
# access log to a file, the residency decision on every request (service
# classification, account directory lookup by x-account-id, GeoIP of the
# client address, decide()), forwarding to the same cleartext nghttpd origin.

# rg_supported BIN: 0 when BIN has a `serve` subcommand.
rg_supported() {
  local bin=$1
  [[ -x $bin ]] || return 1
  "$bin" serve --help >/dev/null 2>&1
}

# rg_write_config DIR ORIGIN_PORT PORT TLS_PORT CERT KEY: a configuration
# whose single data centre (country SG) is the origin and whose policy sends
# every account country there. TLS_PORT "-" leaves the TLS listener out.
rg_write_config() {
  local dir=$1 origin_port=$2 port=$3 tls_port=$4 cert=$5 key=$6
  mkdir -p "$dir"
  [[ -f $RG_REPO/examples/geoip/demo.mmdb ]] ||
    die "regiongate: $RG_REPO/examples/geoip/demo.mmdb not found (the GeoIP database of the config)"
  cp "$RG_REPO/examples/geoip/demo.mmdb" "$dir/demo.mmdb"
  printf 'bench-sg,SG\n' >"$dir/accounts.csv"
  cat >"$dir/policy.yaml" <<YAML
version: 1
groups:
  everyone:
    all_except: []
services:
  api:
    match:
      - host: api.example.com
rules:
  - id: bench
    accounts: everyone
    allow: [SG]
YAML
  {
    cat <<YAML
policy: policy.yaml
datacenters:
  origin:
    country: SG
    city: Singapore
    latitude: 1.3521
    longitude: 103.8198
    endpoints:
      - 127.0.0.1:${origin_port}
identity:
  order: [directory, geoip]
  account_header: x-account-id
  trusted_proxies: []
directory:
  file: accounts.csv
geoip:
  database: demo.mmdb
  country_paths: [country.iso_code, registered_country.iso_code]
server:
  workers: 1
  access_log: access.log
  listen:
    - address: 127.0.0.1:${port}
YAML
    if [[ $tls_port != - ]]; then
      cat <<YAML
    - address: 127.0.0.1:${tls_port}
      tls:
        certificates:
          - cert: ${cert}
            key: ${key}
YAML
    fi
  } >"$dir/regiongate.yaml"
}

# rg_start NAME BIN ORIGIN_PORT CERT KEY: starts `regiongate serve` on
# CPU_PROXY, its files in $TMP/NAME (NAME: regiongate, or baseline for the
# build it is compared with). Sets RG_PID, RG_PORT and RG_TLS_PORT (""
# when this build has no TLS listener yet: that mode is then skipped with a
# message, not failed).
rg_start() {
  local name=$1 bin=$2 origin_port=$3 cert=$4 key=$5 dir="$TMP/$1" attempt
  RG_PORT=$(freeport)
  RG_TLS_PORT=$(freeport)
  for attempt in tls cleartext; do
    [[ $attempt == cleartext ]] && RG_TLS_PORT=""
    rg_write_config "$dir" "$origin_port" "$RG_PORT" "${RG_TLS_PORT:--}" "$cert" "$key"
    start_bg RG_PID "$dir/serve.log" "$CPU_PROXY" "$bin" serve \
      --config "$dir/regiongate.yaml" --now 2015-07-01T00:00:00Z
    if wait_port "$RG_PORT" 10 "$RG_PID" && { [[ -z $RG_TLS_PORT ]] || wait_port "$RG_TLS_PORT" 5 "$RG_PID"; }; then
      return 0
    fi
    stop_pid "$RG_PID"
    if [[ $attempt == tls ]] && grep -qi 'tls' "$dir/serve.log"; then
      note "$name: TLS listener not available in this build ($(grep -i -m1 tls "$dir/serve.log")); tls mode skipped for $name"
      continue
    fi
    sed "s/^/  $name: /" "$dir/serve.log" >&2
    die "$name: regiongate serve did not start (log above)"
  done
}
