#!/usr/bin/env node
// Dashboard benchmark (issue 20): what the dashboard's API costs for a 1,000-node fleet, and the whole UI's weight.
// - A control plane on a policy directory declaring NODES gateway nodes (each its own bootstrap token), every one of
//   which then polls its snapshot and acknowledges it over HTTP as a real node does (so the fleet is NODES SYNCED
//   nodes with versions, builds and labels, not declared-only rows).
// - Latency: REQUESTS sequential GET /v1/fleet and GET /v1/history with the admin token, as the dashboard polls them
//   (p50 / p99 / max as the client sees them); the target is an absolute p99 ≤ 50 ms.
// - Page weight: the bytes of every file the UI loads (/ui and what it references), uncompressed; target ≤ 300 KB.
// The trace window (10,000 recent spans) is not built yet, so its latency and memory are not measured here.
// Prints the markdown section and writes it into docs/benchmarks.md under "## Dashboard (bench/dashboard)"
// (NO_DOC=1: not). Usage: node bench/dashboard/run.mjs   env: TOLLWAY_BIN, NODES (1000), REQUESTS (500), NO_DOC=1
import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDocSection } from '../lib/doc_section.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
process.env.TOLLWAY_SOURCE_DIR ??= ROOT;
const { BASE, providers, MODELS, policyDir, startControl } = await import('../../tests/integration/control/control_harness.mjs');
const NODES = Number(process.env.NODES ?? 1000);
const REQUESTS = Number(process.env.REQUESTS ?? 500);
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
const cp = await startControl({ policy: policy.dir, adminToken: ADMIN });
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
  const fleetTimes = await measure('/v1/fleet');
  const historyTimes = await measure('/v1/history');

  // The UI: /ui and every same-origin file it references (scripts, styles, icons), uncompressed.
  const html = await (await fetch(`${cp.url}/ui`)).text();
  const refs = [...html.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)].map((m) => m[1]);
  let weight = Buffer.byteLength(html);
  for (const ref of new Set(refs)) weight += (await (await fetch(`${cp.url}${ref}`)).arrayBuffer()).byteLength;

  const f = (n) => n.toFixed(2);
  const met = (ok) => (ok ? '**met**' : '**not met**');
  const section = `## Dashboard (bench/dashboard)

\`node bench/dashboard/run.mjs\` (NODES=${NODES}, REQUESTS=${REQUESTS}), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${os.cpus()[0].model.trim()} (${os.cpus().length} cores, shared with other builds: noisy), tollway 0.1.0.

**Method.** One control plane on a policy directory declaring ${NODES} gateway nodes (labels role, zone, tenant); each node fetched its snapshot and acknowledged it over HTTP as a running node does, so \`/v1/fleet\` lists ${NODES} SYNCED nodes (checked). Then ${REQUESTS} sequential GETs of each API the dashboard polls, with the admin token, timed by the client (keep-alive). Page weight: \`/ui\` and every \`/ui/…\` file it references, uncompressed.

| measured | p50 | p99 | max | answer size | target | result |
|---|---|---|---|---|---|---|
| GET /v1/fleet (${NODES} nodes) | ${f(fleetTimes.p50)} ms | ${f(fleetTimes.p99)} ms | ${f(fleetTimes.max)} ms | ${fleetTimes.bytes} bytes | p99 ≤ 50 ms | ${met(fleetTimes.p99 <= 50)} |
| GET /v1/history | ${f(historyTimes.p50)} ms | ${f(historyTimes.p99)} ms | ${f(historyTimes.max)} ms | ${historyTimes.bytes} bytes | p99 ≤ 50 ms | ${met(historyTimes.p99 <= 50)} |
| the whole UI (${1 + new Set(refs).size} files) | | | | ${weight} bytes | ≤ 300 KB | ${met(weight <= 300 * 1024)} |

Not measured yet: the trace window (10,000 recent spans: its API latency and memory per span) — the control plane does not keep one yet.
`;
  console.log(section);
  if (process.env.NO_DOC !== '1') writeDocSection(path.join(ROOT, 'docs', 'benchmarks.md'), '## Dashboard (bench/dashboard)', section);
} finally {
  await cp.stop();
}
