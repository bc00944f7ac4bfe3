#!/usr/bin/env bash
# Hops benchmark (issue 17): the latency tax of a 15-hop agent chain, and what one sidecar hop costs in CPU and RSS.
# - Latency: 16 echo agents (agents.mjs, one Node process; agent i calls agent i+1, the last answers) and wrk -c1
#   sending one request at a time to agent 0 (the chain, 15 agent-to-agent hops) or to agent 14 (one hop), in three
#   topologies: (a) direct plain HTTP, (b) every hop through one tollway gateway (a `body: raw` prefix route per agent,
#   the agent as its provider: the gateway has no agent routing of its own), (c) every hop through a sidecar pair
#   (agent -> its sidecar's forward proxy -> mTLS -> the next agent's sidecar -> agent), authorization and tracing on
#   (every sidecar exports its spans to a local OTLP/HTTP sink). Added = topology minus direct, p50 and p99.
# - CPU per request of ONE hop: wrk (c=16, absolute-form GET http://agent-b/... as an HTTP_PROXY client sends it) ->
#   sidecar A's forward proxy -> sidecar B's mTLS inbound -> nginx origin, against nginx A (plain) -> nginx B (TLS,
#   client certificate required) -> the same origin; utime+stime (/proc/PID/stat) of both proxies / requests.
#   The same pair without a telemetry section is measured too, to show what tracing costs; with perf, the pairs'
#   syscalls and context switches per request.
# - RSS of the pairs' sidecars idle (after ready, before any request) and the largest seen at 1,000 rps
#   (open_loop.mjs, open-loop), from a client pool of 16 connections and then from an unbounded one.
# - Startup to ready (startup.mjs): sidecar B's config, 10 starts from a persisted snapshot with the control plane
#   down, and 10 from the file.
# Pinning: wrk, the agents, the origin and the loaders on core 0; gateway, sidecars and the nginx pair on core 1.
# Prints the markdown section and writes it into docs/benchmarks.md under "## Hops (bench/hops)" (NO_DOC=1: not);
# raw output goes to build/bench/hops/.
# Usage: bench/hops/run.sh   env: TOLLWAY_BIN, REPS (3), DURATION (3s, per latency run), CPU_DURATION (5s),
#                                 RATE (1000), RATE_SECONDS (5), NO_DOC=1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/hops"
source "$ROOT/bench/lib/nginx_origin.sh"  # write_nginx_origin
source "$ROOT/bench/lib/processes.sh"  # free_ports, wait_log
OUT="$ROOT/build/bench/hops"
TOLLWAY_BIN="${TOLLWAY_BIN:-$ROOT/build/release/tollway}"
REPS="${REPS:-3}"
DURATION="${DURATION:-3s}"
CPU_DURATION="${CPU_DURATION:-5s}"
RATE="${RATE:-1000}"
RATE_SECONDS="${RATE_SECONDS:-5}"
AGENTS=16          # agents 0..15: 15 hops
CORE_LOAD=0        # wrk, agents, origin, loaders
CORE_PROXY=1       # gateway, sidecars, nginx pair
TD=bench.example.org

