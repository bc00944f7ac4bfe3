#!/usr/bin/env bash
# Leased budgets benchmark (issue 18), real processes on 127.0.0.1:
# 0. Decision cost: bench/leased/leased_bench (LeasedLedger against LocalLedger, same counters, same run), REPS
#    repetitions pinned to core 1.
# 1. One `tollway control` (policy directory, SQLite lease store on disk, --lease-sync-interval SYNC, --lease-ttl
#    TTL) and twelve managed gateways (`--control`): gw-0 … gw-9 with `ledger: leased`, gw-local with `ledger: local`
#    and gw-strict with `ledger: strict` on a redis-server started here (node groups by label give each its
#    `limits` section; every ledger carries the same budgets). The provider is one nginx worker answering a canned
#    chat completion (bench/lib/nginx_origin.sh; usage.total_tokens 28 per request, the reservation 32 + input).
# (a) Control-plane load: POST /v1/usage reports per second (tollway_control_usage_reports_total{result="accepted"}
#     on the control plane's /metrics, before and after) with 4 leased gateways idle (holding a key), at RATE and at
#     10 × RATE requests/s (open loop, spread evenly), RATE_SECONDS each.
# (b) Overspend against the bound B = R + K + U + S (docs/operations.md): 1 and 10 real gateways drain a budget
#     (closed loop; 10 gateways: 80 % of the requests on gw-0) until nothing is admitted for 1.5 s; served = the sum of
#     usage.total_tokens of the 200 answers. Then 100 simulated nodes (bench/leased/sim.mjs: declared nodes with their
#     own tokens speaking the real POST /v1/usage; the node's decision is simulated, the control plane is real) under
#     Zipf demand, once with no node lost (B = 0) and once with the 10 busiest killed at the worst moment (B = K).
# (c) The same budget on the three ledgers: client-seen latency through gw-local, gw-0 (leased) and gw-strict (wrk,
#     one connection, DURATION each), Redis commands per second (INFO commandstats) and control-plane reports per
#     second during each run.
# (d) The in-flight term with real gateways: gw-0 … gw-9 are replaced by gw-d0 … gw-d9 whose control plane is
#     bench/leased/slow_control.mjs, a proxy that hands back each POST /v1/usage answer DELAY ms late (the report is
#     decided at once), and drain a budget as in (b) with 10 gateways.
# Pinning: the load (wrk, node), nginx, redis-server and the control plane on core 0; the gateways on core 1.
# Prints the markdown section and writes it into docs/benchmarks.md under "## Leased budgets (bench/leased)"
# (NO_DOC=1: not); raw output in build/bench/leased/.
# Usage: bench/leased/run.sh   env: TOLLWAY_BIN, REPS (3), SYNC (250ms), TTL (2s), RATE (30), RATE_SECONDS (6),
#                                   DURATION (3s), SIM_RATE (250000 units/s), DELAY (300 ms), NO_MICRO=1 (skip
#                                   step 0), NO_DOC=1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/leased"
source "$ROOT/bench/lib/nginx_origin.sh"  # write_nginx_origin
source "$ROOT/bench/lib/processes.sh"  # free_ports, wait_log
OUT="$ROOT/build/bench/leased"
TOLLWAY_BIN="${TOLLWAY_BIN:-$ROOT/build/release/tollway}"
MICRO_BIN="${MICRO_BIN:-$ROOT/build/release/bench/leased/leased_bench}"
REPS="${REPS:-3}"
SYNC="${SYNC:-250ms}"
TTL="${TTL:-2s}"
RATE="${RATE:-30}"
RATE_SECONDS="${RATE_SECONDS:-6}"
DURATION="${DURATION:-3s}"
SIM_RATE="${SIM_RATE:-250000}"
DELAY="${DELAY:-300}"
SIM_NODES=100
SIM_LOST=10
LIMIT_1=20000        # tokens, 1 gateway
LIMIT_10=40000       # tokens, 10 gateways
LIMIT_SIM=1000000    # units, 100 simulated nodes
HUGE=1000000000000   # the budgets that must never run out (a, c)
CORE_LOAD=0
CORE_PROXY=1
STARTED=$(date +%s)

