#!/usr/bin/env bash
# mTLS benchmark (issue 16): what an mTLS hop costs a tollway sidecar's inbound listener against nginx with the same
# certificates and `ssl_verify_client on`, in the same run, and the control plane CA's issuance rate.
# - Servers, each pinned to core 1, each proxying to the benchmarks' nginx origin (core 0): (t) a tollway sidecar's
#   inbound listener (mTLS only, the client's SPIFFE ID checked against the bundle and authorized by one allow rule,
#   then the local "agent" = the origin); (n) nginx, one worker, `ssl_verify_client on` against the same CA,
#   `proxy_pass` to the origin over kept-alive connections. Both: TLS 1.3, P-256 X.509-SVIDs (one URI SAN), no
#   session resumption offered by the client.
# - Handshakes: bench/mtls/client.mjs (core 0) opens HANDSHAKES connections, 4 at a time, each closed once the
#   handshake completed; server CPU per handshake = utime+stime (/proc/PID/stat, nginx: master + worker) / count.
#   Latency: LATENCY_COUNT handshakes one at a time, p50/p99 as the client sees them.
# - Kept-alive requests: REQUESTS POSTs over 16 kept-alive mTLS connections; server CPU per request.
# - CA: build/release/bench/mtls/ca_bench (Google Benchmark, core 1): SVIDs issued per second, with the CSR check
#   and one ECDSA P-256 signature as references.
# Medians over REPS repetitions. Prints the markdown section and writes it into docs/benchmarks.md under
# "## mTLS (bench/mtls)" (NO_DOC=1: not); raw output in build/bench/mtls/.
# Usage: bench/mtls/run.sh   env: TOLLWAY_BIN, REPS (3), HANDSHAKES (3000), LATENCY_COUNT (500), REQUESTS (20000),
#                                 NO_DOC=1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/mtls"
source "$ROOT/bench/lib/nginx_origin.sh"  # write_nginx_origin
source "$ROOT/bench/lib/processes.sh"  # free_ports, wait_log
source "$ROOT/bench/lib/svid.sh"  # make_bench_ca, issue_svid
OUT="$ROOT/build/bench/mtls"
TOLLWAY_BIN="${TOLLWAY_BIN:-$ROOT/build/release/tollway}"
CA_BENCH="${CA_BENCH:-$ROOT/build/release/bench/mtls/ca_bench}"
REPS="${REPS:-3}"
HANDSHAKES="${HANDSHAKES:-3000}"
LATENCY_COUNT="${LATENCY_COUNT:-500}"
REQUESTS="${REQUESTS:-20000}"
CORE_LOAD=0
CORE_SERVER=1
TD=bench.example.org

for tool in nginx taskset node openssl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (scripts/install-deps.sh --bench)" >&2; exit 1; }
done
[ -x "$TOLLWAY_BIN" ] || { echo "run.sh: $TOLLWAY_BIN not built" >&2; exit 1; }
[ -x "$CA_BENCH" ] || cmake --build "$ROOT/build/release" --target ca_bench >/dev/null

rm -rf "$OUT"
mkdir -p "$OUT"/{tls,origin,nginx/logs,nginx/tmp}

# ---- certificates: a P-256 CA, X.509-SVIDs with one URI SAN -----------------------------------------------------------
make_bench_ca "$OUT/tls" mtls-bench-ca
SERVER_ID="spiffe://$TD/ns/bench/sa/server"
CLIENT_ID="spiffe://$TD/ns/bench/sa/client"
issue_svid "$OUT/tls" server "$SERVER_ID"
issue_svid "$OUT/tls" client "$CLIENT_ID"

mapfile -t P < <(free_ports 5)
ORIGIN_PORT=${P[0]} SIDECAR_IN=${P[1]} SIDECAR_OUT=${P[2]} SIDECAR_ADMIN=${P[3]} NGINX_PORT=${P[4]}

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in origin nginx; do [ -f "$OUT/$d/nginx.pid" ] && kill "$(cat "$OUT/$d/nginx.pid")" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

write_nginx_origin "$OUT/origin" "$ORIGIN_PORT"
taskset -c $CORE_LOAD nginx -p "$OUT/origin" -c "$OUT/origin/nginx.conf"

# ---- (t) the sidecar's inbound listener --------------------------------------------------------------------------------
cat > "$OUT/sidecar.yaml" <<YAML
version: 1
sidecar:
  spiffe_id: $SERVER_ID
  outbound: 127.0.0.1:$SIDECAR_OUT
  inbound: 127.0.0.1:$SIDECAR_IN
  admin: 127.0.0.1:$SIDECAR_ADMIN
  agent: 127.0.0.1:$ORIGIN_PORT
  workers: 1
  tls: {cert_file: $OUT/tls/server.pem, key_file: $OUT/tls/server.key, bundle_file: $OUT/tls/ca.pem}
