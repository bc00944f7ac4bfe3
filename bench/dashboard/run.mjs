#!/usr/bin/env node
// Dashboard benchmark (issue 20): what the dashboard's API costs for a 1,000-node fleet, and the whole UI's weight.
// - A control plane on a policy directory declaring NODES gateway nodes (each its own bootstrap token), every one of
//   which then polls its snapshot and acknowledges it over HTTP as a real node does (so the fleet is NODES SYNCED
//   nodes with versions, builds and labels, not declared-only rows).
// - Latency: REQUESTS sequential GET /v1/fleet and GET /v1/history with the admin token, as the dashboard polls them
//   (p50 / p99 / max as the client sees them); the target is an absolute p99 ≤ 50 ms.
// - Page weight: the bytes of every file the UI loads (/ui and what it references), uncompressed; target ≤ 300 KB.
// - The trace window: SPANS spans (default 10,000, the default --trace-window-spans) in traces of 8 spans across three
//   services, posted to POST /v1/traces as OTLP JSON in batches of 512 (our exporter's batch size); then the p99 of
//   GET /v1/traces (as the Traces page polls it, and with the largest limit) and GET /v1/traces/ID, and the control
//   plane's resident memory (VmRSS) per span held: after the first fill, and after two more fills have turned the
//   whole window over (the steady state). GET /healthz in the same run is the reference (the listener's own floor).
// Prints the markdown section and writes it into docs/benchmarks.md under "## Dashboard (bench/dashboard)"
// (NO_DOC=1: not). Usage: node bench/dashboard/run.mjs   env: TOLLWAY_BIN, NODES (1000), REQUESTS (500), SPANS (10000),
// NO_DOC=1
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDocSection } from '../lib/doc_section.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
process.env.TOLLWAY_SOURCE_DIR ??= ROOT;
const { BASE, providers, MODELS, policyDir, startControl } = await import('../../tests/integration/control/control_harness.mjs');
const NODES = Number(process.env.NODES ?? 1000);
const REQUESTS = Number(process.env.REQUESTS ?? 500);
const SPANS = Number(process.env.SPANS ?? 10000);
const SPANS_PER_TRACE = 8;
const BATCH = 512;
const ADMIN = 'bench-admin-token-0123456789';
const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');

const policy = policyDir();
policy.write('base.yaml', BASE);
policy.write('providers.yaml', providers('http://127.0.0.1:9', 'http://127.0.0.1:9'));
policy.write('models.yaml', MODELS);
let nodes = 'nodes:\n';
for (let i = 0; i < NODES; i++)
  nodes += `  gw-${i}:\n    labels: {role: gateway, zone: z${i % 3}, tenant: t${i % 50}}\n    token_sha256: ${sha256(`token-${i}`)}\n`;
policy.write('nodes.yaml', nodes);
const cp = await startControl({ policy: policy.dir, adminToken: ADMIN,
  extraArgs: ['--traces-unauthenticated', '--trace-window-spans', String(SPANS)] });
