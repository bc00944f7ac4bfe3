#!/usr/bin/env bash
# Proxy benchmark: wrk against (a) the origin directly, (b) nginx as a plain keep-alive reverse proxy (1 worker),
# (c) the tollway gateway (--workers 1), (d) tollway with `auth:` on, (e) tollway with everything on (auth, an
# exact-token rate limit per key, a USD budget per tenant, telemetry with 10 % trace sampling exported over OTLP),
# (f) nginx and (g) tollway terminating TLS with the same certificate, and, when BEFORE_BIN names another tollway
# binary (e.g. built from an earlier commit), (h) that binary with (c)'s config — all in one run. Proxies are pinned
# to core 1, wrk and the origin to core 0. Usage extraction is always on in tollway (every proxied response is read
# for its usage), so (c) is the usage-on run; (d) adds caller authentication with a virtual key (wrk sends
# `Authorization: Bearer tw-…`, the auth filter hashes it and looks it up, the authz filter checks the key's policy).
#
# Two measurements, both by default (MODE=both):
# - wall (MODE=wall): added latency p50/p99 at c=1 (proxy minus direct), rps at c=16 and c=64, CPU µs per request
#   (utime+stime from /proc/PID/stat) and idle RSS of each proxy; medians of REPS repetitions. Noisy on a shared
#   machine: the load average is recorded next to the numbers.
# - count (MODE=count): noise-free cost per request. Each proxy runs under `valgrind --tool=callgrind`, is warmed
#   up, its counters are zeroed (`callgrind_control -z`), wrk sends COUNT_DURATION of requests at c=16, and the
#   user-space instructions (Ir) of the whole process are divided by the requests wrk completed. The kernel side
#   is counted without valgrind: syscalls and context switches per request (`perf stat -e
#   raw_syscalls:sys_enter,context-switches -p PID` over a 3 s run at c=16), when perf can read tracepoints here.
# Writes the tables into docs/benchmarks.md under "## Proxy (bench/proxy)" (only that section) and raw numbers to
# build/bench/proxy/ (results.json, raw.txt, counts.txt, callgrind.*.out.* for callgrind_annotate).
#
# Usage: bench/proxy/run.sh   env: TOLLWAY_BIN, BEFORE_BIN (+ BEFORE_LABEL), MODE (both|wall|count), REPS (3), DURATION (5s),
#                                  COUNT_DURATION (8s), ORIGIN (nginx|node), NO_DOC=1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/proxy"
source "$ROOT/bench/lib/nginx_origin.sh"  # write_nginx_origin
OUT="$ROOT/build/bench/proxy"
TOLLWAY_BIN="${TOLLWAY_BIN:-$ROOT/build/release/tollway}"
BEFORE_BIN="${BEFORE_BIN:-}"
MODE="${MODE:-both}"
REPS="${REPS:-3}"
DURATION="${DURATION:-5s}"
COUNT_DURATION="${COUNT_DURATION:-8s}"
ORIGIN="${ORIGIN:-nginx}"
CORE_LOAD=0   # wrk + origin
CORE_PROXY=1  # nginx proxy, tollway
ADMIN_TOKEN="bench-admin-token-0123456789"

for tool in wrk nginx taskset node curl openssl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (scripts/install-deps.sh --bench)" >&2; exit 1; }
done
case "$MODE" in both | wall | count) ;; *) echo "run.sh: MODE must be both, wall or count" >&2; exit 1 ;; esac
if [ "$MODE" != wall ]; then
  for tool in valgrind callgrind_control; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (scripts/install-deps.sh --bench), or run with MODE=wall" >&2; exit 1; }
  done
fi
[ -x "$TOLLWAY_BIN" ] || { echo "run.sh: $TOLLWAY_BIN not built (cmake --preset release && cmake --build --preset release)" >&2; exit 1; }
[ -z "$BEFORE_BIN" ] || [ -x "$BEFORE_BIN" ] || { echo "run.sh: BEFORE_BIN $BEFORE_BIN is not an executable" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "run.sh: needs 2 cores for the pinning" >&2; exit 1; }

rm -rf "$OUT/origin" "$OUT/proxy" "$OUT/proxy-tls" "$OUT/proxy-count" "$OUT/raw.txt" "$OUT/counts.txt" \
  "$OUT/results.json" "$OUT"/callgrind.* "$OUT"/perf.* "$OUT"/keys*.db* "$OUT/tls"
