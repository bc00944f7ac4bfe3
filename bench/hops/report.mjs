// Turns bench/hops/run.sh's raw wrk output, idle memory and open-loop results into medians, the added latency per
// topology, the sidecar/nginx CPU ratio against the targets, and the "## Hops (bench/hops)" section of
// docs/benchmarks.md (printed; written into the doc unless --no-doc; no other section is touched).
import fs from 'node:fs';
import os from 'node:os';
import { writeDocSection } from '../lib/doc_section.mjs';

const args = process.argv.slice(2);
const opt = (k, d = '') => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
const HEADING = '## Hops (bench/hops)';
const CPU_TARGET = 1.2;          // sidecar pair CPU per request / nginx pair's
const HOP_P50_TARGET_US = 100;   // added p50 per hop
const RSS_IDLE_TARGET_KB = 8 * 1024;
const RSS_LOADED_TARGET_KB = 16 * 1024;
const STARTUP_TARGET_MS = 50;

const toUs = (v, unit) => Number(v) * ({ us: 1, ms: 1000, s: 1e6 }[unit] ?? NaN);
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- parse ---------------------------------------------------------------------------------------------------------
const runs = [];
for (const block of fs.readFileSync(opt('raw'), 'utf8').split(/^=== /m).slice(1)) {
  const [header, ...rest] = block.split('\n');
  const text = rest.join('\n');
  const [kind, name] = header.split(' ');
  const cpu = /cpu_ticks=(\d+) clk_tck=(\d+)/.exec(header);
  const pct = (p) => {
    const x = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
    return x ? toUs(x[1], x[2]) : NaN;
  };
  const requests = Number(/^\s+(\d+) requests in/m.exec(text)?.[1] ?? NaN);
  runs.push({ kind, name, p50: pct(50), p99: pct(99), requests,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    socketErrors: /Socket errors: (.*)/.exec(text)?.[1] ?? null,
    rps: Number(/^Requests\/sec:\s+([\d.]+)/m.exec(text)?.[1] ?? NaN),
    cpuUsPerReq: cpu ? (Number(cpu[1]) * 1e6 / Number(cpu[2])) / requests : NaN });
}
const of = (kind, name) => runs.filter((r) => r.kind === kind && r.name === name);
const med = (kind, name, f) => median(of(kind, name).map(f));
const failures = runs.filter((r) => r.non2xx > 0 || r.socketErrors);

const hops = Number(opt('hops'));
const topologies = ['direct', 'gateway', 'sidecar'];
const lat = {};
for (const t of topologies) {
  const chain = `chain_${t}`; const hop = `hop_${t}`;
  lat[t] = { chainP50: med('latency', chain, (r) => r.p50), chainP99: med('latency', chain, (r) => r.p99),
    hopP50: med('latency', hop, (r) => r.p50), hopP99: med('latency', hop, (r) => r.p99) };
}
const added = (t, k) => lat[t][k] - lat.direct[k];
const pairs = [
  { name: 'sidecar_pair', label: 'tollway sidecar A + B, tracing on (as in c)' },
  { name: 'sidecar_pair_untraced', label: 'tollway sidecar C + D, no `telemetry` section' },
  { name: 'nginx_pair', label: 'nginx A + B' },
].map((p) => ({ ...p, cpu: med('cpu', p.name, (r) => r.cpuUsPerReq), rps: med('cpu', p.name, (r) => r.rps),
  runs: of('cpu', p.name).map((r) => r.cpuUsPerReq) }));
// "name requests syscalls context-switches" per pair, when perf could count them.
const kernel = {};
if (opt('syscalls') && fs.existsSync(opt('syscalls'))) {
  for (const line of fs.readFileSync(opt('syscalls'), 'utf8').split('\n')) {
    const [name, requests, syscalls, switches] = line.trim().split(/\s+/);
    if (!name) continue;
    kernel[name] = { syscalls: Number(syscalls) / Number(requests), switches: Number(switches) / Number(requests) };
  }
}
const perRequest = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const cpuOf = (name) => pairs.find((p) => p.name === name).cpu;
const ratio = cpuOf('sidecar_pair') / cpuOf('nginx_pair');
const ratioUntraced = cpuOf('sidecar_pair_untraced') / cpuOf('nginx_pair');