for tool in wrk nginx taskset node curl openssl; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (scripts/install-deps.sh --bench)" >&2; exit 1; }
done
[ -x "$TOLLWAY_BIN" ] || {
  echo "run.sh: $TOLLWAY_BIN not built (cmake --build --preset release --target tollway)" >&2
  exit 1
}
[ "$(nproc)" -ge 2 ] || { echo "run.sh: needs 2 cores for the pinning" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT"/{tls,sidecars,origin,nginx-a/logs,nginx-a/tmp,nginx-b/logs,nginx-b/tmp}

# ---- certificates (tests/lib/harness.mjs makeCA/svid: P-256, X.509-SVIDs with one URI SAN) -----------------------
ossl() { (cd "$OUT/tls" && openssl "$@" 2>/dev/null); }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 \
  -subj /CN=hops-bench-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
issue() { # name subject-alt-names extended-key-usage
  ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" -subj /O=SPIFFE
  printf 'subjectAltName=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' "$2" \
    > "$OUT/tls/$1.cnf"
  printf 'extendedKeyUsage=%s\n' "$3" >> "$OUT/tls/$1.cnf"
  ossl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days 2 -extfile "$1.cnf"
}
spiffe_id() { echo "spiffe://$TD/ns/hops/sa/$1"; }
for i in $(seq 0 $((AGENTS - 1))); do issue "agent-$i" "URI:$(spiffe_id "agent-$i")" serverAuth,clientAuth; done
issue pair-a "URI:$(spiffe_id pair-a)" serverAuth,clientAuth
issue pair-b "URI:$(spiffe_id pair-b)" serverAuth,clientAuth
issue pair-c "URI:$(spiffe_id pair-c)" serverAuth,clientAuth
issue pair-d "URI:$(spiffe_id pair-d)" serverAuth,clientAuth
# nginx checks a peer's name, not a SPIFFE ID: nginx B's certificate also carries DNS:agent-b for nginx A to verify.
issue nginx-b "URI:$(spiffe_id pair-b),DNS:agent-b" serverAuth,clientAuth
issue nginx-a "URI:$(spiffe_id pair-a)" serverAuth,clientAuth

# ---- ports ----------------------------------------------------------------------------------------------------------
mapfile -t P < <(free_ports $((AGENTS * 4 + 18)))
AGENT_PORTS=("${P[@]:0:AGENTS}"); OUT_PORTS=("${P[@]:AGENTS:AGENTS}")
IN_PORTS=("${P[@]:$((AGENTS * 2)):AGENTS}"); ADMIN_PORTS=("${P[@]:$((AGENTS * 3)):AGENTS}")
X=$((AGENTS * 4))
GATEWAY_PORT=${P[X]}; GATEWAY_ADMIN=${P[X + 1]}; SINK_PORT=${P[X + 2]}; ORIGIN_PORT=${P[X + 3]}
PAIR_A_OUT=${P[X + 4]}; PAIR_A_IN=${P[X + 5]}; PAIR_A_ADMIN=${P[X + 6]}
PAIR_B_OUT=${P[X + 7]}; PAIR_B_IN=${P[X + 8]}; PAIR_B_ADMIN=${P[X + 9]}
NGINX_A_PORT=${P[X + 10]}; NGINX_B_PORT=${P[X + 11]}
PAIR_C_OUT=${P[X + 12]}; PAIR_C_IN=${P[X + 13]}; PAIR_C_ADMIN=${P[X + 14]}
PAIR_D_OUT=${P[X + 15]}; PAIR_D_IN=${P[X + 16]}; PAIR_D_ADMIN=${P[X + 17]}
join() { local IFS=,; echo "$*"; }

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in origin nginx-a nginx-b; do
    [ -f "$OUT/$d/nginx.pid" ] && kill "$(cat "$OUT/$d/nginx.pid")" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT


# ---- the OTLP/HTTP sink, the agents, the origin ----------------------------------------------------------------------
taskset -c $CORE_LOAD node "$ROOT/bench/telemetry/collector.mjs" "$SINK_PORT" > "$OUT/sink.json" 2>&1 &
SINK_PID=$!; PIDS+=("$SINK_PID")
taskset -c $CORE_LOAD node "$HERE/agents.mjs" --ports "$(join "${AGENT_PORTS[@]}")" --gateway "$GATEWAY_PORT" \
  --proxies "$(join "${OUT_PORTS[@]}")" > "$OUT/agents.log" 2>&1 &
PIDS+=($!)
write_nginx_origin "$OUT/origin" "$ORIGIN_PORT"
taskset -c $CORE_LOAD nginx -p "$OUT/origin" -c "$OUT/origin/nginx.conf"

# ---- (b) the gateway: one provider and one raw prefix route per agent ------------------------------------------------
{
  printf 'version: 1\ngateway:\n  listen: 127.0.0.1:%s\n  admin: 127.0.0.1:%s\n  workers: 1\n' \
    "$GATEWAY_PORT" "$GATEWAY_ADMIN"
  echo "providers:"
  for i in $(seq 1 $((AGENTS - 1))); do
    printf '  agent-%s: {api: openai, base_url: "http://127.0.0.1:%s"}\n' "$i" "${AGENT_PORTS[i]}"
  done
  echo "routes:"
  for i in $(seq 1 $((AGENTS - 1))); do
    printf '  - {prefix: /agents/%s/, api: openai, provider: agent-%s, body: raw}\n' "$i" "$i"
  done
  printf 'usage:\n  log: false\n'
} > "$OUT/gateway.yaml"
taskset -c $CORE_PROXY "$TOLLWAY_BIN" gateway --config "$OUT/gateway.yaml" --workers 1 2> "$OUT/gateway.log" &
PIDS+=($!)

# ---- (c) a sidecar per agent; the CPU/RSS pair -----------------------------------------------------------------------
write_sidecar() { # file name outbound inbound admin agent-port peer-name peer-inbound peer-id caller-id trace|notrace
  {
    cat <<EOF
version: 1
sidecar:
  spiffe_id: $(spiffe_id "$2")
  outbound: 127.0.0.1:$3
  inbound: 127.0.0.1:$4
  admin: 127.0.0.1:$5
  agent: 127.0.0.1:$6
  workers: 1
  tls: {cert_file: $OUT/tls/$2.pem, key_file: $OUT/tls/$2.key, bundle_file: $OUT/tls/ca.pem}
EOF
    if [ -n "$7" ]; then
      printf 'peers:\n  %s: {address: "127.0.0.1:%s", spiffe_id: "%s"}\n' "$7" "$8" "$9"
    else
      echo "peers: {}"
    fi
    [ -z "${10}" ] || printf 'authorization:\n  - {action: allow, from: ["%s"]}\n' "${10}"
    echo "max_hops: 32"
    [ "${11}" = notrace ] || cat <<EOF
telemetry:
  service_name: $2-sidecar
  tracing: {sample_ratio: 1.0}
  otlp: {endpoint: "http://127.0.0.1:$SINK_PORT"}
EOF
  } > "$1"
}
start_sidecar() { # name -> pid in SIDECAR_PID
  taskset -c $CORE_PROXY "$TOLLWAY_BIN" sidecar --config "$OUT/sidecars/$1.yaml" 2> "$OUT/sidecars/$1.log" &
  SIDECAR_PID=$!; PIDS+=("$SIDECAR_PID")
  wait_log "$OUT/sidecars/$1.log" '"sidecar ready"' "sidecar $1"
}
for i in $(seq 0 $((AGENTS - 1))); do
  peer="" peer_in="" peer_id="" caller=""
  if [ "$i" -lt $((AGENTS - 1)) ]; then
    peer="agent-$((i + 1))" peer_in=${IN_PORTS[i + 1]} peer_id=$(spiffe_id "agent-$((i + 1))")
  fi
  [ "$i" -eq 0 ] || caller=$(spiffe_id "agent-$((i - 1))")
  write_sidecar "$OUT/sidecars/agent-$i.yaml" "agent-$i" "${OUT_PORTS[i]}" "${IN_PORTS[i]}" "${ADMIN_PORTS[i]}" \
    "${AGENT_PORTS[i]}" "$peer" "$peer_in" "$peer_id" "$caller" trace
  start_sidecar "agent-$i"
done
# The CPU/RSS pairs: A -> B traced as in (c), C -> D the same without a telemetry section.
write_sidecar "$OUT/sidecars/pair-b.yaml" pair-b "$PAIR_B_OUT" "$PAIR_B_IN" "$PAIR_B_ADMIN" "$ORIGIN_PORT" "" "" "" \
  "$(spiffe_id pair-a)" trace
write_sidecar "$OUT/sidecars/pair-a.yaml" pair-a "$PAIR_A_OUT" "$PAIR_A_IN" "$PAIR_A_ADMIN" "$ORIGIN_PORT" agent-b \
  "$PAIR_B_IN" "$(spiffe_id pair-b)" "" trace
write_sidecar "$OUT/sidecars/pair-d.yaml" pair-d "$PAIR_D_OUT" "$PAIR_D_IN" "$PAIR_D_ADMIN" "$ORIGIN_PORT" "" "" "" \
  "$(spiffe_id pair-c)" notrace
write_sidecar "$OUT/sidecars/pair-c.yaml" pair-c "$PAIR_C_OUT" "$PAIR_C_IN" "$PAIR_C_ADMIN" "$ORIGIN_PORT" agent-b \
  "$PAIR_D_IN" "$(spiffe_id pair-d)" "" notrace
# Idle memory, right after the ready line and before any request: "VmRSS RssAnon BINARY" in kB, BINARY being the
# resident pages of the tollway executable's own mappings (/proc/PID/smaps).
TOLLWAY_REAL=$(readlink -f "$TOLLWAY_BIN")
idle_rss() {
  awk '/^(VmRSS|RssAnon):/ {printf "%s ", $2}' "/proc/$1/status"
  awk -v bin="$TOLLWAY_REAL" '/^[0-9a-f]+-[0-9a-f]+ / {mine = ($6 == bin)} mine && /^Rss:/ {kb += $2} END {print kb}' \
    "/proc/$1/smaps"
}
start_sidecar pair-b; PAIR_B_PID=$SIDECAR_PID; IDLE_B=$(idle_rss "$PAIR_B_PID")
start_sidecar pair-a; PAIR_A_PID=$SIDECAR_PID; IDLE_A=$(idle_rss "$PAIR_A_PID")
start_sidecar pair-d; PAIR_D_PID=$SIDECAR_PID; IDLE_D=$(idle_rss "$PAIR_D_PID")
start_sidecar pair-c; PAIR_C_PID=$SIDECAR_PID; IDLE_C=$(idle_rss "$PAIR_C_PID")

# ---- the nginx pair: A plain -> B TLS with a client certificate -> origin --------------------------------------------
write_nginx() { # dir listen-lines upstream-port location-lines
  cat > "$1/nginx.conf" <<EOF
worker_processes 1;
daemon on;
pid $1/nginx.pid;
error_log $1/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $1/tmp/body; proxy_temp_path $1/tmp/proxy;
  fastcgi_temp_path $1/tmp/fcgi; uwsgi_temp_path $1/tmp/uwsgi; scgi_temp_path $1/tmp/scgi;
  keepalive_requests 1000000;
  upstream next { server 127.0.0.1:$3; keepalive 64; keepalive_requests 1000000; }
  server {
$2
    location / {
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
$4
    }
  }
}
EOF
}
write_nginx "$OUT/nginx-b" "    listen 127.0.0.1:$NGINX_B_PORT ssl;
    ssl_certificate $OUT/tls/nginx-b.pem;
    ssl_certificate_key $OUT/tls/nginx-b.key;
    ssl_client_certificate $OUT/tls/ca.pem;
    ssl_verify_client on;" "$ORIGIN_PORT" "      proxy_pass http://next;"