for tool in node curl taskset wrk redis-server redis-cli nginx sha256sum; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (scripts/install-deps.sh --bench)" >&2; exit 1; }
done
[ -x "$TOLLWAY_BIN" ] || { echo "run.sh: $TOLLWAY_BIN not built (cmake --build --preset release --target tollway)" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "run.sh: needs 2 cores for the pinning" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT"/{policy/groups,state,gateways,origin,redis}
RESULTS="$OUT/results.jsonl"; : > "$RESULTS"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 0. decision cost ------------------------------------------------------------------------------------------------
if [ -z "${NO_MICRO:-}" ]; then
  [ -x "$MICRO_BIN" ] || cmake --build "$ROOT/build/release" --target leased_bench >/dev/null
  echo "leased bench: decision cost, $REPS repetitions" >&2
  taskset -c $CORE_PROXY "$MICRO_BIN" --benchmark_repetitions="$REPS" --benchmark_out="$OUT/micro.json" \
    --benchmark_out_format=json > "$OUT/micro.txt" 2>&1
fi

# ---- ports, processes ------------------------------------------------------------------------------------------------
GATEWAYS=(gw-0 gw-1 gw-2 gw-3 gw-4 gw-5 gw-6 gw-7 gw-8 gw-9 gw-local gw-strict)
SLOW=(gw-d0 gw-d1 gw-d2 gw-d3 gw-d4 gw-d5 gw-d6 gw-d7 gw-d8 gw-d9)  # (d), behind the slow control plane
ALL=("${GATEWAYS[@]}" "${SLOW[@]}")
NG=${#ALL[@]}
mapfile -t P < <(free_ports $((NG * 2 + 4)))
ORIGIN_PORT=${P[0]}; REDIS_PORT=${P[1]}; CONTROL_PORT=${P[2]}; SLOW_PORT=${P[3]}
declare -A LISTEN ADMIN GW_PID
for i in $(seq 0 $((NG - 1))); do LISTEN[${ALL[i]}]=${P[4 + 2 * i]}; ADMIN[${ALL[i]}]=${P[5 + 2 * i]}; done
CONTROL="http://127.0.0.1:$CONTROL_PORT"
url() { echo "http://127.0.0.1:${LISTEN[$1]}"; }

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$OUT/origin/nginx.pid" ] && kill "$(cat "$OUT/origin/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

write_nginx_origin "$OUT/origin" "$ORIGIN_PORT"
taskset -c $CORE_LOAD nginx -p "$OUT/origin" -c "$OUT/origin/nginx.conf"
taskset -c $CORE_LOAD redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
  --loglevel warning --dir "$OUT/redis" > "$OUT/redis/redis.log" 2>&1 &
PIDS+=($!)

# ---- the policy ------------------------------------------------------------------------------------------------------
DAY=$(date -u +%Y-%m-%d)
budgets() { # indentation -> the budgets list, the same for every ledger
  local pad=$1 r
  printf '%s- {name: rate, match: {model: "gpt-rate"}, unit: total_tokens, limit: %s, period: day}\n' "$pad" "$HUGE"
  printf '%s- {name: cmp, match: {model: "gpt-cmp"}, unit: total_tokens, limit: %s, period: day}\n' "$pad" "$HUGE"
  for r in $(seq 1 "$REPS"); do
    printf '%s- {name: over1-r%s, match: {model: "gpt-over1-r%s"}, unit: total_tokens, limit: %s, period: day}\n' \
      "$pad" "$r" "$r" "$LIMIT_1"
    printf '%s- {name: over10-r%s, match: {model: "gpt-over10-r%s"}, unit: total_tokens, limit: %s, period: day}\n' \
      "$pad" "$r" "$r" "$LIMIT_10"
    printf '%s- {name: sim-r%s, match: {model: "gpt-sim-r%s"}, unit: total_tokens, limit: %s, period: day}\n' \
      "$pad" "$r" "$r" "$LIMIT_SIM"
    printf '%s- {name: simlost-r%s, match: {model: "gpt-simlost-r%s"}, unit: total_tokens, limit: %s, period: day}\n' \
      "$pad" "$r" "$r" "$LIMIT_SIM"
    printf '%s- {name: slow-r%s, match: {model: "gpt-slow-r%s"}, unit: total_tokens, limit: %s, period: day}\n' \
      "$pad" "$r" "$r" "$LIMIT_10"
  done
}
POLICY="$OUT/policy"
cat > "$POLICY/base.yaml" <<EOF
version: 1
gateway:
  workers: 1
timeouts:
  upstream_connect: 1s
  upstream_total: 10s
  drain: 2s
usage:
  log: false
EOF
cat > "$POLICY/providers.yaml" <<EOF
providers:
  openai:
    api: openai
    base_url: http://127.0.0.1:$ORIGIN_PORT
    api_key: sk-bench-upstream
routes:
  - path: /v1/chat/completions
    api: openai
    provider: openai
models:
  - match: "gpt-*"
    provider: openai
EOF
{ printf 'limits:\n  ledger: leased\n  budgets:\n'; budgets '    '; } > "$POLICY/limits.yaml"
{ printf 'selector: {ledger: local}\nsections:\n  limits:\n    ledger: local\n    budgets:\n'; budgets '      '; } \
  > "$POLICY/groups/local.yaml"
{
  printf 'selector: {ledger: strict}\nsections:\n  limits:\n    ledger: strict\n'
  printf '    redis: {url: "redis://127.0.0.1:%s"}\n    budgets:\n' "$REDIS_PORT"
  budgets '      '
} > "$POLICY/groups/strict.yaml"
token_sha() { printf %s "token-of-$1" | sha256sum | cut -d' ' -f1; }
{
  echo "nodes:"
  for g in "${ALL[@]}"; do
    ledger=leased
    case $g in gw-local) ledger=local ;; gw-strict) ledger=strict ;; esac
    printf '  %s:\n    labels: {role: gateway, ledger: %s}\n    token_sha256: %s\n' "$g" "$ledger" "$(token_sha "$g")"
  done
  for i in $(seq 0 $((SIM_NODES - 1))); do
    printf '  sim-%s:\n    labels: {role: gateway, ledger: leased}\n    token_sha256: %s\n' "$i" "$(token_sha "sim-$i")"
  done
} > "$POLICY/nodes.yaml"
printf 'admin-secret\n' > "$OUT/admin.token"

# ---- the control plane and the gateways ------------------------------------------------------------------------------
taskset -c $CORE_LOAD "$TOLLWAY_BIN" control --policy "$POLICY" --listen "127.0.0.1:$CONTROL_PORT" \
  --admin-token-file "$OUT/admin.token" --state-dir "$OUT/state" --poll-timeout 5s \
  --lease-sync-interval "$SYNC" --lease-ttl "$TTL" 2> "$OUT/control.log" &
PIDS+=($!)
wait_log "$OUT/control.log" '"control plane ready"' "control plane"
CONTROL_READY=$(date +%s.%N)
start_gateway() { # name control-url
  mkdir -p "$OUT/gateways/$1/state"
  printf %s "token-of-$1" > "$OUT/gateways/$1/token"
  taskset -c $CORE_PROXY "$TOLLWAY_BIN" gateway --control "$2" --node "$1" \
    --token-file "$OUT/gateways/$1/token" --state-dir "$OUT/gateways/$1/state" \
    --listen "127.0.0.1:${LISTEN[$1]}" --admin "127.0.0.1:${ADMIN[$1]}" --workers 1 2> "$OUT/gateways/$1/log" &
  GW_PID[$1]=$!
  PIDS+=($!)
}
for g in "${GATEWAYS[@]}"; do start_gateway "$g" "$CONTROL"; done
for g in "${GATEWAYS[@]}"; do wait_log "$OUT/gateways/$g/log" '"gateway ready"' "$g"; done
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done
# The control plane learns for one lease lifetime after its start (it grants nothing new): wait it out.
TTL_S=$(node -e 'const t=process.argv[1];console.log(t.endsWith("ms")?t.slice(0,-2)/1000:t.slice(0,-1))' "$TTL")
sleep "$(node -e 'console.log(Math.max(0, +process.argv[1] + 0.3 - (Date.now()/1000 - +process.argv[2])).toFixed(2))' \
  "$TTL_S" "$CONTROL_READY")"

check() { # gateway model -> exits unless one request is answered 200
  local status
  status=$(curl -s -o "$OUT/check.json" -w '%{http_code}' --max-time 10 -H 'content-type: application/json' \
    -d "{\"model\":\"$2\",\"max_tokens\":32,\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}" \
    "$(url "$1")/v1/chat/completions" || true)
  [ "$status" = 200 ] || { echo "run.sh: $1 answered $status for $2: $(cat "$OUT/check.json")" >&2; exit 1; }
}
for g in gw-0 gw-1 gw-2 gw-3; do check "$g" gpt-rate; done
for g in gw-0 gw-local gw-strict; do check "$g" gpt-cmp; done

metric() { # url name{labels} -> value (0 when absent)
  curl -s "$1/metrics" | awk -v n="$2" '$1 == n {print $2; f=1} END {if (!f) print 0}'
}
reports() { metric "$CONTROL" 'tollway_control_usage_reports_total{result="accepted"}'; }
refused() { curl -s "$CONTROL/metrics" | awk '/^tollway_control_usage_reports_total\{result="refused"/ {s += $2} END {print s + 0}'; }
redis_calls() { # -> "SENT EXECUTED": commands clients sent (scripts, PING, connection setup), and every command
  # Redis executed, those its Lua scripts called included (INFO commandstats counts both); our own INFO excluded
  redis-cli -p "$REDIS_PORT" info commandstats | tr -d '\r' | awk -F'[:=,]' '
    /^cmdstat_/ && $1 != "cmdstat_info" {
      all += $3
      if ($1 ~ /^cmdstat_(evalsha|eval|evalsha_ro|eval_ro|fcall|script|ping|auth|select|hello|client)/) sent += $3
    }
    END {print sent + 0, all + 0}'
}
now() { date +%s.%N; }
load() { taskset -c $CORE_LOAD node "$HERE/load.mjs" "$@"; }

# ---- (a) control-plane reports per second, idle, RATE and 10 × RATE -------------------------------------------------
echo "leased bench: (a) reports/s with 4 gateways, $REPS reps × {idle, $RATE, $((RATE * 10))} rps × ${RATE_SECONDS}s" >&2
FOUR="$(url gw-0),$(url gw-1),$(url gw-2),$(url gw-3)"
sleep 1
for rep in $(seq 1 "$REPS"); do
  for rate in 0 "$RATE" $((RATE * 10)); do
    c0=$(reports); t0=$(now)
    if [ "$rate" = 0 ]; then sleep "$RATE_SECONDS"; l='null'
    else l=$(load --urls "$FOUR" --model gpt-rate --rate "$rate" --seconds "$RATE_SECONDS"); fi
    c1=$(reports); t1=$(now)
    echo "{\"phase\":\"reports\",\"rep\":$rep,\"rate\":$rate,\"reports\":$((c1 - c0)),\"seconds\":$(node -e \
      "console.log(($t1 - $t0).toFixed(3))"),\"load\":$l}" >> "$RESULTS"
  done
done

# ---- (b) overspend ---------------------------------------------------------------------------------------------------
echo "leased bench: (b) overspend, $REPS reps × {1 gateway, 10 gateways, $SIM_NODES simulated, $SIM_NODES with $SIM_LOST lost}" >&2
TEN="$(url gw-0)"; WEIGHTS=80
for g in gw-1 gw-2 gw-3 gw-4 gw-5 gw-6 gw-7 gw-8 gw-9; do TEN+=",$(url "$g")"; WEIGHTS+=",2.2222"; done
for rep in $(seq 1 "$REPS"); do
  r0=$(refused)
  l=$(load --urls "$(url gw-0)" --model "gpt-over1-r$rep" --drain --concurrency 4 --quiet-ms 1500 --max-seconds 30)
  echo "{\"phase\":\"overspend\",\"rep\":$rep,\"nodes\":1,\"kind\":\"gateways\",\"limit\":$LIMIT_1,\"key\":\"budget|over1-r$rep|$DAY\",\"load\":$l}" >> "$RESULTS"
  l=$(load --urls "$TEN" --weights "$WEIGHTS" --model "gpt-over10-r$rep" --drain --concurrency 8 --quiet-ms 1500 \
    --max-seconds 30)
  echo "{\"phase\":\"overspend\",\"rep\":$rep,\"nodes\":10,\"kind\":\"gateways\",\"limit\":$LIMIT_10,\"key\":\"budget|over10-r$rep|$DAY\",\"load\":$l}" >> "$RESULTS"
  s=$(taskset -c $CORE_LOAD node "$HERE/sim.mjs" --control "$CONTROL" --key "budget|sim-r$rep|$DAY" \
    --limit "$LIMIT_SIM" --nodes "$SIM_NODES" --rate "$SIM_RATE" --lost 0)
  echo "{\"phase\":\"overspend\",\"rep\":$rep,\"nodes\":$SIM_NODES,\"kind\":\"simulated\",\"sim\":$s}" >> "$RESULTS"
  s=$(taskset -c $CORE_LOAD node "$HERE/sim.mjs" --control "$CONTROL" --key "budget|simlost-r$rep|$DAY" \
    --limit "$LIMIT_SIM" --nodes "$SIM_NODES" --rate "$SIM_RATE" --lost "$SIM_LOST" --kill-at 0.5)
  echo "{\"phase\":\"overspend\",\"rep\":$rep,\"nodes\":$SIM_NODES,\"kind\":\"simulated_lost\",\"sim\":$s}" >> "$RESULTS"
  echo "{\"phase\":\"refused\",\"rep\":$rep,\"refused\":$(( $(refused) - r0 ))}" >> "$RESULTS"
  echo "  rep $rep/$REPS done" >&2
done
curl -s -H 'authorization: Bearer admin-secret' "$CONTROL/v1/fleet" > "$OUT/fleet.json"

# ---- (c) the same budget on local, leased and strict -----------------------------------------------------------------
echo "leased bench: (c) latency local / leased / strict, $REPS reps × $DURATION at c=1" >&2
declare -A CMP_GW=([local]=gw-local [leased]=gw-0 [strict]=gw-strict)
for ledger in local leased strict; do  # warm-up
  BENCH_MODEL=gpt-cmp taskset -c $CORE_LOAD wrk -t1 -c1 -d1s -s "$HERE/post.lua" \
    "$(url "${CMP_GW[$ledger]}")/v1/chat/completions" > /dev/null
done
for rep in $(seq 1 "$REPS"); do
  for ledger in local leased strict; do
    c0=$(reports); read -r k0 x0 < <(redis_calls); t0=$(now)
    BENCH_MODEL=gpt-cmp taskset -c $CORE_LOAD wrk -t1 -c1 -d"$DURATION" --latency -s "$HERE/post.lua" \
      "$(url "${CMP_GW[$ledger]}")/v1/chat/completions" > "$OUT/wrk.$ledger.$rep.txt"
    t1=$(now); c1=$(reports); read -r k1 x1 < <(redis_calls)
    node - "$OUT/wrk.$ledger.$rep.txt" "$ledger" "$rep" "$((c1 - c0))" "$((k1 - k0))" "$((x1 - x0))" "$t0" "$t1" \
      >> "$RESULTS" <<'NODE'
const fs = require('fs');
const [file, ledger, rep, reports, redis, executed, t0, t1] = process.argv.slice(2);
const text = fs.readFileSync(file, 'utf8');
const us = (v, u) => Number(v) * ({ us: 1, ms: 1000, s: 1e6 }[u]);
const pct = (p) => { const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)`, 'm').exec(text); return m ? us(m[1], m[2]) : null; };
const requests = Number(/(\d+) requests in/.exec(text)[1]);
const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
console.log(JSON.stringify({ phase: 'ledgers', ledger, rep: Number(rep), p50_us: pct(50), p99_us: pct(99),
  requests, non2xx, rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)[1]), control_reports: Number(reports),
  redis_commands: Number(redis), redis_executed: Number(executed), seconds: Number(t1) - Number(t0) }));
NODE
  done
done
curl -s "http://127.0.0.1:${ADMIN[gw-0]}/metrics" | grep '^tollway_limits_lease' > "$OUT/gw-0.lease-metrics.txt" || true

# ---- (d) real gateways behind a control plane that answers DELAY ms late ---------------------------------------------
echo "leased bench: (d) 10 gateways, usage answers ${DELAY} ms late, $REPS reps" >&2
for g in gw-0 gw-1 gw-2 gw-3 gw-4 gw-5 gw-6 gw-7 gw-8 gw-9; do kill "${GW_PID[$g]}"; done
taskset -c $CORE_LOAD node "$HERE/slow_control.mjs" --port "$SLOW_PORT" --target "$CONTROL" --delay-ms "$DELAY" \
  > "$OUT/slow_control.log" 2>&1 &
PIDS+=($!)
wait_log "$OUT/slow_control.log" 'slow control ready' 'slow control plane'
for g in "${SLOW[@]}"; do start_gateway "$g" "http://127.0.0.1:$SLOW_PORT"; done
for g in "${SLOW[@]}"; do wait_log "$OUT/gateways/$g/log" '"gateway ready"' "$g"; done
TEN_SLOW="$(url gw-d0)"
for g in "${SLOW[@]:1}"; do TEN_SLOW+=",$(url "$g")"; done
for rep in $(seq 1 "$REPS"); do
  l=$(load --urls "$TEN_SLOW" --weights "$WEIGHTS" --model "gpt-slow-r$rep" --drain --concurrency 8 --quiet-ms 1500 \
    --max-seconds 30)
  echo "{\"phase\":\"overspend\",\"rep\":$rep,\"nodes\":10,\"kind\":\"gateways_slow\",\"delay_ms\":$DELAY,\"limit\":$LIMIT_10,\"key\":\"budget|slow-r$rep|$DAY\",\"load\":$l}" >> "$RESULTS"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ELAPSED=$(( $(date +%s) - STARTED ))

# The report's arguments are kept (build/bench/leased/report.args, one per line) so the section can be rendered again
# from the same raw results: xargs -d '\n' -a build/bench/leased/report.args node bench/leased/report.mjs --no-doc
REPORT_ARGS=(--results "$RESULTS" --micro "$OUT/micro.json" --fleet "$OUT/fleet.json" \
  --doc "$ROOT/docs/benchmarks.md" --reps "$REPS" --sync "$SYNC" --ttl "$TTL" \
  --rate "$RATE" --rate-seconds "$RATE_SECONDS" --duration "$DURATION" --sim-rate "$SIM_RATE" --delay "$DELAY" \
  --load-start "$LOAD_START" --load-end "$LOAD_END" --elapsed "$ELAPSED" --date "$(date -u '+%Y-%m-%d %H:%M')" \
  --lease-metrics "$OUT/gw-0.lease-metrics.txt" \
  --tollway-version "$("$TOLLWAY_BIN" version 2>/dev/null | head -1)" \
  --redis-version "$(redis-server --version | awk '{print $3}')" \
  --cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)")
printf '%s\n' "${REPORT_ARGS[@]}" > "$OUT/report.args"
node "$HERE/report.mjs" "${REPORT_ARGS[@]}" ${NO_DOC:+--no-doc}
