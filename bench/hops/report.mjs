// Turns bench/hops/run.sh's raw wrk output, RSS samples and open-loop result into medians, the added latency per
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

const toUs = (v, unit) => Number(v) * ({ us: 1, ms: 1000, s: 1e6 }[unit] ?? NaN);
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- parse ------------------------------------------------------------------------------------------------------------
const runs = [];
for (const block of fs.readFileSync(opt('raw'), 'utf8').split(/^=== /m).slice(1)) {
  const [header, ...rest] = block.split('\n');
  const text = rest.join('\n');
  const [kind, name] = header.split(' ');
  const cpu = /cpu_ticks=(\d+) clk_tck=(\d+)/.exec(header);
  const pct = (p) => { const x = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text); return x ? toUs(x[1], x[2]) : NaN; };
  const requests = Number(/^\s+(\d+) requests in/m.exec(text)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socketErrors = /Socket errors: (.*)/.exec(text)?.[1] ?? null;
  runs.push({ kind, name, p50: pct(50), p99: pct(99), requests, non2xx, socketErrors,
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
  lat[t] = { chainP50: med('latency', `chain_${t}`, (r) => r.p50), chainP99: med('latency', `chain_${t}`, (r) => r.p99),
    hopP50: med('latency', `hop_${t}`, (r) => r.p50), hopP99: med('latency', `hop_${t}`, (r) => r.p99) };
}
const added = (t, k) => lat[t][k] - lat.direct[k];
const cpu = {
  sidecar: med('cpu', 'sidecar_pair', (r) => r.cpuUsPerReq), nginx: med('cpu', 'nginx_pair', (r) => r.cpuUsPerReq),
  sidecarRps: med('cpu', 'sidecar_pair', (r) => r.rps), nginxRps: med('cpu', 'nginx_pair', (r) => r.rps),
  sidecarRuns: of('cpu', 'sidecar_pair').map((r) => r.cpuUsPerReq), nginxRuns: of('cpu', 'nginx_pair').map((r) => r.cpuUsPerReq),
};
const ratio = cpu.sidecar / cpu.nginx;
const rate = JSON.parse(opt('rate-result', '{}'));
const rateRss = Object.values(rate.max_rss_kb ?? {});
const rss = { aIdle: Number(opt('rss-a-idle')), bIdle: Number(opt('rss-b-idle')), aLoaded: rateRss[0], bLoaded: rateRss[1] };

// ---- format ---------------------------------------------------------------------------------------------------------
const us = (x) => (Number.isFinite(x) ? `${Math.round(x)} µs` : 'n/a');
const ms = (x) => (Number.isFinite(x) ? `${(x / 1000).toFixed(2)} ms` : 'n/a');
const mb = (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(1)} MB` : 'n/a');
const met = (ok) => (ok ? '**met**' : '**not met**');
const sidecarHopP50 = added('sidecar', 'hopP50');
const sidecarChainHopP50 = added('sidecar', 'chainP50') / hops;
const date = new Date().toISOString().slice(0, 10);

const lines = [
  HEADING,
  `Run ${date} on ${opt('cpu')} (${os.cpus().length} cores, shared: other builds and benches may run; load average ` +
  `${opt('load-start')} at the start, ${opt('load-end')} at the end), ${opt('tollway-version')}, ${opt('nginx-version')}. ` +
  'Produced by `bench/hops/run.sh`; raw output in `build/bench/hops/`.',
  '',
  '**Method.** 16 trivial echo agents (`bench/hops/agents.mjs`, one Node process: agent i calls agent i+1 and ' +
  'answers with its answer, the last answers itself). wrk sends one request at a time (c=1) to agent 0 (the chain: ' +
  `${hops} agent-to-agent hops) or to agent 14 (one hop); the client's own call to the first agent is plain in every ` +
  'topology. (a) **direct**: plain HTTP agent to agent. (b) **gateway**: every hop through one `tollway gateway` ' +
  '(1 worker, plain HTTP): the gateway has no agent routing, so each agent is a provider (`base_url` its port) ' +
  'behind a `body: raw` prefix route `/agents/N/` — the closest honest equivalent (raw: nothing reads the body; ' +
  'usage extraction still looks at each answer). (c) **sidecar**: every hop agent → its sidecar\'s forward proxy ' +
  '(absolute-form `GET http://agent-N/…`) → mTLS (P-256 X.509-SVIDs, peer SPIFFE ID checked) → the next agent\'s ' +
  'sidecar (authorization: one allow rule for the previous agent) → agent; every sidecar 1 worker, tracing on ' +
  '(sample ratio 1.0, OTLP/HTTP to a local sink), `max_hops: 32`. Added = topology minus direct; medians of ' +
  `${opt('reps')} repetitions of ${opt('duration')} each. Per-hop figures are measured on the one-hop chain; ` +
  `"chain / ${hops}" divides the whole chain's added latency by the hops (a p99 divided that way is only an average). ` +
  'Gateway and sidecars pinned to core 1, wrk and the agents to core 0, so every proxied hop crosses cores.',
  '',
  '| topology | chain p50 | chain p99 | added chain p50 | added chain p99 | added per hop p50 (one hop) | added per hop p99 (one hop) | added per hop p50 (chain / ' + hops + ') |',
  '|---|---|---|---|---|---|---|---|',
  ...topologies.map((t) => (t === 'direct'
    ? `| direct | ${ms(lat[t].chainP50)} | ${ms(lat[t].chainP99)} | — | — | — (one hop: ${us(lat[t].hopP50)} p50, ${us(lat[t].hopP99)} p99) | — | — |`
    : `| ${t} | ${ms(lat[t].chainP50)} | ${ms(lat[t].chainP99)} | ${ms(added(t, 'chainP50'))} | ${ms(added(t, 'chainP99'))} | ` +
      `${us(added(t, 'hopP50'))} | ${us(added(t, 'hopP99'))} | ${us(added(t, 'chainP50') / hops)} |`)),
  '',
  `**CPU per request, one hop.** wrk (c=16, ${opt('cpu-duration')} per run, absolute-form \`GET http://agent-b/v1/chat/completions\` ` +
  'as an `HTTP_PROXY` client sends it) → proxy A → proxy B → the benchmarks\' nginx origin (`bench/lib/nginx_origin.sh`). ' +
  'Sidecar pair: A\'s forward proxy → mTLS → B\'s inbound, tracing on as in (c). nginx pair (1 worker each, access log off): ' +
  'A plain → `proxy_pass https://` with a client certificate, the peer verified against the CA (nginx checks a name, ' +
  'so B\'s certificate also carries `DNS:agent-b`) → B (`ssl_verify_client on`) → origin; keep-alive upstreams on both. ' +
  'utime+stime of both proxies (`/proc/PID/stat`, nginx: the workers) over the run / requests; both pairs measured in each repetition.',
  '',
  '| pair | CPU µs/request (median) | runs | requests/s (c=16) |',
  '|---|---|---|---|',
  `| tollway sidecar A + B | ${cpu.sidecar.toFixed(1)} | ${cpu.sidecarRuns.map((x) => x.toFixed(1)).join(', ')} | ${Math.round(cpu.sidecarRps)} |`,
  `| nginx A + B | ${cpu.nginx.toFixed(1)} | ${cpu.nginxRuns.map((x) => x.toFixed(1)).join(', ')} | ${Math.round(cpu.nginxRps)} |`,
  '',
  `**RSS** of the pair's sidecars: idle = right after the ready line, before any request; loaded = the largest VmRSS ` +
  `sampled every 100 ms during ${rate.seconds} s of open-loop load at ${rate.rate} rps (\`bench/hops/open_loop.mjs\`, ` +
  `after the CPU runs: achieved ${rate.achieved_rps} rps, ${rate.ok} ok, ${rate.errors} errors, latency p50 ` +
  `${rate.p50_us} µs, p99 ${rate.p99_us} µs).`,
  '',
  '| sidecar | idle | at 1,000 rps |',
  '|---|---|---|',
  `| A (outbound: forward proxy, mTLS client) | ${mb(rss.aIdle)} | ${mb(rss.aLoaded)} |`,
  `| B (inbound: mTLS server, authorization) | ${mb(rss.bIdle)} | ${mb(rss.bLoaded)} |`,
  '',
  `Spans over all sidecars: ${opt('spans')}; the sink received ${opt('sink')}.` +
  (failures.length ? ` **Errors:** ${failures.map((r) => `${r.name}: ${r.non2xx} non-2xx${r.socketErrors ? `, socket ${r.socketErrors}` : ''}`).join('; ')}.` : ' No run had a non-2xx answer or a socket error.'),
  '',
  '| target | measured | |',
  '|---|---|---|',
  `| sidecar pair CPU ≤ ${CPU_TARGET}× nginx pair | ${ratio.toFixed(2)}× | ${met(ratio <= CPU_TARGET)} |`,
  `| added p50 per sidecar hop ≤ ${HOP_P50_TARGET_US} µs | ${us(sidecarHopP50)} (one hop); ${us(sidecarChainHopP50)} (chain / ${hops}) | ` +
    `${met(sidecarHopP50 <= HOP_P50_TARGET_US && sidecarChainHopP50 <= HOP_P50_TARGET_US)} |`,
  `| sidecar idle RSS ≤ 8 MB | ${mb(Math.max(rss.aIdle, rss.bIdle))} (larger of A, B) | ${met(Math.max(rss.aIdle, rss.bIdle) <= RSS_IDLE_TARGET_KB)} |`,
  `| sidecar RSS at 1,000 rps ≤ 16 MB | ${mb(Math.max(rss.aLoaded, rss.bLoaded))} (larger of A, B) | ${met(Math.max(rss.aLoaded, rss.bLoaded) <= RSS_LOADED_TARGET_KB)} |`,
];
const section = `${lines.join('\n')}\n`;
process.stdout.write(section);
if (!args.includes('--no-doc')) writeDocSection(opt('doc'), HEADING, section);