write_nginx "$OUT/nginx-a" "    listen 127.0.0.1:$NGINX_A_PORT;" "$NGINX_B_PORT" "      proxy_pass https://next;
      proxy_ssl_certificate $OUT/tls/nginx-a.pem;
      proxy_ssl_certificate_key $OUT/tls/nginx-a.key;
      proxy_ssl_trusted_certificate $OUT/tls/ca.pem;
      proxy_ssl_verify on;
      proxy_ssl_name agent-b;
      proxy_ssl_session_reuse on;"
taskset -c $CORE_PROXY nginx -p "$OUT/nginx-b" -c "$OUT/nginx-b/nginx.conf"
taskset -c $CORE_PROXY nginx -p "$OUT/nginx-a" -c "$OUT/nginx-a/nginx.conf"

# ---- everything answers ----------------------------------------------------------------------------------------------
wait_log "$OUT/agents.log" 'agents ready' agents
wait_log "$OUT/gateway.log" '"gateway ready"' gateway
check() { # what expected-body-pattern curl-args...
  local what=$1 pattern=$2 body
  shift 2
  body=$(curl -sS --max-time 5 "$@" || true)
  grep -q "$pattern" <<< "$body" || { echo "run.sh: $what answered '$body'" >&2; exit 1; }
}
A0="http://127.0.0.1:${AGENT_PORTS[0]}"
for topology in direct gateway sidecar; do check "chain ($topology)" "\"agent\":$((AGENTS - 1))" "$A0/$topology"; done
check "sidecar pair" '"chat.completion"' -x "http://127.0.0.1:$PAIR_A_OUT" http://agent-b/v1/chat/completions
check "untraced sidecar pair" '"chat.completion"' -x "http://127.0.0.1:$PAIR_C_OUT" http://agent-b/v1/chat/completions
check "nginx pair" '"chat.completion"' -H 'Host: agent-b' "http://127.0.0.1:$NGINX_A_PORT/v1/chat/completions"
# mTLS really is required on a sidecar's inbound listener and nginx B's: plaintext and no certificate are refused.
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${IN_PORTS[1]}/sidecar" || true)
[ "$status" != 200 ] || { echo "run.sh: a sidecar inbound listener answered plaintext" >&2; exit 1; }
status=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$NGINX_B_PORT/v1/chat/completions" || true)
[ "$status" = 400 ] || {
  echo "run.sh: nginx B answered $status without a client certificate (expected 400)" >&2
  exit 1
}

