#!/usr/bin/env bash
# MCP benchmark (issue 19): the CPU an MCP-aware sidecar pair spends per tools/call against the same pair proxying
# the same call as plain HTTP, in the same run.
# - Two sidecar pairs, both running the whole time, identical but for one thing: A1 -> B1 where B1's document has an
#   `mcp:` section (server files, one allow rule for read_*: every POST /mcp body is read as JSON-RPC, the tool
#   authorized, params._meta.traceparent written into the forwarded body, the JSON answer read for the outcome, a
#   span and the mcp.server.operation.duration histogram recorded), and A2 -> B2 without it (the same request
#   proxied as plain HTTP, nothing parses the body). Both B sidecars also have the same HTTP authorization rule
#   (allow the client's SPIFFE ID); all four sidecars 1 worker, tracing on and exporting to one local OTLP/HTTP sink
#   (TRACE=0: no telemetry section anywhere).
# - The agent behind both B sidecars is bench/mcp/responder.mjs: a tools/call answered at once with a small fixed
#   application/json JSON-RPC result echoing the id (no SDK).
# - Load: bench/mcp/load.mjs, closed loop, absolute-form `POST http://files/mcp` through A's forward proxy with
#   mcp-session-id and accept: application/json, text/event-stream. Per repetition and pair: CALLS tools/call at
#   CONCURRENCY connections (CPU: utime+stime of both sidecars from /proc/PID/stat / calls, read SETTLE seconds after
#   the last answer so that the spans of the run, exported every 2 s, are in it), then LATENCY_CALLS one at a time
#   (p50/p99 as the client sees them). The pairs alternate which goes first from one repetition to the next.
# - Checks that the comparison is real: before the runs, one call through each pair (B1's forwarded body carries
#   params._meta.traceparent, B2's does not, as the responder counts them) and one call of a tool no rule allows
#   (B1 answers a JSON-RPC error itself, B2 forwards it); after the runs, B1's /metrics has
#   mcp_server_operation_duration_seconds_count for tools/call covering every call, B2's has none.
# Pinning: the client, the responder and the sink on core 0; the four sidecars on core 1.
# Prints the markdown section and writes it into docs/benchmarks.md under "## MCP awareness (bench/mcp)"
# (NO_DOC=1: not); raw output in build/bench/mcp/.
# Usage: bench/mcp/run.sh   env: TOLLWAY_BIN, REPS (15), CALLS (10000), CONCURRENCY (16), LATENCY_CALLS (1000),
#                                SETTLE (2.5), TRACE (1), NO_DOC=1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/mcp"
source "$ROOT/bench/lib/processes.sh"  # free_ports, wait_log
source "$ROOT/bench/lib/svid.sh"  # make_bench_ca, issue_svid
OUT="$ROOT/build/bench/mcp"
TOLLWAY_BIN="${TOLLWAY_BIN:-$ROOT/build/release/tollway}"
REPS="${REPS:-15}"
CALLS="${CALLS:-10000}"
CONCURRENCY="${CONCURRENCY:-16}"
LATENCY_CALLS="${LATENCY_CALLS:-1000}"
SETTLE="${SETTLE:-2.5}"
TRACE="${TRACE:-1}"
CORE_LOAD=0     # client, responder, sink
CORE_PROXY=1    # the four sidecars
TD=bench.example.org
CLIENT_ID="spiffe://$TD/ns/bench/sa/client"
SERVER_ID="spiffe://$TD/ns/bench/sa/files"