const rssKiB = () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${cp.proc.pid}/status`, 'utf8'))[1]);

// The spans of trace number `t`, as gateways and sidecars export them: an edge gateway's SERVER span and its CLIENT
// attempt, a sidecar hop (CLIENT, then the next sidecar's SERVER), an inner gateway's SERVER and two attempts.
function traceSpans(t) {
  const traceId = crypto.createHash('md5').update(`trace-${t}`).digest('hex');
  const id = (k) => `${(t & 0xffffffff).toString(16).padStart(8, '0')}${k.toString(16).padStart(8, '0')}`;
  const t0 = 1700000000000000000n + BigInt(t) * 10000000n;
  const span = (k, parent, service, name, kind, from, to, attributes = []) => [service, {
    traceId, spanId: id(k), parentSpanId: parent ? id(parent) : '', name, kind, flags: 1,
    startTimeUnixNano: String(t0 + BigInt(from) * 1000n), endTimeUnixNano: String(t0 + BigInt(to) * 1000n),
    attributes: [{ key: 'http.response.status_code', value: { intValue: '200' } },
      { key: 'tollway.request_id', value: { stringValue: crypto.randomUUID() } }, ...attributes],
    status: { code: 0 } }];
  const hops = (n) => [{ key: 'tollway.hops', value: { intValue: String(n) } },
    { key: 'tollway.peer', value: { stringValue: 'agent-b' } }];
  return [
    span(1, 0, 'gateway-edge', 'POST /v1/chat/completions', 2, 0, 9000),
    span(2, 1, 'gateway-edge', 'chat gpt-4o-mini', 3, 200, 8800),
    span(3, 2, 'sidecar-a', 'POST /v1/chat/completions', 3, 300, 8700, hops(1)),
    span(4, 3, 'sidecar-b', 'POST /v1/chat/completions', 2, 500, 8500, hops(1)),
    span(5, 4, 'sidecar-b', 'GET /tools/search', 3, 600, 1600, hops(2)),
    span(6, 4, 'gateway-inner', 'POST /v1/chat/completions', 2, 1800, 8400),
    span(7, 6, 'gateway-inner', 'chat gpt-4o-mini', 3, 1900, 3000),
    span(8, 6, 'gateway-inner', 'chat gpt-4o-mini', 3, 3100, 8300),
  ].slice(0, SPANS_PER_TRACE);
}
// Posts traces [first, first + count) in OTLP JSON batches of BATCH spans, one resource per service.
async function postTraces(first, count) {
  let pending = [];
  const flush = async () => {
    const byService = new Map();
    for (const [service, span] of pending) byService.set(service, [...(byService.get(service) ?? []), span]);
    pending = [];
    const body = { resourceSpans: [...byService].map(([service, spans]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ scope: { name: 'tollway', version: '0.1.0' }, spans }] })) };
    const r = await fetch(`${cp.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body) });
    if (r.status !== 200 || (await r.text()) !== '{}\n') throw new Error(`POST /v1/traces: ${r.status}`);
  };
  for (let t = first; t < first + count; t++) {
    pending.push(...traceSpans(t));
    if (pending.length >= BATCH) await flush();
  }
  if (pending.length) await flush();
}
try {
  // Every node fetches its snapshot and acknowledges it (32 at a time).
  const join = async (i) => {
    const auth = { authorization: `Bearer token-${i}` };
    const snap = await (await fetch(`${cp.url}/v1/snapshot?node=gw-${i}&build=0.1.0`, { headers: auth })).json();
    const ack = await fetch(`${cp.url}/v1/ack`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ node: `gw-${i}`, version: snap.version, nonce: snap.nonce }) });
    if (ack.status !== 200) throw new Error(`gw-${i}: ack ${ack.status} ${await ack.text()}`);
  };
  for (let i = 0; i < NODES; i += 32) await Promise.all(Array.from({ length: Math.min(32, NODES - i) }, (_, k) => join(i + k)));
  const admin = { authorization: `Bearer ${ADMIN}` };
  const fleet = await (await fetch(`${cp.url}/v1/fleet`, { headers: admin })).json();
  const synced = fleet.nodes.filter((n) => n.state === 'SYNCED').length;
  if (synced !== NODES) throw new Error(`${synced} of ${NODES} nodes SYNCED`);

  const measure = async (p) => {
    const ms = [];
    let bytes = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const t0 = process.hrtime.bigint();
      const r = await fetch(`${cp.url}${p}`, { headers: admin });
      const text = await r.text();
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 200) throw new Error(`${p}: ${r.status}`);
      bytes = text.length;
    }
    ms.sort((a, b) => a - b);
    const q = (f) => ms[Math.min(ms.length - 1, Math.floor(f * ms.length))];
    return { p50: q(0.5), p99: q(0.99), max: ms.at(-1), bytes };
  };
  // The same sequence timed by curl (one process, one kept-alive connection): a client that costs little per byte, so
  // the large answer's time is the control plane's and the wire's rather than the Node client's parsing.
  const measureCurl = (p) => {
    const out = execFileSync('curl', ['-sS', '-H', `authorization: Bearer ${ADMIN}`, '-w', '%{http_code} %{time_total} %{size_download}\\n',
      ...Array.from({ length: REQUESTS }, () => ['-o', '/dev/null', `${cp.url}${p}`]).flat()], { maxBuffer: 1 << 24 });
    const rows = out.toString().trim().split('\n').map((l) => l.split(' '));
    if (rows.length !== REQUESTS || rows.some(([code]) => code !== '200')) throw new Error(`${p} by curl: ${out}`);
    const ms = rows.map(([, t]) => Number(t) * 1000).sort((a, b) => a - b);
    const q = (f) => ms[Math.min(ms.length - 1, Math.floor(f * ms.length))];
    return { p50: q(0.5), p99: q(0.99), max: ms.at(-1), bytes: Number(rows[0][2]) };
  };
  const fleetTimes = await measure('/v1/fleet');
  const historyTimes = await measure('/v1/history');

  // The trace window: fill it, measure its queries, then turn it over twice for the steady state's memory.
  const traces = Math.ceil(SPANS / SPANS_PER_TRACE);
  const rssEmpty = rssKiB();
  await postTraces(0, traces);
  const rssFull = rssKiB();
  const list = await (await fetch(`${cp.url}/v1/traces?limit=1000`, { headers: admin })).json();
  if (list.spans_held !== SPANS) throw new Error(`the window holds ${list.spans_held} spans, not ${SPANS}`);
  const healthTimes = await measure('/healthz');
  const tracesTimes = await measure('/v1/traces?limit=50');
  const tracesAllTimes = await measure('/v1/traces?limit=1000');
  const tracesAllCurl = measureCurl('/v1/traces?limit=1000');
  const healthCurl = measureCurl('/healthz');
  const ids = list.traces.map((t) => t.trace_id);
  let next = 0;
  const measureEach = async () => {
    const ms = [];
    let bytes = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const traceId = ids[(next = (next + 7919) % ids.length)];
      const t0 = process.hrtime.bigint();
      const r = await fetch(`${cp.url}/v1/traces/${traceId}`, { headers: admin });
      const text = await r.text();
      ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (r.status !== 200) throw new Error(`/v1/traces/${traceId}: ${r.status}`);
      bytes = text.length;
    }
    ms.sort((a, b) => a - b);
    const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
    return { p50: q(0.5), p99: q(0.99), max: ms.at(-1), bytes };
  };
  const traceTimes = await measureEach();
  const loadStart = process.hrtime.bigint();
  await postTraces(traces, 2 * traces);
  const loadSeconds = Number(process.hrtime.bigint() - loadStart) / 1e9;
  const rssTurned = rssKiB();
  const perSpan = (kib) => ((kib - rssEmpty) * 1024) / SPANS;

  // The UI: /ui and every same-origin file it references (scripts, styles, icons), uncompressed.
  const html = await (await fetch(`${cp.url}/ui`)).text();
  const refs = [...html.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)].map((m) => m[1]);
  let weight = Buffer.byteLength(html);
  for (const ref of new Set(refs)) weight += (await (await fetch(`${cp.url}${ref}`)).arrayBuffer()).byteLength;

  const f = (n) => n.toFixed(2);
  const met = (ok) => (ok ? '**met**' : '**not met**');
  const section = `## Dashboard (bench/dashboard)

\`node bench/dashboard/run.mjs\` (NODES=${NODES}, REQUESTS=${REQUESTS}), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus()[0].model.trim()} (${os.cpus().length} cores, shared with other builds: noisy), tollway 0.1.0.

**Method.** One control plane on a policy directory declaring ${NODES} gateway nodes (labels role, zone, tenant); each node fetched its snapshot and acknowledged it over HTTP as a running node does, so \`/v1/fleet\` lists ${NODES} SYNCED nodes (checked). Then ${REQUESTS} sequential GETs of each API the dashboard polls, with the admin token, timed by the client (Node's fetch, keep-alive); the largest trace list also by curl (one connection, no parsing). Page weight: \`/ui\` and every \`/ui/…\` file it references, uncompressed.

| measured | p50 | p99 | max | answer size | target | result |
|---|---|---|---|---|---|---|
| GET /v1/fleet (${NODES} nodes) | ${f(fleetTimes.p50)} ms | ${f(fleetTimes.p99)} ms | ${f(fleetTimes.max)} ms | ${fleetTimes.bytes} bytes | p99 ≤ 50 ms | ${met(fleetTimes.p99 <= 50)} |
| GET /v1/history | ${f(historyTimes.p50)} ms | ${f(historyTimes.p99)} ms | ${f(historyTimes.max)} ms | ${historyTimes.bytes} bytes | p99 ≤ 50 ms | ${met(historyTimes.p99 <= 50)} |
| GET /v1/traces?limit=50 (${list.traces_held} traces, ${SPANS} spans held) | ${f(tracesTimes.p50)} ms | ${f(tracesTimes.p99)} ms | ${f(tracesTimes.max)} ms | ${tracesTimes.bytes} bytes | p99 ≤ 50 ms | ${met(tracesTimes.p99 <= 50)} |
| GET /v1/traces?limit=1000 | ${f(tracesAllTimes.p50)} ms | ${f(tracesAllTimes.p99)} ms | ${f(tracesAllTimes.max)} ms | ${tracesAllTimes.bytes} bytes | p99 ≤ 50 ms | ${met(tracesAllTimes.p99 <= 50)} |
| GET /v1/traces?limit=1000, timed by curl | ${f(tracesAllCurl.p50)} ms | ${f(tracesAllCurl.p99)} ms | ${f(tracesAllCurl.max)} ms | ${tracesAllCurl.bytes} bytes | p99 ≤ 50 ms | ${met(tracesAllCurl.p99 <= 50)} |
| reference: GET /healthz timed by curl | ${f(healthCurl.p50)} ms | ${f(healthCurl.p99)} ms | ${f(healthCurl.max)} ms | ${healthCurl.bytes} bytes | | |
| GET /v1/traces/ID (${SPANS_PER_TRACE} spans) | ${f(traceTimes.p50)} ms | ${f(traceTimes.p99)} ms | ${f(traceTimes.max)} ms | ${traceTimes.bytes} bytes | p99 ≤ 50 ms | ${met(traceTimes.p99 <= 50)} |
| reference: GET /healthz, same run | ${f(healthTimes.p50)} ms | ${f(healthTimes.p99)} ms | ${f(healthTimes.max)} ms | ${healthTimes.bytes} bytes | | GET /v1/traces?limit=50 p50 = ${f(tracesTimes.p50 / healthTimes.p50)} × /healthz |
| the whole UI (${1 + new Set(refs).size} files) | | | | ${weight} bytes | ≤ 300 KB | ${met(weight <= 300 * 1024)} |

**Trace window memory** (\`--trace-window-spans ${SPANS}\`; ${traces} traces of ${SPANS_PER_TRACE} spans over 4 services, each span with 2–4 attributes as our nodes export them, posted as OTLP JSON in batches of ${BATCH} spans). The control plane's VmRSS: ${rssEmpty} KiB before any span, ${rssFull} KiB with the window full (${f(perSpan(rssFull))} bytes per span held), ${rssTurned} KiB after ${2 * SPANS} more spans turned the whole window over twice (${f(perSpan(rssTurned))} bytes per span held: the steady state, allocator slack included; the window keeps ids, times, name, service, status and 4 tollway attributes per span, not the others). Those ${2 * SPANS} spans took ${f(loadSeconds)} s to post and evict (${Math.round((2 * SPANS) / loadSeconds)} spans/s, one sender, sequential requests). History: before the admin listener set TCP_NODELAY (2026-12-07), the 1000-trace list's p99 was 49–53 ms: the answer's last partial segment waited for the client's delayed ACK (Nagle).
`;
  console.log(section);
  if (process.env.NO_DOC !== '1') writeDocSection(path.join(ROOT, 'docs', 'benchmarks.md'), '## Dashboard (bench/dashboard)', section);
} finally {
  await cp.stop();
}