# ---- measurements ----------------------------------------------------------------------------------------------------
RAW="$OUT/raw.txt"; : > "$RAW"
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
nginx_worker() { pgrep -P "$(cat "$OUT/$1/nginx.pid")" | head -1; }
NGINX_A_WORKER=$(nginx_worker nginx-a); NGINX_B_WORKER=$(nginx_worker nginx-b)
wrk_run() { taskset -c $CORE_LOAD wrk -t1 "$@"; }
latency_run() { # name url
  { echo "=== latency $1"; wrk_run -c1 -d"$DURATION" --latency "$2"; } >> "$RAW"
}
cpu_run() { # name port pids...
  local name=$1 port=$2 t0 t1 out
  shift 2
  t0=$(cpu_ticks "$@")
  out=$(wrk_run -c16 -d"$CPU_DURATION" -s "$HERE/absolute.lua" "http://127.0.0.1:$port")
  t1=$(cpu_ticks "$@")
  { echo "=== cpu $name cpu_ticks=$((t1 - t0)) clk_tck=$CLK_TCK"; echo "$out"; } >> "$RAW"
}
ONE_HOP="http://127.0.0.1:${AGENT_PORTS[AGENTS - 2]}"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "hops bench: $((AGENTS - 1)) hops, reps=$REPS, latency runs ${DURATION} at c=1," \
  "cpu runs ${CPU_DURATION} at c=16" >&2