for tool in taskset node curl openssl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (scripts/install-deps.sh --bench)" >&2; exit 1; }
done
[ -x "$TOLLWAY_BIN" ] || {
  echo "run.sh: $TOLLWAY_BIN not built (cmake --build --preset release --target tollway)" >&2
  exit 1
}
[ "$(nproc)" -ge 2 ] || { echo "run.sh: needs 2 cores for the pinning" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT"/{tls,sidecars}

# ---- certificates: a P-256 CA, X.509-SVIDs with one URI SAN (the A sidecars share one, the B sidecars another) ------
make_bench_ca "$OUT/tls" mcp-bench-ca
issue_svid "$OUT/tls" client "$CLIENT_ID"
issue_svid "$OUT/tls" files "$SERVER_ID"

# ---- ports ------------------------------------------------------------------------------------------------------------
mapfile -t P < <(free_ports 14)
RESPONDER_PORT=${P[0]} SINK_PORT=${P[1]}
A1_OUT=${P[2]} A1_IN=${P[3]} A1_ADMIN=${P[4]} B1_OUT=${P[5]} B1_IN=${P[6]} B1_ADMIN=${P[7]}
A2_OUT=${P[8]} A2_IN=${P[9]} A2_ADMIN=${P[10]} B2_OUT=${P[11]} B2_IN=${P[12]} B2_ADMIN=${P[13]}

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# ---- the sink and the MCP responder -------------------------------------------------------------------------------------
taskset -c $CORE_LOAD node "$ROOT/bench/telemetry/collector.mjs" "$SINK_PORT" > "$OUT/sink.json" 2>&1 &
SINK_PID=$!; PIDS+=("$SINK_PID")
taskset -c $CORE_LOAD node "$HERE/responder.mjs" "$RESPONDER_PORT" > "$OUT/responder.log" 2>&1 &
PIDS+=($!)

# ---- the sidecars -------------------------------------------------------------------------------------------------------
write_sidecar() { # file cert-name spiffe-id outbound inbound admin service peer-inbound|"" mcp|plain
  {
    cat <<YAML
version: 1
sidecar:
  spiffe_id: $3
  outbound: 127.0.0.1:$4
  inbound: 127.0.0.1:$5
  admin: 127.0.0.1:$6
  agent: 127.0.0.1:$RESPONDER_PORT
  workers: 1
  tls: {cert_file: $OUT/tls/$2.pem, key_file: $OUT/tls/$2.key, bundle_file: $OUT/tls/ca.pem}
YAML
    if [ -n "$8" ]; then
      printf 'peers:\n  files: {address: "127.0.0.1:%s", spiffe_id: "%s"}\n' "$8" "$SERVER_ID"
    else
      echo "peers: {}"
      printf 'authorization:\n  - {action: allow, from: ["%s"]}\n' "$CLIENT_ID"
    fi
    [ "$9" != mcp ] || cat <<YAML
mcp:
  server: files
  paths: [/mcp]
  rules:
    - {action: allow, from: ["$CLIENT_ID"], tools: ["read_*"]}
YAML
    [ "$TRACE" = 0 ] || cat <<YAML
telemetry:
  service_name: $7
  tracing: {sample_ratio: 1.0}
  otlp: {endpoint: "http://127.0.0.1:$SINK_PORT"}
YAML
  } > "$1"
}
start_sidecar() { # name -> pid in SIDECAR_PID
  taskset -c $CORE_PROXY "$TOLLWAY_BIN" sidecar --config "$OUT/sidecars/$1.yaml" 2> "$OUT/sidecars/$1.log" &
  SIDECAR_PID=$!; PIDS+=("$SIDECAR_PID")
  wait_log "$OUT/sidecars/$1.log" '"sidecar ready"' "sidecar $1"
}
write_sidecar "$OUT/sidecars/b1.yaml" files "$SERVER_ID" "$B1_OUT" "$B1_IN" "$B1_ADMIN" files-sidecar "" mcp
write_sidecar "$OUT/sidecars/b2.yaml" files "$SERVER_ID" "$B2_OUT" "$B2_IN" "$B2_ADMIN" files-sidecar "" plain
write_sidecar "$OUT/sidecars/a1.yaml" client "$CLIENT_ID" "$A1_OUT" "$A1_IN" "$A1_ADMIN" client-sidecar "$B1_IN" plain
write_sidecar "$OUT/sidecars/a2.yaml" client "$CLIENT_ID" "$A2_OUT" "$A2_IN" "$A2_ADMIN" client-sidecar "$B2_IN" plain
start_sidecar b1; B1_PID=$SIDECAR_PID
start_sidecar b2; B2_PID=$SIDECAR_PID
start_sidecar a1; A1_PID=$SIDECAR_PID
start_sidecar a2; A2_PID=$SIDECAR_PID
wait_log "$OUT/responder.log" 'responder ready' responder
# The two documents of each side differ only in their ports and B1's mcp: section.
diff <(sed 's/[0-9]\{4,5\}/PORT/g' "$OUT/sidecars/a1.yaml") <(sed 's/[0-9]\{4,5\}/PORT/g' "$OUT/sidecars/a2.yaml") \
  > /dev/null || { echo "run.sh: a1.yaml and a2.yaml differ beyond their ports" >&2; exit 1; }

load() { # outbound-port args...
  local port=$1
  shift
  taskset -c $CORE_LOAD node "$HERE/load.mjs" --port "$port" "$@"
}
responder_stat() { curl -s "http://127.0.0.1:$RESPONDER_PORT/stats" | node -pe "JSON.parse(require('fs').readFileSync(0)).$1"; }
fail() { echo "run.sh: $*" >&2; exit 1; }

# ---- the comparison is real -------------------------------------------------------------------------------------------
# One allowed call per pair: answered; only B1 wrote the trace context into the body it forwarded.
for pair in 1 2; do
  port_var="A${pair}_OUT"
  before=$(responder_stat with_traceparent)
  r=$(load "${!port_var}" --count 1)
  grep -q '"ok":1,' <<< "$r" || fail "pair $pair answered $r"
  added=$(( $(responder_stat with_traceparent) - before ))
  if [ "$pair" = 1 ] && [ "$TRACE" != 0 ]; then want=1; else want=0; fi
  [ "$added" = "$want" ] || fail "pair $pair: $added forwarded bodies with params._meta.traceparent, expected $want"
done
# A tool no rule allows: B1 answers the JSON-RPC error itself, B2 forwards the call (nothing reads it).
FORBIDDEN_MCP=$(load "$A1_OUT" --count 1 --tool write_file)
grep -q '"rpc_errors":1,' <<< "$FORBIDDEN_MCP" || fail "pair 1 did not refuse write_file: $FORBIDDEN_MCP"
FORBIDDEN_PLAIN=$(load "$A2_OUT" --count 1 --tool write_file)
grep -q '"ok":1,' <<< "$FORBIDDEN_PLAIN" || fail "pair 2 did not forward write_file: $FORBIDDEN_PLAIN"

# ---- measurements -------------------------------------------------------------------------------------------------------
RAW="$OUT/raw.txt"; : > "$RAW"
HZ=$(getconf CLK_TCK)
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
measure() { # rep mode port pids...
  local rep=$1 mode=$2 port=$3 before after r
  shift 3
  before=$(ticks "$@")
  r=$(load "$port" --count "$CALLS" --concurrency "$CONCURRENCY")
  sleep "$SETTLE"  # the run's last spans leave (traces_interval 2 s) before the count stops
  after=$(ticks "$@")
  echo "$rep $mode cpu $(( (after - before) * 1000000 / HZ )) $r" >> "$RAW"
  r=$(load "$port" --count "$LATENCY_CALLS" --concurrency 1)
  echo "$rep $mode latency 0 $r" >> "$RAW"
}
echo "mcp bench: reps=$REPS, $CALLS calls at c=$CONCURRENCY (cpu) and $LATENCY_CALLS at c=1 (latency) per pair," \
  "trace=$TRACE" >&2
load "$A1_OUT" --count 2000 --concurrency "$CONCURRENCY" > /dev/null  # warm-up
load "$A2_OUT" --count 2000 --concurrency "$CONCURRENCY" > /dev/null
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for rep in $(seq 1 "$REPS"); do
  if [ $((rep % 2)) = 1 ]; then order="mcp plain"; else order="plain mcp"; fi
  for mode in $order; do
    if [ "$mode" = mcp ]; then measure "$rep" mcp "$A1_OUT" "$A1_PID" "$B1_PID"
    else measure "$rep" plain "$A2_OUT" "$A2_PID" "$B2_PID"; fi
  done
  echo "  rep $rep/$REPS done" >&2
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# B1 recorded every tools/call in mcp.server.operation.duration; B2 none.
tools_calls() { # admin-port -> the sum of mcp_server_operation_duration_seconds_count for tools/call
  curl -s "http://127.0.0.1:$1/metrics" | awk '/^mcp_server_operation_duration_seconds_count\{/ &&
    /mcp_method_name="tools\/call"/ {s += $NF} END {print s + 0}'
}
SENT=$(( 2 + 2000 + REPS * (CALLS + LATENCY_CALLS) ))  # allowed calls per pair: check, warm-up, runs
HISTOGRAM_MCP=$(tools_calls "$B1_ADMIN"); HISTOGRAM_PLAIN=$(tools_calls "$B2_ADMIN")
[ "$HISTOGRAM_MCP" -ge "$SENT" ] || fail "B1 counted $HISTOGRAM_MCP tools/call in its histogram, sent $SENT"
[ "$HISTOGRAM_PLAIN" = 0 ] || fail "B2 (no mcp: section) counted $HISTOGRAM_PLAIN tools/call"
spans() { # admin-port result -> tollway_otlp_spans_total of that result
  curl -s "http://127.0.0.1:$1/metrics" |
    awk -v r="$2" '$1 == "tollway_otlp_spans_total{result=\""r"\"}" {print $2; f=1} END {if (!f) print 0}'
}
SPANS="B1 exported $(spans "$B1_ADMIN" exported), dropped $(spans "$B1_ADMIN" dropped);"
SPANS="$SPANS B2 exported $(spans "$B2_ADMIN" exported), dropped $(spans "$B2_ADMIN" dropped)"
STATS=$(curl -s "http://127.0.0.1:$RESPONDER_PORT/stats")
kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null || true

# The report's arguments are kept in $OUT/report.args (one a line): `xargs -d '\n' -a build/bench/mcp/report.args
# node bench/mcp/report.mjs` renders the section again.
REPORT_ARGS=(--raw "$RAW" --doc "$ROOT/docs/benchmarks.md" ${NO_DOC:+--no-doc} \
  --reps "$REPS" --calls "$CALLS" --concurrency "$CONCURRENCY" --latency-calls "$LATENCY_CALLS" --trace "$TRACE" \
  --settle "$SETTLE" \
  --load-start "$LOAD_START" --load-end "$LOAD_END" --sent "$SENT" \
  --histogram-mcp "$HISTOGRAM_MCP" --histogram-plain "$HISTOGRAM_PLAIN" --responder "$STATS" \
  --forbidden-mcp "$FORBIDDEN_MCP" --forbidden-plain "$FORBIDDEN_PLAIN" --spans "$SPANS" \
  --sink "$(cat "$OUT/sink.json")" --tollway-version "$("$TOLLWAY_BIN" version 2>/dev/null | head -1)" \
  --cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)")
printf '%s\n' "${REPORT_ARGS[@]}" > "$OUT/report.args"
node "$HERE/report.mjs" "${REPORT_ARGS[@]}"
