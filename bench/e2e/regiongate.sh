# shellcheck shell=bash
# The regiongate target of bench/e2e.sh, kept on its own so that it follows
# `regiongate serve` as it grows. Sourced by bench/e2e.sh; uses its helpers
# (start_bg, stop_pid, wait_log, die, note) and variables (TMP, PY,
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

# rg_write_config DIR ORIGIN_PORT TLS CERT KEY [PROFILE]: a configuration
# whose single data centre (country SG) is the origin and whose policy sends
# every account country there; its listeners take port 0 (regiongate prints
# the ports it got). TLS "-" leaves the TLS listener out. PROFILE "observed"
# adds what an operator runs in production on top of the access log: health
# checks of the origin every second, the admin listener (scraped once a
# second by rg_start) and the audit log (its default records: refusals and
# data served abroad; this workload is served at home). "audit-all" is
# observed with an audit record of every decision (SHA-256-chained).
# "nolog" is plain without the access log. "tokens" is plain with verified
# bearer tokens: an RS256 key, the account country from the token's claim
# (rg_bearer DIR prints the token every request sends: one phone's, so the
# worker's cache answers all but the first); "tokens-edge" does not forward
# the token to the data centre (tokens.forward: false). "redis" has the
# account directory in a redis-server on a Unix socket (rg_redis), the
# worker's cache answering all but the first lookup; "redis-nocache" asks
# Redis on every request (cache: {entries: 0}).
rg_write_config() {
  local dir=$1 origin_port=$2 tls=$3 cert=$4 key=$5 profile=${6:-plain}
  mkdir -p "$dir"
  [[ $profile == tokens* ]] && rg_make_token "$dir"
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
  order: [$([[ $profile == tokens* ]] && echo "token, ")directory, geoip]
  account_header: x-account-id
  trusted_proxies: []
$(if [[ $profile == redis* ]]; then
    printf 'directory:\n  redis:\n    nodes: ["unix:%s/redis.sock"]\n' "$dir"
    [[ $profile == redis-nocache ]] && printf '    cache: {entries: 0}\n'
  else
    printf 'directory:\n  file: accounts.csv\n'
  fi)
geoip:
  database: demo.mmdb
  country_paths: [country.iso_code, registered_country.iso_code]
$([[ $profile == tokens* ]] && printf 'tokens:\n  keys: [{file: rsa.pem, kid: bench}]\n  audience: regiongate\n')
$([[ $profile == tokens-edge ]] && printf '  forward: false\n')
server:
  workers: 1
  access_log: $([[ $profile == nolog ]] && echo off || { [[ $profile == devnull ]] && echo /dev/null; } || echo access.log)
YAML
    if [[ $profile == observed || $profile == audit-all ]]; then
      local records=refusals-and-abroad
      [[ $profile == audit-all ]] && records=all
      cat <<YAML
  audit_log: {file: audit.log, records: $records}
  health: {path: /b, interval: 1s, timeout: 1s, rise: 2, fall: 3}
  admin: {address: "127.0.0.1:0"}
YAML
    fi
    cat <<YAML
  listen:
    - address: 127.0.0.1:0
YAML
    if [[ $tls != - ]]; then
      cat <<YAML
    - address: 127.0.0.1:0
      tls:
        certificates:
          - cert: ${cert}
            key: ${key}
YAML
    fi
  } >"$dir/regiongate.yaml"
}

# rg_make_token DIR: an RSA key (DIR/rsa.key, DIR/rsa.pem) and DIR/bearer, an
# RS256 token for an Indian account signed with it (openssl does the
# signature; python3 only assembles the JSON and base64url).
rg_make_token() {
  local dir=$1
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/rsa.key" 2>/dev/null &&
    openssl pkey -in "$dir/rsa.key" -pubout -out "$dir/rsa.pem" || die "openssl could not make a key"
  python3 - "$dir" <<'PY' || die "could not sign the bench token"
import base64, json, subprocess, sys
d = sys.argv[1]
b = lambda x: base64.urlsafe_b64encode(x).rstrip(b"=").decode()
head = b(json.dumps({"alg": "RS256", "kid": "bench"}).encode())
body = b(json.dumps({"sub": "bench-sg", "country": "SG", "aud": "regiongate",
                     "exp": 4102444800, "consents": []}).encode())
sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", f"{d}/rsa.key"],
                     input=f"{head}.{body}".encode(), capture_output=True, check=True).stdout
open(f"{d}/bearer", "w").write(f"{head}.{body}.{b(sig)}")
PY
}