mkdir -p "$OUT"/{origin,proxy,proxy-tls,proxy-count}/{logs,tmp} "$OUT/tls"
# One certificate for both TLS listeners (ECDSA P-256, for 127.0.0.1).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$OUT/tls/key.pem" -out "$OUT/tls/cert.pem" 2>/dev/null

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
ORIGIN_PORT=$(free_port); NGINX_PORT=$(free_port); TOLLWAY_PORT=$(free_port); ADMIN_PORT=$(free_port)
AUTH_PORT=$(free_port); AUTH_ADMIN_PORT=$(free_port); FULL_PORT=$(free_port); FULL_ADMIN_PORT=$(free_port)
NGINX_TLS_PORT=$(free_port); TLS_PORT=$(free_port); TLS_ADMIN_PORT=$(free_port)
BEFORE_PORT=$(free_port); BEFORE_ADMIN_PORT=$(free_port)

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in origin proxy proxy-tls proxy-count; do
    [ -f "$OUT/$d/nginx.pid" ] && kill "$(cat "$OUT/$d/nginx.pid")" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# ---- origin ---------------------------------------------------------------------------------------------------
if [ "$ORIGIN" = nginx ]; then
  write_nginx_origin "$OUT/origin" "$ORIGIN_PORT"
  taskset -c $CORE_LOAD nginx -p "$OUT/origin" -c "$OUT/origin/nginx.conf"
else
  taskset -c $CORE_LOAD node "$ROOT/tests/mock/provider.mjs" --port "$ORIGIN_PORT" --fast > "$OUT/origin/mock.log" 2>&1 &
  PIDS+=($!)
fi

# ---- nginx reverse proxy (reference) --------------------------------------------------------------------------
# daemon on: master + one worker (the wall runs measure the worker); off: one foreground process (for callgrind).
# tls: the listener terminates TLS with the bench certificate (nginx's defaults otherwise, like tollway's).
write_nginx_proxy_conf() { # dir port on|off [tls]
  local listen_tls=""
  [ "${4:-}" = tls ] && listen_tls=" ssl;
    ssl_certificate $OUT/tls/cert.pem;
    ssl_certificate_key $OUT/tls/key.pem"
  cat > "$1/nginx.conf" <<EOF
worker_processes 1;
master_process $3;
daemon $3;
pid $1/nginx.pid;
error_log $1/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $1/tmp/body; proxy_temp_path $1/tmp/proxy;
  fastcgi_temp_path $1/tmp/fcgi; uwsgi_temp_path $1/tmp/uwsgi; scgi_temp_path $1/tmp/scgi;
  keepalive_requests 1000000;
  upstream origin {
    server 127.0.0.1:$ORIGIN_PORT;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$2 backlog=4096$listen_tls;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "Bearer sk-bench-provider-key";
      proxy_buffering off;
    }
  }
}
EOF
}
write_nginx_proxy_conf "$OUT/proxy" "$NGINX_PORT" on
taskset -c $CORE_PROXY nginx -p "$OUT/proxy" -c "$OUT/proxy/nginx.conf"
write_nginx_proxy_conf "$OUT/proxy-tls" "$NGINX_TLS_PORT" on tls
taskset -c $CORE_PROXY nginx -p "$OUT/proxy-tls" -c "$OUT/proxy-tls/nginx.conf"

# ---- tollway --------------------------------------------------------------------------------------------------
# The auth variants' key stores are files, so the callgrind instances of the count mode accept the same keys.
# variant: plain, auth, full (auth + an exact-token rule per key + a USD budget per tenant + telemetry exported at
# 10 % sampling to the origin, which accepts OTLP) or tls (plain behind a TLS listener).
write_gateway_config() { # file port admin-port variant
  cat > "$1" <<EOF
version: 1
gateway:
  listen: 127.0.0.1:$2
  admin: 127.0.0.1:$3
  workers: 1
providers:
  openai:
    api: openai
    base_url: http://127.0.0.1:$ORIGIN_PORT
    api_key: sk-bench-provider-key
models:
  - match: "gpt-*"
    provider: openai
routes:
  - path: /v1/chat/completions
    api: openai
    provider: openai
usage:
  log: false   # no per-call log line, like nginx's access_log off
EOF
  case "$4" in
    auth | full)
      cat >> "$1" <<EOF
