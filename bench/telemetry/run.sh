#!/usr/bin/env bash
# Telemetry benchmark: what metrics + tracing + logs cost per request, and that a stopped collector costs
# requests nothing. One run, one tollway process per variant (--workers 1, pinned to core 1) behind the same nginx origin
# (core 0, with wrk and a do-nothing OTLP collector):
#   off        telemetry.enabled: false                      (the reference: the proxy benchmark's gateway)
#   on         sample_ratio 1, OTLP export to the collector, access log to a file, traceparent trusted
#   traces_only  like `on` without the access log (what tracing alone costs)
#   on_gzip    the same with otlp.gzip: true
#   sampled_10pct  like `on` with sample_ratio 0.1 and trust_incoming never (roots sampled by ratio)
#   collector_down  like `on`, OTLP endpoint on a port nothing listens on
# For each: CPU µs per request from /proc/PID/stat (utime + stime) over a wrk run at c=16, rps and p99 latency;
# medians of REPS repetitions, interleaved. Then the encoding micro benchmark (telemetry_encode_bench: spans and
# access line per request without I/O, beside a memcpy of the same bytes), pinned to core 1. Writes "## Telemetry (bench/telemetry)" in docs/benchmarks.md (only
# that section) and raw numbers to build/bench/telemetry/.
#
# Usage: bench/telemetry/run.sh            env: TOLLWAY_BIN, REPS (5), DURATION (5s), CONNS (16), NO_DOC=1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/telemetry"
source "$ROOT/bench/lib/nginx_origin.sh"  # write_nginx_origin
PROXY="$ROOT/bench/proxy"   # the proxy benchmark's request and origin response
OUT="$ROOT/build/bench/telemetry"
TOLLWAY_BIN="${TOLLWAY_BIN:-$ROOT/build/release/tollway}"
REPS="${REPS:-5}"
DURATION="${DURATION:-5s}"
CONNS="${CONNS:-16}"
CORE_LOAD=0
CORE_PROXY=1

for tool in wrk nginx taskset node curl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 1; }
done
[ -x "$TOLLWAY_BIN" ] || { echo "run.sh: $TOLLWAY_BIN not built" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "run.sh: needs 2 cores for the pinning" >&2; exit 1; }