// Idle "VmRSS RssAnon binary-RSS" of A, B, C, D; at the rate the largest of each pid (A, B / C, D).
const idle = opt('idle').split(',').map((x) => x.trim().split(/\s+/).map(Number));
const traced = JSON.parse(opt('rate-traced', '{}'));
const untraced = JSON.parse(opt('rate-untraced', '{}'));
const traced16 = JSON.parse(opt('rate-traced-16', '{}'));
const untraced16 = JSON.parse(opt('rate-untraced-16', '{}'));
const startup = JSON.parse(opt('startup', '{"persisted":[],"file":[]}'));
const sidecars = [
  { label: 'A (traced; outbound: forward proxy, mTLS client)', idle: idle[0], pool16: traced16.max_rss?.[0],
    loaded: traced.max_rss?.[0] },
  { label: 'B (traced; inbound: mTLS server, authorization)', idle: idle[1], pool16: traced16.max_rss?.[1],
    loaded: traced.max_rss?.[1] },
  { label: 'C (untraced; outbound)', idle: idle[2], pool16: untraced16.max_rss?.[0], loaded: untraced.max_rss?.[0] },
  { label: 'D (untraced; inbound)', idle: idle[3], pool16: untraced16.max_rss?.[1], loaded: untraced.max_rss?.[1] },
];
const tracedIdleMax = Math.max(idle[0][0], idle[1][0]);
const largest = (run) => Math.max(run.max_rss?.[0]?.rss_kb ?? NaN, run.max_rss?.[1]?.rss_kb ?? NaN);