peers: {}
authorization:
  - {action: allow, from: ["$CLIENT_ID"]}
YAML
taskset -c $CORE_SERVER "$TOLLWAY_BIN" sidecar --config "$OUT/sidecar.yaml" 2> "$OUT/sidecar.log" &
SIDECAR_PID=$!; PIDS+=("$SIDECAR_PID")

# ---- (n) nginx with ssl_verify_client on --------------------------------------------------------------------------------
cat > "$OUT/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $OUT/nginx/tmp/body; proxy_temp_path $OUT/nginx/tmp/proxy;
  fastcgi_temp_path $OUT/nginx/tmp/fcgi; uwsgi_temp_path $OUT/nginx/tmp/uwsgi; scgi_temp_path $OUT/nginx/tmp/scgi;
  keepalive_requests 1000000;
  upstream origin { server 127.0.0.1:$ORIGIN_PORT; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_protocols TLSv1.3;
    ssl_certificate $OUT/tls/server.pem;
    ssl_certificate_key $OUT/tls/server.key;
    ssl_client_certificate $OUT/tls/ca.pem;
    ssl_verify_client on;
    location / {
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_pass http://origin;
    }
  }
}
CONF
taskset -c $CORE_SERVER nginx -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf"

wait_log "$OUT/sidecar.log" '"sidecar ready"' sidecar
NGINX_PIDS="$(cat "$OUT/nginx/nginx.pid") $(pgrep -P "$(cat "$OUT/nginx/nginx.pid")" | tr '\n' ' ')"

client() { # mode port args...
  local mode=$1 port=$2
  shift 2
  taskset -c $CORE_LOAD node "$HERE/client.mjs" "$mode" --port "$port" --cert "$OUT/tls/client.pem" \
    --key "$OUT/tls/client.key" --ca "$OUT/tls/ca.pem" "$@"
}
ticks() { # pids... -> utime+stime in clock ticks, summed
  local sum=0 p
  for p in "$@"; do sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
  echo "$sum"
}
HZ=$(getconf CLK_TCK)
# Both answer a kept-alive mTLS request with the origin's body.
for port in "$SIDECAR_IN" "$NGINX_PORT"; do
  r=$(client keepalive "$port" --count 4 --concurrency 1 --path /v1/chat/completions)
  grep -q '"200":4' <<< "$r" || { echo "run.sh: port $port answered $r" >&2; exit 1; }
done

RAW="$OUT/raw.txt"; : > "$RAW"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for rep in $(seq 1 "$REPS"); do
  for server in tollway nginx; do
    if [ "$server" = tollway ]; then port=$SIDECAR_IN; pids=$SIDECAR_PID; else port=$NGINX_PORT; pids=$NGINX_PIDS; fi
    # shellcheck disable=SC2086
    before=$(ticks $pids)
    hs=$(client handshake "$port" --count "$HANDSHAKES" --concurrency 4)
    # shellcheck disable=SC2086
    after=$(ticks $pids)
    echo "$rep $server handshake $(( (after - before) * 1000000 / HZ )) $hs" >> "$RAW"
    lat=$(client handshake "$port" --count "$LATENCY_COUNT" --concurrency 1)
    echo "$rep $server latency 0 $lat" >> "$RAW"
    # shellcheck disable=SC2086
    before=$(ticks $pids)
    ka=$(client keepalive "$port" --count "$REQUESTS" --concurrency 16 --path /v1/chat/completions)
    # shellcheck disable=SC2086
    after=$(ticks $pids)
    echo "$rep $server keepalive $(( (after - before) * 1000000 / HZ )) $ka" >> "$RAW"
  done
  echo "  rep $rep/$REPS done" >&2
done
taskset -c $CORE_SERVER "$CA_BENCH" --benchmark_repetitions="$REPS" --benchmark_report_aggregates_only=true \
  --benchmark_format=json > "$OUT/ca.json" 2> /dev/null
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

node "$HERE/report.mjs" --raw "$RAW" --ca "$OUT/ca.json" --doc "$ROOT/docs/benchmarks.md" ${NO_DOC:+--no-doc} \
  --reps "$REPS" --handshakes "$HANDSHAKES" --latency-count "$LATENCY_COUNT" --requests "$REQUESTS" \
  --load-start "$LOAD_START" --load-end "$LOAD_END" \
  --tollway-version "$("$TOLLWAY_BIN" version 2>/dev/null | head -1)" --nginx-version "$(nginx -v 2>&1)"
