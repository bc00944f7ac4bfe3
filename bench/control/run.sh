#!/usr/bin/env bash
# Control-plane benchmark (issue 15): the fan-out of one policy change to NODES (1,000) simulated proxies against
# etcd's own watch fan-out of one change to as many watchers, in the same run; the control plane's memory per
# connected proxy and CPU per push.
# - One `tollway control --policy DIR` (poll timeout 60 s, so no poll times out during a round) with NODES declared
#   gateway nodes, each with its own bootstrap token (nodes.yaml holds their sha256), and one etcd 3.4 member.
# - bench/control/fleet_client.cc (control_fleet_client: one single-threaded Asio process) holds NODES long polls, one
#   connection per node, ACKs every new document and polls again; then NODES etcd watchers (POST /v3/watch on the
#   JSON gateway) on one key. It reports its own CPU time per round.
#   Each of REPS rounds rewrites base.yaml (timeouts.upstream_total: every node's document changes) and waits for
#   NODES ACKs;
#   each of REPS etcd rounds puts the key and waits for NODES events.
# - Latency: p50 / p99 over the NODES nodes of each round, then the median over the rounds. For the control plane:
#   from its `policy published` log line (fan-out: comparable with etcd's put -> event) to each document received
#   and to each ACK answered, and from the file's rename (end to end: its 200 ms directory poll, the check of every
#   node's document, the history).
# - Memory: VmRSS of the control plane with no poll and with NODES polls waiting, / NODES. CPU per push: utime+stime
#   of the control plane over a round (/proc/PID/stat) / NODES; the policy check alone is `tollway validate DIR`'s
#   CPU time on the same directory.
# Pinning: the control plane and etcd on core 1, the client on core 0. Prints the markdown section and writes it into
# docs/benchmarks.md under "## Control plane (bench/control)" (NO_DOC=1: not); raw output in build/bench/control/.
# Usage: bench/control/run.sh   env: TOLLWAY_BIN, CLIENT_BIN, NODES (1000), REPS (3), NO_DOC=1
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bench/control"
source "$ROOT/bench/lib/processes.sh"  # free_ports, wait_log
OUT="$ROOT/build/bench/control"
TOLLWAY_BIN="${TOLLWAY_BIN:-$ROOT/build/release/tollway}"
CLIENT_BIN="${CLIENT_BIN:-$ROOT/build/release/bench/control/control_fleet_client}"
NODES="${NODES:-1000}"
REPS="${REPS:-3}"
CORE_CLIENT=0
CORE_SERVER=1

for tool in node etcd taskset; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (scripts/install-deps.sh --bench)" >&2; exit 1; }
done
[ -x "$CLIENT_BIN" ] || cmake --build "$ROOT/build/release" --target control_fleet_client >/dev/null
[ -x "$TOLLWAY_BIN" ] || { echo "run.sh: $TOLLWAY_BIN not built (cmake --build --preset release --target tollway)" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] || { echo "run.sh: needs 2 cores for the pinning" >&2; exit 1; }
[ "$(ulimit -n)" -ge $((NODES * 2 + 200)) ] || ulimit -n $((NODES * 2 + 200))

rm -rf "$OUT"
mkdir -p "$OUT"/{state,etcd}
# The policy directory lives outside any Git work tree: in one, every publish would also run `git log` and `git
# status` on that tree (the history's author and commit), which is not the control plane's fan-out.
# It is copied to build/bench/control/policy at the end.
POLICY="$(mktemp -d /tmp/tollway-control-bench-policy.XXXXXX)"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -d "$POLICY" ]; then cp -r "$POLICY" "$OUT/policy"; rm -rf "$POLICY"; fi
}
trap cleanup EXIT