# rg_redis DIR BIN: a redis-server on DIR/redis.sock (no TCP port), on the
# load generator's CPU, holding DIR/accounts.csv loaded by BIN's
# `accounts load`.
rg_redis() {
  local dir=$1 bin=$2 i
  command -v redis-server >/dev/null || die "redis-server not found (scripts/install-deps.sh installs it)"
  start_bg RG_REDIS_PID "$dir/redis.log" "$CPU_LOAD" redis-server --port 0 \
    --unixsocket "$dir/redis.sock" --unixsocketperm 700 --save "" --appendonly no --dir "$dir"
  for ((i = 0; i < 200; i++)); do
    [[ $(redis-cli -s "$dir/redis.sock" ping 2>/dev/null) == PONG ]] && break
    kill -0 "$RG_REDIS_PID" 2>/dev/null || die "redis-server did not start ($(cat "$dir/redis.log"))"
    sleep 0.05  # polling a condition (the server answering), with a bound
  done
  [[ $(redis-cli -s "$dir/redis.sock" ping 2>/dev/null) == PONG ]] || die "redis-server does not answer on $dir/redis.sock"
  "$bin" accounts load "$dir/accounts.csv" --redis "unix:$dir/redis.sock" >/dev/null ||
    die "accounts load into redis failed"
}

# rg_start NAME BIN ORIGIN_PORT CERT KEY [PROFILE]: starts `regiongate serve` on
# CPU_PROXY, its files in $TMP/NAME (NAME: regiongate, or baseline for the
# build it is compared with). Sets RG_PID, RG_PORT and RG_TLS_PORT (""
# when this build has no TLS listener yet: that mode is then skipped with a
# message, not failed), the ports as the gateway prints them ("listening on
# cleartext 127.0.0.1:PORT"; a build that printed the configured 0 instead:
# from /proc, when it listens on one port only).
rg_start() {
  local name=$1 bin=$2 origin_port=$3 cert=$4 key=$5 profile=${6:-plain} dir="$TMP/$1" attempt tls
  if [[ $profile == redis* ]]; then
    rg_write_config "$dir" "$origin_port" - "$cert" "$key" "$profile"  # accounts.csv
    rg_redis "$dir" "$bin"
  fi
  for attempt in tls cleartext; do
    tls=$attempt
    [[ $attempt == cleartext ]] && tls=-
    rg_write_config "$dir" "$origin_port" "$tls" "$cert" "$key" "$profile"
    start_bg RG_PID "$dir/serve.log" "$CPU_PROXY" "$bin" serve \
      --config "$dir/regiongate.yaml" --now 2015-07-01T00:00:00Z
    if wait_log "$dir/serve.log" 'regiongate: serving with' 10 "$RG_PID" >/dev/null; then
      RG_PORT=$(wait_log "$dir/serve.log" 'listening on cleartext 127\.0\.0\.1:([0-9]+)' 0 "$RG_PID" || true)
      RG_TLS_PORT=""
      [[ $tls == - ]] ||
        RG_TLS_PORT=$(wait_log "$dir/serve.log" 'listening on tls 127\.0\.0\.1:([0-9]+)' 0 "$RG_PID" || true)
      if [[ $RG_PORT == 0 && $tls == - ]]; then
        RG_PORT=$(python3 "$PY" listen-port "$RG_PID" 5 || true)
        [[ $RG_PORT =~ ^[0-9]+$ ]] || RG_PORT=0
      fi
      if [[ $RG_PORT =~ ^[1-9][0-9]*$ && ( $tls == - || $RG_TLS_PORT =~ ^[1-9][0-9]*$ ) ]]; then
        [[ $profile == observed || $profile == audit-all ]] && rg_scrape "$name" "$dir"
        return 0
      fi
      stop_pid "$RG_PID"
      [[ $tls == - ]] || { note "$name: cannot tell its TLS port; tls mode skipped for $name"; continue; }
      sed "s/^/  $name: /" "$dir/serve.log" >&2
      die "$name: regiongate serve did not say which port it listens on (log above)"
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

# rg_scrape NAME DIR: reads NAME's /metrics once a second for as long as the
# run lasts, as a Prometheus server would (the admin thread's cost is part
# of the gateway's CPU), on the load generator's CPU.
rg_scrape() {
  local name=$1 dir=$2 admin
  admin=$(wait_log "$dir/serve.log" 'admin listening on 127\.0\.0\.1:([0-9]+)' 5 "$RG_PID") ||
    die "$name: no admin listener (log in $dir/serve.log)"
  start_bg RG_SCRAPER_PID "$dir/scrape.log" "$CPU_LOAD" bash -c \
    "while curl -sf -o /dev/null http://127.0.0.1:$admin/metrics; do sleep 1; done"
}