auth:
  admin_token: $ADMIN_TOKEN
  virtual_keys: {store: $OUT/keys-$4.db}
EOF
      ;;
    tls)
      sed -i "s|^  workers: 1$|  workers: 1\n  tls: {cert_file: $OUT/tls/cert.pem, key_file: $OUT/tls/key.pem}|" "$1"
      ;;
  esac
  if [ "$4" = full ]; then
    cat >> "$1" <<EOF
limits:
  rules:
    - {name: key-tokens, per: [key], unit: total_tokens, limit: 1000000000000, window: 1m}
  budgets:
    - {name: tenant-day, per: [tenant], unit: cost_usd, limit: "1000000.00", period: day}
pricing:
  models: [{match: "gpt-4o-mini", input: "0.15", output: "0.60"}]
telemetry:
  tracing: {sample_ratio: 0.1}
  otlp: {endpoint: "http://127.0.0.1:$ORIGIN_PORT"}
EOF
  fi
}
write_gateway_config "$OUT/gateway.yaml" "$TOLLWAY_PORT" "$ADMIN_PORT" plain
write_gateway_config "$OUT/gateway-auth.yaml" "$AUTH_PORT" "$AUTH_ADMIN_PORT" auth
write_gateway_config "$OUT/gateway-full.yaml" "$FULL_PORT" "$FULL_ADMIN_PORT" full
write_gateway_config "$OUT/gateway-tls.yaml" "$TLS_PORT" "$TLS_ADMIN_PORT" tls
write_gateway_config "$OUT/gateway-before.yaml" "$BEFORE_PORT" "$BEFORE_ADMIN_PORT" plain
taskset -c $CORE_PROXY "$TOLLWAY_BIN" gateway --config "$OUT/gateway.yaml" --workers 1 2> "$OUT/tollway.log" &
TOLLWAY_PID=$!
PIDS+=("$TOLLWAY_PID")
# Idle RSS right after start (the target's figure): once the ready line is logged, before any request; for the
# bench config (an http:// provider) and for the default config (config/gateway.yaml: https:// providers).
rss_after_ready() { # pid log
  for _ in $(seq 1 300); do grep -q '"gateway ready"' "$2" 2>/dev/null && break; sleep 0.05; done
  awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}
RSS_TOLLWAY_START=$(rss_after_ready "$TOLLWAY_PID" "$OUT/tollway.log")
taskset -c $CORE_PROXY "$TOLLWAY_BIN" gateway --config "$ROOT/config/gateway.yaml" --workers 1 --listen 127.0.0.1:0 \
  --admin 127.0.0.1:0 2> "$OUT/tollway-default.log" &
DEFAULT_PID=$!
RSS_TOLLWAY_DEFAULT_START=$(rss_after_ready "$DEFAULT_PID" "$OUT/tollway-default.log")
kill "$DEFAULT_PID"; wait "$DEFAULT_PID" 2>/dev/null || true
taskset -c $CORE_PROXY "$TOLLWAY_BIN" gateway --config "$OUT/gateway-auth.yaml" --workers 1 2> "$OUT/tollway-auth.log" &
TOLLWAY_AUTH_PID=$!
PIDS+=("$TOLLWAY_AUTH_PID")
taskset -c $CORE_PROXY "$TOLLWAY_BIN" gateway --config "$OUT/gateway-full.yaml" --workers 1 2> "$OUT/tollway-full.log" &
TOLLWAY_FULL_PID=$!
PIDS+=("$TOLLWAY_FULL_PID")
taskset -c $CORE_PROXY "$TOLLWAY_BIN" gateway --config "$OUT/gateway-tls.yaml" --workers 1 2> "$OUT/tollway-tls.log" &
TOLLWAY_TLS_PID=$!
PIDS+=("$TOLLWAY_TLS_PID")
if [ -n "$BEFORE_BIN" ]; then
  taskset -c $CORE_PROXY "$BEFORE_BIN" gateway --config "$OUT/gateway-before.yaml" --workers 1 2> "$OUT/tollway-before.log" &
  TOLLWAY_BEFORE_PID=$!
  PIDS+=("$TOLLWAY_BEFORE_PID")
fi

