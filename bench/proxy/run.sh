#!/usr/bin/env bash
# Proxy benchmark: wrk against (a) the origin directly, (b) nginx as a plain keep-alive reverse proxy (1 worker),
# (c) the tollway gateway (--workers 1), all in one run. Proxies are pinned to core 1, wrk and the origin to core 0.
# Reports added latency p50/p99 at c=1 (proxy minus direct), rps at c=16 and c=64, CPU µs per request and idle
# RSS of each proxy; medians of REPS repetitions and the tollway/nginx ratios against the targets. Writes the
# table into docs/benchmarks.md under "## Proxy (bench/proxy)" (only that section) and raw numbers to
# build/bench/proxy/results.json.
#
# Usage: bench/proxy/run.sh            env: TOLLWAY_BIN, REPS (3), DURATION (5s), ORIGIN (nginx|node), NO_DOC=1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/proxy"
OUT="$ROOT/build/bench/proxy"
TOLLWAY_BIN="${TOLLWAY_BIN:-$ROOT/build/release/tollway}"
REPS="${REPS:-3}"
DURATION="${DURATION:-5s}"
ORIGIN="${ORIGIN:-nginx}"
CORE_LOAD=0   # wrk + origin
CORE_PROXY=1  # nginx proxy, tollway

for tool in wrk nginx taskset node curl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (apt-get install wrk nginx util-linux nodejs curl)" >&2; exit 1; }
done
[ -x "$TOLLWAY_BIN" ] || { echo "run.sh: $TOLLWAY_BIN not built (cmake --preset release && cmake --build --preset release)" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "run.sh: needs 2 cores for the pinning" >&2; exit 1; }

rm -rf "$OUT/origin" "$OUT/proxy" "$OUT/raw.txt" "$OUT/results.json"; mkdir -p "$OUT"/{origin,proxy}/{logs,tmp}

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
ORIGIN_PORT=$(free_port); NGINX_PORT=$(free_port); TOLLWAY_PORT=$(free_port); ADMIN_PORT=$(free_port)

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$OUT/origin/nginx.pid" ] && kill "$(cat "$OUT/origin/nginx.pid")" 2>/dev/null || true
  [ -f "$OUT/proxy/nginx.pid" ] && kill "$(cat "$OUT/proxy/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

# ---- origin ---------------------------------------------------------------------------------------------------
RESPONSE="$(cat "$HERE/response.json" | tr -d '\n')"
if [ "$ORIGIN" = nginx ]; then
  cat > "$OUT/origin/nginx.conf" <<EOF
worker_processes 1;
worker_cpu_affinity auto;
pid $OUT/origin/nginx.pid;
error_log $OUT/origin/logs/error.log warn;
daemon on;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $OUT/origin/tmp/body; proxy_temp_path $OUT/origin/tmp/proxy;
  fastcgi_temp_path $OUT/origin/tmp/fcgi; uwsgi_temp_path $OUT/origin/tmp/uwsgi; scgi_temp_path $OUT/origin/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  server {
    listen 127.0.0.1:$ORIGIN_PORT reuseport backlog=4096;
    location = /v1/chat/completions {
      default_type application/json;
      add_header x-request-id req_bench_origin;
      return 200 '$RESPONSE';
    }
  }
}
EOF
  taskset -c $CORE_LOAD nginx -p "$OUT/origin" -c "$OUT/origin/nginx.conf"
else
  taskset -c $CORE_LOAD node "$ROOT/tests/mock/provider.mjs" --port "$ORIGIN_PORT" --fast > "$OUT/origin/mock.log" 2>&1 &
  PIDS+=($!)
fi