# ---- the policy: one provider, a route, NODES gateway nodes with their own tokens ---------------------------------
node -e '
  const crypto = require("crypto"), fs = require("fs");
  const [out, n] = [process.argv[1], Number(process.argv[2])];
  let list = "";
  let yaml = "nodes:\n";
  for (let i = 0; i < n; i++) {
    const id = `gw-${String(i).padStart(4, "0")}`;
    const token = crypto.randomBytes(24).toString("hex");
    list += `${id} ${token}\n`;
    yaml += `  ${id}:\n    labels: {role: gateway, zone: z${i % 4}}\n    token_sha256: ${crypto.createHash("sha256").update(token).digest("hex")}\n`;
  }
  fs.writeFileSync(`${out}/nodes.txt`, list);
  fs.writeFileSync(`${process.argv[3]}/nodes.yaml`, yaml);
' "$OUT" "$NODES" "$POLICY"
cat > "$POLICY/base.yaml" <<'EOF'
version: 1
gateway:
  workers: 1
timeouts:
  upstream_connect: 1s
  upstream_total: 10s
EOF
cat > "$POLICY/providers.yaml" <<'EOF'
providers:
  openai:
    api: openai
    base_url: http://127.0.0.1:9
    api_key: ${env:OPENAI_API_KEY:-sk-bench}
models:
  - match: "gpt-*"
    provider: openai
routes:
  - path: /v1/chat/completions
    api: openai
    provider: openai
EOF

# The check alone: `tollway validate DIR` (every node's document through the gateway's prepare), CPU seconds.
VALIDATE_CPU=$( { /usr/bin/time -f '%U %S' taskset -c $CORE_SERVER "$TOLLWAY_BIN" validate "$POLICY" >/dev/null; } 2>&1 | tail -1 | awk '{printf "%.3f", $1 + $2}')

# ---- processes ------------------------------------------------------------------------------------------------------
mapfile -t PORTS < <(free_ports 3)
CP_PORT=${PORTS[0]}; ETCD_PORT=${PORTS[1]}; ETCD_PEER=${PORTS[2]}
echo "admin-token-for-the-control-bench" > "$OUT/admin.token"
taskset -c $CORE_SERVER "$TOLLWAY_BIN" control --policy "$POLICY" --listen "127.0.0.1:$CP_PORT" \
  --admin-token-file "$OUT/admin.token" --state-dir "$OUT/state" --poll-timeout 60s > "$OUT/control.log" 2>&1 &
CP_PID=$!; PIDS+=("$CP_PID")
taskset -c $CORE_SERVER etcd --name bench --data-dir "$OUT/etcd/data" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
  --initial-cluster "bench=http://127.0.0.1:$ETCD_PEER" --logger zap --log-level error > "$OUT/etcd.log" 2>&1 &
ETCD_PID=$!; PIDS+=("$ETCD_PID")
wait_log "$OUT/control.log" '"control plane ready"' "tollway control"
for _ in $(seq 1 100); do curl -sf -X POST -d '{"key":"AA=="}' "http://127.0.0.1:$ETCD_PORT/v3/kv/range" >/dev/null && break; sleep 0.1; done

echo "control bench: $NODES nodes, $REPS rounds each (control plane, then etcd)" >&2
taskset -c $CORE_CLIENT "$CLIENT_BIN" --control "127.0.0.1:$CP_PORT" --nodes "$OUT/nodes.txt" \
  --policy-file "$POLICY/base.yaml" --cp-log "$OUT/control.log" --cp-pid "$CP_PID" --etcd "127.0.0.1:$ETCD_PORT" \
  --etcd-pid "$ETCD_PID" --reps "$REPS" --settle-ms 2000 > "$OUT/results.json"
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

node "$HERE/report.mjs" --results "$OUT/results.json" --doc "$ROOT/docs/benchmarks.md" --load-start "$LOAD_START" \
  --load-end "$LOAD_END" --validate-cpu "$VALIDATE_CPU" --tollway-version "$("$TOLLWAY_BIN" version 2>/dev/null | head -1)" \
  --etcd-version "$(etcd --version | head -1)" --cpu "$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" \
  ${NO_DOC:+--no-doc}