wait_up() { # url log [authorization]
  for _ in $(seq 1 300); do
    if curl -kfsS -o /dev/null -X POST -H 'content-type: application/json' ${3:+-H "Authorization: $3"} \
      --data @"$HERE/request.json" "$1/v1/chat/completions" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "run.sh: $1 did not come up" >&2; cat "$2" >&2 || true; exit 1
}
wait_up "http://127.0.0.1:$ORIGIN_PORT" /dev/null
wait_up "http://127.0.0.1:$NGINX_PORT" "$OUT/proxy/logs/error.log"
wait_up "http://127.0.0.1:$TOLLWAY_PORT" "$OUT/tollway.log"
wait_up "https://127.0.0.1:$NGINX_TLS_PORT" "$OUT/proxy-tls/logs/error.log"
wait_up "https://127.0.0.1:$TLS_PORT" "$OUT/tollway-tls.log"
[ -z "$BEFORE_BIN" ] || wait_up "http://127.0.0.1:$BEFORE_PORT" "$OUT/tollway-before.log"

# A virtual key for each auth variant, made through the admin API (the answer is the only place with the secret).
create_key() { # admin-port log
  local key
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$1/healthz" 2>/dev/null && break; sleep 0.1; done
  key=$(curl -fsS -X POST -H "Authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' \
    --data '{"tenant":"bench","name":"bench"}' "http://127.0.0.1:$1/admin/keys" |
    node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>console.log(JSON.parse(s).key))')
  [ -n "$key" ] || { echo "run.sh: could not create a virtual key" >&2; cat "$2" >&2; exit 1; }
  echo "Bearer $key"
}
AUTH_HEADER=$(create_key "$AUTH_ADMIN_PORT" "$OUT/tollway-auth.log")
FULL_HEADER=$(create_key "$FULL_ADMIN_PORT" "$OUT/tollway-full.log")
wait_up "http://127.0.0.1:$AUTH_PORT" "$OUT/tollway-auth.log" "$AUTH_HEADER"
wait_up "http://127.0.0.1:$FULL_PORT" "$OUT/tollway-full.log" "$FULL_HEADER"
# Auth really is on: without the key the same request is refused.
for port in "$AUTH_PORT" "$FULL_PORT"; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/json' \
    --data @"$HERE/request.json" "http://127.0.0.1:$port/v1/chat/completions")
  [ "$status" = 401 ] || { echo "run.sh: tollway with auth answered $status without a key (expected 401)" >&2; exit 1; }
done
# The full variant's limits really count: its metrics show the budget's remaining dollars.
curl -fsS "http://127.0.0.1:$FULL_ADMIN_PORT/metrics" | grep -q '^tollway_limits_budget_remaining{budget="tenant-day"' ||
  { echo "run.sh: the full variant's budget is not counted" >&2; exit 1; }

nginx_worker_pid() { pgrep -P "$(cat "$OUT/$1/nginx.pid")" | head -1; }
NGINX_MASTER=$(cat "$OUT/proxy/nginx.pid")
NGINX_WORKER=$(nginx_worker_pid proxy)
NGINX_TLS_WORKER=$(nginx_worker_pid proxy-tls)
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)

# Idle RSS after one request each (above), before any load.
RSS_TOLLWAY_IDLE=$(rss_kb "$TOLLWAY_PID")
RSS_NGINX_WORKER_IDLE=$(rss_kb "$NGINX_WORKER")
RSS_NGINX_MASTER_IDLE=$(rss_kb "$NGINX_MASTER")