# ---- nginx reverse proxy (reference) --------------------------------------------------------------------------
cat > "$OUT/proxy/nginx.conf" <<EOF
worker_processes 1;
pid $OUT/proxy/nginx.pid;
error_log $OUT/proxy/logs/error.log warn;
daemon on;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $OUT/proxy/tmp/body; proxy_temp_path $OUT/proxy/tmp/proxy;
  fastcgi_temp_path $OUT/proxy/tmp/fcgi; uwsgi_temp_path $OUT/proxy/tmp/uwsgi; scgi_temp_path $OUT/proxy/tmp/scgi;
  keepalive_requests 1000000;
  upstream origin {
    server 127.0.0.1:$ORIGIN_PORT;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
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
taskset -c $CORE_PROXY nginx -p "$OUT/proxy" -c "$OUT/proxy/nginx.conf"

# ---- tollway --------------------------------------------------------------------------------------------------
cat > "$OUT/gateway.yaml" <<EOF
version: 1
gateway:
  listen: 127.0.0.1:$TOLLWAY_PORT
  admin: 127.0.0.1:$ADMIN_PORT
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
taskset -c $CORE_PROXY "$TOLLWAY_BIN" gateway --config "$OUT/gateway.yaml" --workers 1 2> "$OUT/tollway.log" &
TOLLWAY_PID=$!
PIDS+=("$TOLLWAY_PID")

wait_up() { # url
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null -X POST -H 'content-type: application/json' --data @"$HERE/request.json" "$1/v1/chat/completions"; then return 0; fi
    sleep 0.1
  done
  echo "run.sh: $1 did not come up" >&2; cat "$OUT/tollway.log" >&2 || true; exit 1
}
wait_up "http://127.0.0.1:$ORIGIN_PORT"
wait_up "http://127.0.0.1:$NGINX_PORT"
wait_up "http://127.0.0.1:$TOLLWAY_PORT"

nginx_worker_pid() { pgrep -P "$(cat "$OUT/proxy/nginx.pid")" | head -1; }
NGINX_MASTER=$(cat "$OUT/proxy/nginx.pid")
NGINX_WORKER=$(nginx_worker_pid)
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)

# Idle RSS: after start and one request each (above), before any load.
RSS_TOLLWAY_IDLE=$(rss_kb "$TOLLWAY_PID")
RSS_NGINX_WORKER_IDLE=$(rss_kb "$NGINX_WORKER")
RSS_NGINX_MASTER_IDLE=$(rss_kb "$NGINX_MASTER")

# Same request for every target; the origin ignores the body.
RAW="$OUT/raw.txt"; : > "$RAW"
run_wrk() { # name url conns pid-or-empty
  local name=$1 url=$2 conns=$3 pid=${4:-} t0 t1 out
  [ -n "$pid" ] && t0=$(cpu_ticks "$pid")
  out=$(taskset -c $CORE_LOAD wrk -t1 -c"$conns" -d"$DURATION" --latency -s "$HERE/post.lua" "$url/v1/chat/completions")
  [ -n "$pid" ] && t1=$(cpu_ticks "$pid")
  { echo "=== $name c=$conns cpu_ticks=${pid:+$((t1 - t0))} clk_tck=$CLK_TCK"; echo "$out"; } >> "$RAW"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "proxy bench: origin=$ORIGIN reps=$REPS duration=$DURATION (wrk+origin on core $CORE_LOAD, proxies on core $CORE_PROXY)"
# warm-up
for url in "http://127.0.0.1:$ORIGIN_PORT" "http://127.0.0.1:$NGINX_PORT" "http://127.0.0.1:$TOLLWAY_PORT"; do
  taskset -c $CORE_LOAD wrk -t1 -c16 -d2s -s "$HERE/post.lua" "$url/v1/chat/completions" > /dev/null
done
for rep in $(seq 1 "$REPS"); do
  for conns in 1 16 64; do
    run_wrk direct "http://127.0.0.1:$ORIGIN_PORT" "$conns"
    run_wrk nginx "http://127.0.0.1:$NGINX_PORT" "$conns" "$NGINX_WORKER"
    run_wrk tollway "http://127.0.0.1:$TOLLWAY_PORT" "$conns" "$TOLLWAY_PID"
  done
  echo "  rep $rep/$REPS done"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
RSS_TOLLWAY_AFTER=$(rss_kb "$TOLLWAY_PID")
RSS_NGINX_WORKER_AFTER=$(rss_kb "$NGINX_WORKER")

node "$HERE/report.mjs" --raw "$RAW" --out "$OUT/results.json" ${NO_DOC:+--no-doc} --doc "$ROOT/docs/benchmarks.md" \
  --load-start "$LOAD_START" --load-end "$LOAD_END" --origin "$ORIGIN" --reps "$REPS" --duration "$DURATION" \
  --rss-tollway "$RSS_TOLLWAY_IDLE" --rss-nginx-worker "$RSS_NGINX_WORKER_IDLE" --rss-nginx-master "$RSS_NGINX_MASTER_IDLE" \
  --rss-tollway-after "$RSS_TOLLWAY_AFTER" --rss-nginx-worker-after "$RSS_NGINX_WORKER_AFTER" \
  --tollway-version "$("$TOLLWAY_BIN" version 2>/dev/null | head -1)" --nginx-version "$(nginx -v 2>&1)"
