#!/usr/bin/env bash
# bench/limits_redis: the strict ledger (reserve, settle) against a plain Redis round trip (PING over the same
# client, and redis-benchmark's PING p50) in the same run, on a redis-server started here on 127.0.0.1 (CPU 0)
# with the benchmark pinned to CPU 1. REPEATS runs of REQUESTS sequential requests each; prints every run's JSON
# lines and the medians. Usage: bench/limits_redis/run.sh [BUILD_DIR] [REPEATS] [REQUESTS]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="${1:-$root/build/release}"
repeats="${2:-5}"
requests="${3:-20000}"
cd "$root"
cmake --build "$build" --target limits_redis_bench >/dev/null
bench_bin="$(find "$build" -name limits_redis_bench -type f -perm -u+x | head -1)"
port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
work="$(mktemp -d)"
pin_redis=(taskset -c 0) pin_bench=(taskset -c 1)
command -v taskset >/dev/null || { pin_redis=(); pin_bench=(); }
"${pin_redis[@]}" redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --loglevel warning \
  > "$work/redis.log" 2>&1 &
redis_pid=$!
trap 'kill -9 $redis_pid 2>/dev/null || true; wait $redis_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
cut -d' ' -f1-3 /proc/loadavg > "$work/load_before"
for i in $(seq "$repeats"); do
  "${pin_bench[@]}" "$bench_bin" "$port" "$requests" | tee -a "$work/runs.jsonl"
  "${pin_bench[@]}" redis-benchmark -p "$port" -c 1 -n "$requests" -t ping_mbulk 2>/dev/null \
    | tr '\r' '\n' | awk '/^ *avg +min/ {getline; print "{\"name\":\"redis_benchmark_ping\",\"avg_us\":" $1*1000 ",\"p50_us\":" $3*1000 ",\"p99_us\":" $5*1000 "}"}' \
    | tee -a "$work/runs.jsonl"
done
cut -d' ' -f1-3 /proc/loadavg > "$work/load_after"
node - "$work" <<'NODE'
const fs = require('fs');
const work = process.argv[2];
const rows = fs.readFileSync(`${work}/runs.jsonl`, 'utf8').trim().split('\n').map(JSON.parse);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const by = (name, field) => median(rows.filter((r) => r.name === name).map((r) => r[field]));
console.log('\nmedians over', rows.filter((r) => r.name === 'ping').length, 'runs');
for (const n of ['ping', 'redis_benchmark_ping', 'reserve', 'settle', 'reserve_settle'])
  console.log(`${n}: p50 ${by(n, 'p50_us').toFixed(1)} us, p99 ${by(n, 'p99_us').toFixed(1)} us`);
console.log('reserve / ping (p50):', by('ratios', 'reserve_over_ping_p50').toFixed(2));
console.log('reserve+settle / ping (p50):', by('ratios', 'reserve_settle_over_ping_p50').toFixed(2));
console.log('round trips per request:', by('round_trips', 'per_request'));
console.log('overspend:', by('overspend', 'overspend'), 'of limit', by('overspend', 'limit'),
            '(charged', by('overspend', 'charged_in_redis'), ')');
console.log('load average before:', fs.readFileSync(`${work}/load_before`, 'utf8').trim(),
            'after:', fs.readFileSync(`${work}/load_after`, 'utf8').trim());
NODE