# Same request for every target (the origin ignores the body); post.lua sends $BENCH_AUTHORIZATION when set.
bench_wrk() { # authorization-or-empty wrk-args...
  local auth=$1
  shift
  BENCH_AUTHORIZATION="$auth" taskset -c $CORE_LOAD wrk -t1 -s "$HERE/post.lua" "$@"
}
RAW="$OUT/raw.txt"; : > "$RAW"
run_wrk() { # name url conns pid-or-empty authorization-or-empty
  local name=$1 url=$2 conns=$3 pid=${4:-} t0 t1 out
  [ -n "$pid" ] && t0=$(cpu_ticks "$pid")
  out=$(bench_wrk "${5:-}" -c"$conns" -d"$DURATION" --latency "$url/v1/chat/completions")
  [ -n "$pid" ] && t1=$(cpu_ticks "$pid")
  { echo "=== $name c=$conns cpu_ticks=${pid:+$((t1 - t0))} clk_tck=$CLK_TCK"; echo "$out"; } >> "$RAW"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "proxy bench: mode=$MODE origin=$ORIGIN reps=$REPS duration=$DURATION (wrk+origin on core $CORE_LOAD, proxies on core $CORE_PROXY)"
if [ "$MODE" != count ]; then
  for url in "http://127.0.0.1:$ORIGIN_PORT" "http://127.0.0.1:$NGINX_PORT" "http://127.0.0.1:$TOLLWAY_PORT" \
    "https://127.0.0.1:$NGINX_TLS_PORT" "https://127.0.0.1:$TLS_PORT" ${BEFORE_BIN:+"http://127.0.0.1:$BEFORE_PORT"}; do
    bench_wrk "" -c16 -d2s "$url/v1/chat/completions" > /dev/null  # warm-up
  done
  bench_wrk "$AUTH_HEADER" -c16 -d2s "http://127.0.0.1:$AUTH_PORT/v1/chat/completions" > /dev/null
  bench_wrk "$FULL_HEADER" -c16 -d2s "http://127.0.0.1:$FULL_PORT/v1/chat/completions" > /dev/null
  for rep in $(seq 1 "$REPS"); do
    for conns in 1 16 64; do
      run_wrk direct "http://127.0.0.1:$ORIGIN_PORT" "$conns"
      run_wrk nginx "http://127.0.0.1:$NGINX_PORT" "$conns" "$NGINX_WORKER"
      run_wrk tollway "http://127.0.0.1:$TOLLWAY_PORT" "$conns" "$TOLLWAY_PID"
      run_wrk tollway_auth "http://127.0.0.1:$AUTH_PORT" "$conns" "$TOLLWAY_AUTH_PID" "$AUTH_HEADER"
      run_wrk tollway_full "http://127.0.0.1:$FULL_PORT" "$conns" "$TOLLWAY_FULL_PID" "$FULL_HEADER"
      run_wrk nginx_tls "https://127.0.0.1:$NGINX_TLS_PORT" "$conns" "$NGINX_TLS_WORKER"
      run_wrk tollway_tls "https://127.0.0.1:$TLS_PORT" "$conns" "$TOLLWAY_TLS_PID"
      [ -z "$BEFORE_BIN" ] || run_wrk tollway_before "http://127.0.0.1:$BEFORE_PORT" "$conns" "$TOLLWAY_BEFORE_PID"
    done
    echo "  rep $rep/$REPS done"
  done
fi

# ---- count mode -----------------------------------------------------------------------------------------------
COUNTS="$OUT/counts.txt"; : > "$COUNTS"
# Syscalls and context switches per request of a running (not instrumented) proxy, over 3 s at c=16.
count_syscalls() { # name url pid authorization-or-empty
  local out="$OUT/perf.$1.txt" perf_pid requests
  perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$3" -o "$out" &
  perf_pid=$!
  sleep 0.3
  requests=$(bench_wrk "$4" -c16 -d3s "$2/v1/chat/completions" | awk '/requests in/ {print $1}')
  kill -INT "$perf_pid"; wait "$perf_pid" || true
  echo "syscalls $1 $requests $(awk -F, '/raw_syscalls:sys_enter/ {print $1}' "$out") $(awk -F, '/context-switches/ {print $1}' "$out")" >> "$COUNTS"
}
# User-space instructions per request: the proxy under callgrind, counters zeroed after a warm-up.
count_instructions() { # name port authorization-or-empty command...
  local name=$1 port=$2 auth=$3 vpid requests dump
  shift 3
  taskset -c $CORE_PROXY valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.$name.out" "$@" \
    > "$OUT/callgrind.$name.log" 2>&1 &
  vpid=$!
  PIDS+=("$vpid")
  wait_up "http://127.0.0.1:$port" "$OUT/callgrind.$name.log" "$auth"
  bench_wrk "$auth" -c16 -d2s "http://127.0.0.1:$port/v1/chat/completions" > /dev/null
  callgrind_control -z "$vpid" > /dev/null
  requests=$(bench_wrk "$auth" -c16 -d"$COUNT_DURATION" "http://127.0.0.1:$port/v1/chat/completions" | awk '/requests in/ {print $1}')
  callgrind_control -d "$vpid" > /dev/null
  kill "$vpid"; wait "$vpid" 2>/dev/null || true
  dump=$(ls -t "$OUT/callgrind.$name.out".* | head -1)
  echo "instructions $name $requests $(awk '/^summary:/ {print $2}' "$dump")" >> "$COUNTS"
}
if [ "$MODE" != wall ]; then
  echo "  counting instructions (callgrind) and syscalls (perf) per request"
  if command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter,context-switches true >/dev/null 2>&1; then
    count_syscalls nginx "http://127.0.0.1:$NGINX_PORT" "$NGINX_WORKER" ""
    count_syscalls tollway "http://127.0.0.1:$TOLLWAY_PORT" "$TOLLWAY_PID" ""
    count_syscalls tollway_auth "http://127.0.0.1:$AUTH_PORT" "$TOLLWAY_AUTH_PID" "$AUTH_HEADER"
    count_syscalls tollway_full "http://127.0.0.1:$FULL_PORT" "$TOLLWAY_FULL_PID" "$FULL_HEADER"
  else
    echo "  (perf cannot count syscall tracepoints here: no syscall counts)"
  fi
  COUNT_NGINX_PORT=$(free_port); COUNT_TOLLWAY_PORT=$(free_port); COUNT_AUTH_PORT=$(free_port)
  write_nginx_proxy_conf "$OUT/proxy-count" "$COUNT_NGINX_PORT" off
  count_instructions nginx "$COUNT_NGINX_PORT" "" nginx -p "$OUT/proxy-count" -c "$OUT/proxy-count/nginx.conf"
  write_gateway_config "$OUT/gateway-count.yaml" "$COUNT_TOLLWAY_PORT" "$(free_port)" plain
  count_instructions tollway "$COUNT_TOLLWAY_PORT" "" "$TOLLWAY_BIN" gateway --config "$OUT/gateway-count.yaml" --workers 1
  write_gateway_config "$OUT/gateway-count-auth.yaml" "$COUNT_AUTH_PORT" "$(free_port)" auth
  count_instructions tollway_auth "$COUNT_AUTH_PORT" "$AUTH_HEADER" \
    "$TOLLWAY_BIN" gateway --config "$OUT/gateway-count-auth.yaml" --workers 1
  COUNT_FULL_PORT=$(free_port)
  write_gateway_config "$OUT/gateway-count-full.yaml" "$COUNT_FULL_PORT" "$(free_port)" full
  count_instructions tollway_full "$COUNT_FULL_PORT" "$FULL_HEADER" \
    "$TOLLWAY_BIN" gateway --config "$OUT/gateway-count-full.yaml" --workers 1
  if [ -n "$BEFORE_BIN" ]; then
    COUNT_BEFORE_PORT=$(free_port)
    write_gateway_config "$OUT/gateway-count-before.yaml" "$COUNT_BEFORE_PORT" "$(free_port)" plain
    count_instructions tollway_before "$COUNT_BEFORE_PORT" "" \
      "$BEFORE_BIN" gateway --config "$OUT/gateway-count-before.yaml" --workers 1
  fi
fi
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
RSS_TOLLWAY_AFTER=$(rss_kb "$TOLLWAY_PID")
RSS_NGINX_WORKER_AFTER=$(rss_kb "$NGINX_WORKER")

node "$HERE/report.mjs" --raw "$RAW" --counts "$COUNTS" --out "$OUT/results.json" ${NO_DOC:+--no-doc} \
  --doc "$ROOT/docs/benchmarks.md" --mode "$MODE" \
  --load-start "$LOAD_START" --load-end "$LOAD_END" --origin "$ORIGIN" --reps "$REPS" --duration "$DURATION" \
  --count-duration "$COUNT_DURATION" \
  --rss-tollway-start "$RSS_TOLLWAY_START" --rss-tollway-default-start "$RSS_TOLLWAY_DEFAULT_START" --rss-tollway "$RSS_TOLLWAY_IDLE" --rss-nginx-worker "$RSS_NGINX_WORKER_IDLE" --rss-nginx-master "$RSS_NGINX_MASTER_IDLE" \
  --rss-tollway-after "$RSS_TOLLWAY_AFTER" --rss-nginx-worker-after "$RSS_NGINX_WORKER_AFTER" \
  --tollway-version "$("$TOLLWAY_BIN" version 2>/dev/null | head -1)" --nginx-version "$(nginx -v 2>&1)" \
  --before "${BEFORE_LABEL:-$BEFORE_BIN}"