for topology in direct gateway sidecar; do wrk_run -c1 -d1s "$A0/$topology" > /dev/null; done  # warm-up
wrk_run -c16 -d1s -s "$HERE/absolute.lua" "http://127.0.0.1:$PAIR_A_OUT" > /dev/null
wrk_run -c16 -d1s -s "$HERE/absolute.lua" "http://127.0.0.1:$PAIR_C_OUT" > /dev/null
wrk_run -c16 -d1s -s "$HERE/absolute.lua" "http://127.0.0.1:$NGINX_A_PORT" > /dev/null
for rep in $(seq 1 "$REPS"); do
  for topology in direct gateway sidecar; do
    latency_run "chain_$topology" "$A0/$topology"
    latency_run "hop_$topology" "$ONE_HOP/$topology"
  done
  cpu_run sidecar_pair "$PAIR_A_OUT" "$PAIR_A_PID" "$PAIR_B_PID"
  cpu_run sidecar_pair_untraced "$PAIR_C_OUT" "$PAIR_C_PID" "$PAIR_D_PID"
  cpu_run nginx_pair "$NGINX_A_PORT" "$NGINX_A_WORKER" "$NGINX_B_WORKER"
  echo "  rep $rep/$REPS done" >&2
done
# Kernel side per request, uninstrumented: syscalls and context switches of both proxies of each pair (perf stat on
# tracepoints over a 3 s c=16 run), when perf can read tracepoints here. One line per pair: "name requests syscalls
# context-switches".
SYSCALLS="$OUT/syscalls.txt"; : > "$SYSCALLS"
count_syscalls() { # name port pids...
  local name=$1 port=$2 perf_pid requests
  shift 2
  perf stat -x, -e raw_syscalls:sys_enter,context-switches -p "$(join "$@")" -o "$OUT/perf.$name.txt" &
  perf_pid=$!
  sleep 0.3
  requests=$(wrk_run -c16 -d3s -s "$HERE/absolute.lua" "http://127.0.0.1:$port" | awk '/requests in/ {print $1}')
  kill -INT "$perf_pid"; wait "$perf_pid" || true
  echo "$name $requests $(awk -F, '/raw_syscalls:sys_enter/ {print $1}' "$OUT/perf.$name.txt")" \
    "$(awk -F, '/context-switches/ {print $1}' "$OUT/perf.$name.txt")" >> "$SYSCALLS"
}
if command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter,context-switches true >/dev/null 2>&1; then
  count_syscalls sidecar_pair "$PAIR_A_OUT" "$PAIR_A_PID" "$PAIR_B_PID"
  count_syscalls sidecar_pair_untraced "$PAIR_C_OUT" "$PAIR_C_PID" "$PAIR_D_PID"
  count_syscalls nginx_pair "$NGINX_A_PORT" "$NGINX_A_WORKER" "$NGINX_B_WORKER"
