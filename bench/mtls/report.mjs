// Renders bench/mtls/run.sh's raw results as the "## mTLS (bench/mtls)" section of docs/benchmarks.md (and stdout).
// Raw lines: "REP SERVER KIND CPU_US_TOTAL JSON" (KIND handshake | latency | keepalive; JSON from client.mjs).
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { writeDocSection } from '../lib/doc_section.mjs';

const { values: o } = parseArgs({ options: Object.fromEntries(['raw', 'ca', 'doc', 'reps', 'handshakes',
  'latency-count', 'requests', 'load-start', 'load-end', 'tollway-version', 'nginx-version']
  .map((k) => [k, { type: 'string' }]).concat([['no-doc', { type: 'boolean' }]])) });

const rows = fs.readFileSync(o.raw, 'utf8').trim().split('\n').map((l) => {
  const [rep, server, kind, cpu, ...json] = l.split(' ');
  return { rep: Number(rep), server, kind, cpu: Number(cpu), r: JSON.parse(json.join(' ')) };
});
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const range = (xs, digits) => `[${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]`;
const withRange = (xs, digits = 1) => `${median(xs).toFixed(digits)} ${range(xs, digits)}`;
const reps = [...new Set(rows.map((r) => r.rep))];
const of = (server, kind) => rows.filter((r) => r.server === server && r.kind === kind);
const perOp = (server, kind) => of(server, kind).map((r) => r.cpu / r.r.count);
const ratios = (kind) => reps.map((rep) => {
  const t = rows.find((r) => r.rep === rep && r.server === 'tollway' && r.kind === kind);
  const n = rows.find((r) => r.rep === rep && r.server === 'nginx' && r.kind === kind);
  return (t.cpu / t.r.count) / (n.cpu / n.r.count);
});

const hsRatio = ratios('handshake');
const kaRatio = ratios('keepalive');
const lines = [];
const line = (s = '') => lines.push(s);
line('## mTLS (bench/mtls)');
line();
line(`\`bench/mtls/run.sh\` (REPS=${o.reps}), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ` +
  `${o['tollway-version']}, ${o['nginx-version']}; load average ${o['load-start']} before, ${o['load-end']} after, ` +
  '2 cores (noisy: the ratios measured in the same run are the result). Medians over the repetitions, [min–max].');
line();
line('**Method.** One server at a time on core 1, the client (bench/mtls/client.mjs, Node\'s OpenSSL) on core 0. ' +
  '*tollway*: a sidecar\'s inbound listener (mTLS only; the client\'s X.509-SVID verified against the bundle, its ' +
  'SPIFFE ID authorized by one allow rule; then proxied to the local agent, here the benchmarks\' nginx origin). ' +
  '*nginx*: one worker, `ssl_verify_client on` with the same CA, the same server certificate, `proxy_pass` to the ' +
  'same origin over kept-alive connections. TLS 1.3, P-256 keys, each server with its defaults for session ' +
  'tickets, no session resumption by the client. Handshakes: ' +
  `${o.handshakes} connections, 4 at a time, each closed once its handshake completed; server CPU ` +
  '(utime+stime from /proc, nginx master + worker) / handshakes. Latency: ' +
  `${o['latency-count']} handshakes one at a time, as the client sees them. Kept-alive: ${o.requests} POSTs over 16 ` +
  'connections; server CPU / requests (the proxying to the origin included, for both).');
line();
line('| | tollway sidecar inbound | nginx | tollway ÷ nginx |');
line('|---|---:|---:|---:|');
const lat = (server, p) => median(of(server, 'latency').map((r) => r.r[p]));
const rate = (server, kind) => median(of(server, kind).map((r) => r.r.rate)).toFixed(0);
line(`| server CPU per handshake, µs | ${withRange(perOp('tollway', 'handshake'))} | ` +
  `${withRange(perOp('nginx', 'handshake'))} | ${withRange(hsRatio, 2)}× |`);
const latencies = (server) => `${lat(server, 'p50_us').toFixed(0)} / ${lat(server, 'p99_us').toFixed(0)}`;
line(`| handshake latency p50 / p99, µs (one at a time) | ${latencies('tollway')} | ${latencies('nginx')} | ` +
  `${(lat('tollway', 'p50_us') / lat('nginx', 'p50_us')).toFixed(2)}× (p50) |`);
line(`| handshakes/s (4 at a time) | ${rate('tollway', 'handshake')} | ${rate('nginx', 'handshake')} | |`);
line(`| server CPU per kept-alive request, µs | ${withRange(perOp('tollway', 'keepalive'))} | ` +
  `${withRange(perOp('nginx', 'keepalive'))} | ${withRange(kaRatio, 2)}× |`);
line(`| kept-alive requests/s (16 connections) | ${rate('tollway', 'keepalive')} | ${rate('nginx', 'keepalive')} | |`);
const bad = rows.filter((r) => r.kind === 'keepalive' && Object.keys(r.r.statuses).some((s) => s !== '200'));
line();
const badText = bad.map((r) => `${r.server} rep ${r.rep}: ${JSON.stringify(r.r.statuses)}`).join('; ');
line(bad.length ? `**Non-200 answers:** ${badText}.` : 'Every kept-alive request was answered 200 by both.');
line();

const runs = JSON.parse(fs.readFileSync(o.ca, 'utf8')).benchmarks;
// Repetitions report a median aggregate; a single repetition only its run.
const ca = runs.some((b) => b.aggregate_name === 'median') ? runs.filter((b) => b.aggregate_name === 'median') : runs;
const perSecond = (name) => ca.find((b) => b.run_name === name)?.items_per_second ?? NaN;
line('**CA issuance** (build/release/bench/mtls/ca_bench, Google Benchmark on core 1, median of the repetitions): ' +
  `**${perSecond('BM_IssueSvid').toFixed(0)} SVIDs/s** on one core (CertificateAuthority::issue: the CSR read and ` +
  'its ' +
  'signature verified, the certificate built and ECDSA P-256 signed); references in the same run: the CSR intake ' +
  `alone ` +
  `${perSecond('BM_VerifyCsr').toFixed(0)}/s, one ECDSA P-256 signature ` +
  `${perSecond('BM_EcdsaP256Sign').toFixed(0)}/s.`);
line();
const hs = median(hsRatio); const ka = median(kaRatio);
line('| target (issue 16) | measured | |');
line('|---|---|---|');
const verdict = (ok) => (ok ? '**met**' : '**not met**');
line(`| mTLS handshake CPU ≤ 1.1× nginx's | ${hs.toFixed(2)}× | ${verdict(hs <= 1.1)} |`);
line(`| CPU per request on kept-alive mTLS ≤ 1.3× nginx's | ${ka.toFixed(2)}× | ${verdict(ka <= 1.3)} |`);
line();
line('Rerun: `bench/mtls/run.sh` (env REPS, HANDSHAKES, LATENCY_COUNT, REQUESTS; NO_DOC=1 leaves this file ' +
  'alone); raw ' +
  'results in build/bench/mtls/; what changed these numbers: bench/mtls/history.md.');
const section = lines.join('\n') + '\n';
process.stdout.write(section);
if (!o['no-doc']) writeDocSection(o.doc, '## mTLS (bench/mtls)', section);