// ---- format --------------------------------------------------------------------------------------------------------
const us = (x) => (Number.isFinite(x) ? `${Math.round(x)} µs` : 'n/a');
const ms = (x) => (Number.isFinite(x) ? `${(x / 1000).toFixed(2)} ms` : 'n/a');
const millis = (x) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'n/a');
const mb = (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MB` : 'n/a');
const met = (ok) => (ok ? '**met**' : '**not met**');
const loadRun = (r) => `${r.achieved_rps} rps achieved, ${r.ok} ok, ${r.errors} errors, ${r.connections} connections ` +
  `opened, latency p50 ${r.p50_us} µs, p99 ${r.p99_us} µs`;
const sidecarHopP50 = added('sidecar', 'hopP50');
const sidecarChainHopP50 = added('sidecar', 'chainP50') / hops;
const date = new Date().toISOString().slice(0, 10);

const latencyRow = (t) => (t === 'direct'
  ? `| direct | ${ms(lat[t].chainP50)} | ${ms(lat[t].chainP99)} | — | — | — | — | — |`
  : `| ${t} | ${ms(lat[t].chainP50)} | ${ms(lat[t].chainP99)} | ${ms(added(t, 'chainP50'))} | ` +
    `${ms(added(t, 'chainP99'))} | ${us(added(t, 'hopP50'))} | ${us(added(t, 'hopP99'))} | ` +
    `${us(added(t, 'chainP50') / hops)} |`);
const lines = [
  HEADING,
  `Run ${date} on ${opt('cpu')} (${os.cpus().length} cores, shared with other builds and benches; load average ` +
  `${opt('load-start')} at the start, ${opt('load-end')} at the end), ${opt('tollway-version')}, ` +
  `${opt('nginx-version')}. Produced by \`bench/hops/run.sh\`; raw output in \`build/bench/hops/\`; what changed these numbers: \`bench/hops/history.md\`.`,
  '',
  '**Method.** 16 trivial echo agents (`bench/hops/agents.mjs`, one Node process: agent i calls agent i+1 and ' +
  'answers with its answer, the last answers itself). wrk sends one request at a time (c=1) to agent 0 (the chain: ' +
  `${hops} agent-to-agent hops) or to agent 14 (one hop); the client's own call to the first agent is plain in every ` +
  'topology. (a) **direct**: plain HTTP agent to agent. (b) **gateway**: every hop through one `tollway gateway` ' +
  '(1 worker, plain HTTP). The gateway has no agent routing: the closest honest equivalent is each agent as a ' +
  'provider (`base_url` its port) behind a `body: raw` prefix route `/agents/N/` (nothing reads the request body; ' +
  'the gateway has no mTLS, authorization or tracing on here). (c) **sidecar**: every hop agent ' +
  '→ its sidecar\'s forward proxy (absolute-form `GET http://agent-N/…`) → mTLS (P-256 X.509-SVIDs, the peer\'s ' +
  'SPIFFE ID checked) → the next agent\'s sidecar (authorization: one allow rule naming the previous agent) → agent; ' +
  'every sidecar 1 worker, tracing on (sample ratio 1.0, OTLP/HTTP to a local sink), `max_hops: 32`. ' +
  `Added = topology minus direct; medians of ${opt('reps')} repetitions of ${opt('duration')} each. Per-hop ` +
  `figures come from the one-hop chain; "chain / ${hops}" divides the whole chain's added p50 by the hops. ` +
  'Gateway and sidecars pinned to core 1, wrk and the agents to core 0, so every proxied leg crosses cores.',
  '',
  `| topology | chain p50 | chain p99 | added chain p50 | added chain p99 | added per hop p50 (one hop) | ` +
  `added per hop p99 (one hop) | added per hop p50 (chain / ${hops}) |`,
  '|---|---|---|---|---|---|---|---|',
  ...topologies.map(latencyRow),
  '',
  `Direct one hop (client → agent 14 → agent 15): p50 ${us(lat.direct.hopP50)}, p99 ${us(lat.direct.hopP99)}. ` +
  'The chain\'s p50 sums 15 hops\' delays, each with its scheduling tail (every proxied leg wakes a process on the ' +
  'other core), so chain / 15 is nearer a mean per hop than a median; the one-hop column is the per-hop median. ' +
  'In the sidecar chain each of the 16 sidecars also runs cold (caches, TLB) since 15 others ran since its last ' +
  'request, where the one-hop pair stays warm (a likely cause of the gap, not measured; tracing is not: the chain ' +
  'without `telemetry`, checked once by hand on 2026-12-06, came out the same).',
  '',
  `**CPU per request, one hop.** wrk (c=16, ${opt('cpu-duration')} per run, absolute-form ` +
  '`GET http://agent-b/v1/chat/completions` as an `HTTP_PROXY` client sends it) → proxy A → proxy B → the ' +
  'benchmarks\' nginx origin (`bench/lib/nginx_origin.sh`). Sidecar pair: A\'s forward proxy → mTLS → B\'s inbound ' +
  '(authorization on). nginx pair (1 worker each, access log off): A plain → `proxy_pass https://` with a client ' +
  'certificate and the peer verified against the CA (nginx checks a name, so B\'s certificate also carries ' +
  '`DNS:agent-b`) → B (`ssl_verify_client on`) → origin; keep-alive upstreams everywhere. utime+stime of both ' +
  'proxies (`/proc/PID/stat`; nginx: the two workers) over the run / requests; all pairs measured in each repetition.',
  '',
  '| pair | CPU µs/request (median) | runs | requests/s (c=16) | vs nginx | syscalls/request | ' +
  'context switches/request |',
  '|---|---|---|---|---|---|---|',
  ...pairs.map((p) => `| ${p.label} | ${p.cpu.toFixed(1)} | ${p.runs.map((x) => x.toFixed(1)).join(', ')} | ` +
    `${Math.round(p.rps)} | ${(p.cpu / cpuOf('nginx_pair')).toFixed(2)}× | ` +
    `${perRequest(kernel[p.name]?.syscalls, 1)} | ` +
    `${perRequest(kernel[p.name]?.switches, 2)} |`),
  '',
  'Syscalls and context switches: both proxies of the pair under `perf stat -e raw_syscalls:sys_enter,' +
  'context-switches` during one more 3 s run at c=16 (n/a: perf cannot read tracepoints here).',
  '',
  `**Memory** of the pairs' sidecars: idle = right after the ready line, before any request; at ${traced.rate} rps = ` +
  `the largest sampled every 100 ms during ${traced.seconds} s of open-loop load (\`bench/hops/open_loop.mjs\`: a ` +
  'request every 1 ms whatever the answers do; after the CPU runs), first from a client pool of at most 16 ' +
  'connections, then from an unbounded one (late answers open more connections; memory freed after the first run ' +
  'is kept by the process, so the second figure includes the first). VmRSS ' +
  'counts file pages: the tollway executable\'s (its read-only data is 22 MB, mostly tokenizer tables; resident ' +
  `when idle: ${mb(median(idle.map((x) => x[2])))}, median of the four) and the shared libraries'; RssAnon is what ` +
  'the process allocated (heap, stacks, TLS buffers). ' +
  `Traced pair, pool 16: ${loadRun(traced16)}; unbounded: ${loadRun(traced)}. Untraced pair, pool 16: ` +
  `${loadRun(untraced16)}; unbounded: ${loadRun(untraced)}.`,
  '',
  '| sidecar | idle VmRSS | idle RssAnon | pool 16: VmRSS | RssAnon | unbounded: VmRSS | RssAnon |',
  '|---|---|---|---|---|---|---|',
  ...sidecars.map((s) => `| ${s.label} | ${mb(s.idle[0])} | ${mb(s.idle[1])} | ${mb(s.pool16?.rss_kb)} | ` +
    `${mb(s.pool16?.anon_kb)} | ${mb(s.loaded?.rss_kb)} | ${mb(s.loaded?.anon_kb)} |`),
  '',
  'With `telemetry:` a sidecar holds finished requests\' records in a ring (src/telemetry/export_queue.h) whose ' +
  'cells become resident as pushes first reach them, so once it has wrapped it is wholly resident whatever its ' +
  'occupancy; it holds min(`otlp.queue_size`, 1,024) records (before 2026-12-06 evening: `otlp.queue_size`, 8,192 ' +
  'by default, ~10 MB once wrapped), and the span batches waiting for export stay bounded by `otlp.queue_size` spans. ' +
  'The telemetry writer lingers 10 ms between passes instead of being woken per request (before: one futex wake ' +
  'and about five context switches more per request, 1.56× nginx\'s CPU for the traced pair).',
  '',
  `Spans over all traced sidecars: ${opt('spans')}; the sink received ${opt('sink')}.` +
  (failures.length
    ? ` **Errors:** ${failures.map((r) => `${r.name}: ${r.non2xx} non-2xx` +
      (r.socketErrors ? `, socket ${r.socketErrors}` : '')).join('; ')}.`
    : ' No wrk run had a non-2xx answer or a socket error.'),
  '',
  '| target | measured | |',
  '|---|---|---|',
  `| sidecar pair CPU ≤ ${CPU_TARGET}× nginx pair | ${ratio.toFixed(2)}× traced (${ratioUntraced.toFixed(2)}× ` +
    `untraced) | ${met(ratio <= CPU_TARGET)} |`,
  `| added p50 per sidecar hop ≤ ${HOP_P50_TARGET_US} µs | ${us(sidecarHopP50)} (one hop); ` +
    `${us(sidecarChainHopP50)} (chain / ${hops}) | ` +
    `${met(sidecarHopP50 <= HOP_P50_TARGET_US && sidecarChainHopP50 <= HOP_P50_TARGET_US)} |`,
  `| sidecar idle RSS ≤ 8 MB (issue 17) | ${mb(tracedIdleMax)} (larger of A, B) | ` +
    `${met(tracedIdleMax <= RSS_IDLE_TARGET_KB)} |`,
  `| sidecar startup to ready ≤ ${STARTUP_TARGET_MS} ms from a persisted snapshot (issue 17) | ` +
    `${millis(median(startup.persisted))} (from the file: ${millis(median(startup.file))}) | ` +
    `${met(median(startup.persisted) <= STARTUP_TARGET_MS)} |`,
  `| sidecar RSS at 1,000 rps ≤ 16 MB (issue 17) | ${mb(largest(traced16))} pool 16, ${mb(largest(traced))} ` +
    `unbounded (larger of A, B) | ${met(largest(traced16) <= RSS_LOADED_TARGET_KB)} (pool 16), ` +
    `${met(largest(traced) <= RSS_LOADED_TARGET_KB)} (unbounded) |`,
];
const section = `${lines.join('\n')}\n`;
process.stdout.write(section);
if (!args.includes('--no-doc')) writeDocSection(opt('doc'), HEADING, section);