rm -rf "$OUT"; mkdir -p "$OUT"/origin/{logs,tmp}
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
ORIGIN_PORT=$(free_port); COLLECTOR_PORT=$(free_port); DEAD_PORT=$(free_port)

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$OUT/origin/nginx.pid" ] && kill "$(cat "$OUT/origin/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

write_nginx_origin "$OUT/origin" "$ORIGIN_PORT"
taskset -c $CORE_LOAD nginx -p "$OUT/origin" -c "$OUT/origin/nginx.conf"
taskset -c $CORE_LOAD node "$HERE/collector.mjs" "$COLLECTOR_PORT" > "$OUT/collector.json" &
COLLECTOR_PID=$!
PIDS+=("$COLLECTOR_PID")

declare -A PORT PID
start_gateway() { # name telemetry-yaml
  local name=$1 port admin
  port=$(free_port); admin=$(free_port)
  cat > "$OUT/$name.yaml" <<CONF
version: 1
gateway: {listen: "127.0.0.1:$port", admin: "127.0.0.1:$admin", workers: 1}
providers:
  openai: {api: openai, base_url: "http://127.0.0.1:$ORIGIN_PORT", api_key: sk-bench-provider-key}
models: [{match: "gpt-*", provider: openai}]
routes: [{path: /v1/chat/completions, api: openai, provider: openai}]
pricing:
  models: [{match: "gpt-4o-mini*", input: "0.15", output: "0.60"}]
usage: {log: false}
$2
CONF
  taskset -c $CORE_PROXY "$TOLLWAY_BIN" gateway --config "$OUT/$name.yaml" --workers 1 2> "$OUT/$name.log" &
  PID[$name]=$!; PORT[$name]=$port; PIDS+=("$!")
}
telemetry_on() { # name otlp-port gzip [ratio trust]
  cat <<CONF
telemetry:
  tracing: {sample_ratio: "${4:-1}", trust_incoming: ${5:-always}}
  otlp: {endpoint: "http://127.0.0.1:$2", gzip: $3, traces_interval: 1s, metrics_interval: 10s}
  access_log: "$OUT/access-$1.log"
CONF
}
telemetry_traces_only() { # otlp-port
  cat <<CONF
telemetry:
  tracing: {sample_ratio: "1", trust_incoming: always}
  otlp: {endpoint: "http://127.0.0.1:$1", gzip: false, traces_interval: 1s, metrics_interval: 10s}
CONF
}
VARIANTS=(off on traces_only on_gzip sampled_10pct collector_down)
start_gateway off "telemetry: {enabled: false}"
start_gateway on "$(telemetry_on on "$COLLECTOR_PORT" false)"
start_gateway traces_only "$(telemetry_traces_only "$COLLECTOR_PORT")"
start_gateway on_gzip "$(telemetry_on on_gzip "$COLLECTOR_PORT" true)"
start_gateway sampled_10pct "$(telemetry_on sampled_10pct "$COLLECTOR_PORT" false 0.1 never)"
start_gateway collector_down "$(telemetry_on collector_down "$DEAD_PORT" false)"

wait_up() {
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null -X POST -H 'content-type: application/json' --data @"$PROXY/request.json" "$1/v1/chat/completions" && return 0
    sleep 0.1
  done
  echo "run.sh: $1 did not come up" >&2; exit 1
}
wait_up "http://127.0.0.1:$ORIGIN_PORT"
for name in "${VARIANTS[@]}"; do wait_up "http://127.0.0.1:${PORT[$name]}"; done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
CLK_TCK=$(getconf CLK_TCK)
RAW="$OUT/raw.txt"; : > "$RAW"
run_wrk() { # name
  local name=$1 t0 t1 out
  t0=$(cpu_ticks "${PID[$name]}")
  out=$(taskset -c $CORE_LOAD wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "$HERE/post.lua" "http://127.0.0.1:${PORT[$name]}/v1/chat/completions")
  t1=$(cpu_ticks "${PID[$name]}")
  { echo "=== $name cpu_ticks=$((t1 - t0)) clk_tck=$CLK_TCK"; echo "$out"; } >> "$RAW"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "telemetry bench: reps=$REPS duration=$DURATION c=$CONNS (wrk+origin+collector on core $CORE_LOAD, tollway on core $CORE_PROXY)"
for name in "${VARIANTS[@]}"; do
  taskset -c $CORE_LOAD wrk -t1 -c"$CONNS" -d2s -s "$HERE/post.lua" "http://127.0.0.1:${PORT[$name]}/v1/chat/completions" > /dev/null
done
for rep in $(seq 1 "$REPS"); do
  for name in "${VARIANTS[@]}"; do run_wrk "$name"; done
  echo "  rep $rep/$REPS done"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
for name in "${VARIANTS[@]}"; do  # where the CPU went, per thread (cumulative since start, warm-up included)
  for t in /proc/"${PID[$name]}"/task/*; do
    echo "$name $(cat "$t/comm") $(awk '{print $14 + $15}' "$t/stat")"
  done
done > "$OUT/threads.txt"
sleep 1.5  # one more traces_interval: the last spans reach the collector
curl -fsS "http://127.0.0.1:$(awk -F'"' '/admin/ {print $4}' "$OUT/on.yaml" | sed 's/.*://')/metrics" > "$OUT/on.metrics" || true
curl -fsS "http://127.0.0.1:$(awk -F'"' '/admin/ {print $4}' "$OUT/collector_down.yaml" | sed 's/.*://')/metrics" > "$OUT/collector_down.metrics" || true
kill "$COLLECTOR_PID"; wait "$COLLECTOR_PID" 2>/dev/null || true

ENCODE_BIN="$(dirname "$TOLLWAY_BIN")/bench/telemetry/telemetry_encode_bench"
if [ -x "$ENCODE_BIN" ]; then
  taskset -c $CORE_PROXY "$ENCODE_BIN" --benchmark_repetitions="$REPS" --benchmark_format=json > "$OUT/encode.json"
else
  echo "run.sh: $ENCODE_BIN not built; the encoding section is left out" >&2
  echo '{}' > "$OUT/encode.json"
fi

node "$HERE/report.mjs" --encode "$OUT/encode.json" --raw "$RAW" --out "$OUT/results.json" ${NO_DOC:+--no-doc} --doc "$ROOT/docs/benchmarks.md" \
  --load-start "$LOAD_START" --load-end "$LOAD_END" --reps "$REPS" --duration "$DURATION" --conns "$CONNS" \
  --collector "$OUT/collector.json" --metrics-on "$OUT/on.metrics" --metrics-down "$OUT/collector_down.metrics" \
  --access-log "$OUT/access-on.log" --threads "$OUT/threads.txt" --tollway-version "$("$TOLLWAY_BIN" version 2>/dev/null | head -1)"