fi
# Memory under an open-loop $RATE rps through each pair (after the closed-loop runs above: the pairs are warm):
# first from a client pool of at most 16 connections, then unbounded (a connection per request in flight). Freed
# memory is not given back, so the unbounded figure includes the first run's.
at_rate() { # max-sockets outbound-port pid pid
  taskset -c $CORE_LOAD node "$HERE/open_loop.mjs" --port "$2" --path http://agent-b/v1/chat/completions \
    --host agent-b --rate "$RATE" --seconds "$RATE_SECONDS" --max-sockets "$1" --pids "$3,$4"
}
RATE_TRACED_16=$(at_rate 16 "$PAIR_A_OUT" "$PAIR_A_PID" "$PAIR_B_PID")
RATE_UNTRACED_16=$(at_rate 16 "$PAIR_C_OUT" "$PAIR_C_PID" "$PAIR_D_PID")
RATE_TRACED=$(at_rate 100000 "$PAIR_A_OUT" "$PAIR_A_PID" "$PAIR_B_PID")
RATE_UNTRACED=$(at_rate 100000 "$PAIR_C_OUT" "$PAIR_C_PID" "$PAIR_D_PID")
# Startup to ready of sidecar B's config (tracing on): from a persisted snapshot (control plane down) and from the file.
STARTUP=$(taskset -c $CORE_LOAD node "$HERE/startup.mjs" --bin "$TOLLWAY_BIN" --config "$OUT/sidecars/pair-b.yaml" \
  --dir "$OUT/startup" --core $CORE_PROXY)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
spans() { # result -> that fate's span count over every sidecar (tollway_otlp_spans_total)
  local port total=0
  for port in "${ADMIN_PORTS[@]}" "$PAIR_A_ADMIN" "$PAIR_B_ADMIN"; do
    total=$((total + $(curl -s "http://127.0.0.1:$port/metrics" |
      awk -v r="$1" '$1 == "tollway_otlp_spans_total{result=\""r"\"}" {print $2; f=1} END {if (!f) print 0}')))
  done
  echo $total
}
SPANS="exported $(spans exported), dropped $(spans dropped), failed $(spans failed)"
kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null || true

node "$HERE/report.mjs" --raw "$RAW" --doc "$ROOT/docs/benchmarks.md" ${NO_DOC:+--no-doc} --hops $((AGENTS - 1)) \
  --reps "$REPS" --duration "$DURATION" --cpu-duration "$CPU_DURATION" \
  --load-start "$LOAD_START" --load-end "$LOAD_END" \
  --idle "$IDLE_A,$IDLE_B,$IDLE_C,$IDLE_D" --rate-traced "$RATE_TRACED" --rate-untraced "$RATE_UNTRACED" \
  --rate-traced-16 "$RATE_TRACED_16" --rate-untraced-16 "$RATE_UNTRACED_16" \
  --startup "$STARTUP" \
  --sink "$(cat "$OUT/sink.json")" \
  --spans "$SPANS" --syscalls "$SYSCALLS" --tollway-version "$("$TOLLWAY_BIN" version 2>/dev/null | head -1)" \
  --nginx-version "$(nginx -v 2>&1)" --cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
