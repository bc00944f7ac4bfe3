// Turns bench/proxy/run.sh's raw wrk output and per-request counts into medians, tollway/nginx ratios against the
// targets, a JSON file and the "## Proxy (bench/proxy)" section of docs/benchmarks.md (only that section is
// replaced; bench/proxy/history.md is appended to it).
import fs from 'node:fs';
import { writeDocSection } from '../lib/doc_section.mjs';

const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
const flag = (k) => args.includes(`--${k}`);

const toUs = (v, unit) => Number(v) * ({ us: 1, ms: 1000, s: 1e6 }[unit] ?? NaN);
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- parse ------------------------------------------------------------------------------------------------------
const raw = fs.readFileSync(opt('raw'), 'utf8');
const runs = [];
for (const block of raw.split(/^=== /m).slice(1)) {
  const [header, ...rest] = block.split('\n');
  const text = rest.join('\n');
  const m = /^(\S+) c=(\d+) cpu_ticks=(\d*) clk_tck=(\d+)/.exec(header);
  const pct = (p) => { const x = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text); return x ? toUs(x[1], x[2]) : NaN; };
  const reqs = /^\s+(\d+) requests in ([\d.]+)(ms|s)/m.exec(text);
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const sockErr = /Socket errors: (.*)/.exec(text);
  runs.push({
    target: m[1], conns: Number(m[2]), cpuTicks: m[3] === '' ? null : Number(m[3]), clkTck: Number(m[4]),
    p50: pct(50), p99: pct(99), rps: rps ? Number(rps[1]) : NaN, requests: reqs ? Number(reqs[1]) : NaN,
    non2xx: errors ? Number(errors[1]) : 0, socketErrors: sockErr ? sockErr[1] : null,
  });
}

const pick = (target, conns) => runs.filter((r) => r.target === target && r.conns === conns);
const med = (target, conns, f) => median(pick(target, conns).map(f));
const cpuUsPerReq = (r) => (r.cpuTicks == null ? NaN : (r.cpuTicks * 1e6 / r.clkTck) / r.requests);

// Targets in table order; those the run did not measure (no BEFORE_BIN, an older raw file) are left out.
const T = ['direct', 'nginx', 'tollway', 'tollway_auth', 'tollway_full', 'nginx_tls', 'tollway_tls', 'tollway_before']
  .filter((t) => runs.some((r) => r.target === t));
const before = opt('before', '');
const label = { direct: 'origin (direct)', nginx: 'nginx', tollway: 'tollway (usage on)', tollway_auth: 'tollway + auth (virtual key)',
  tollway_full: 'tollway, all on (auth, exact-token limit, USD budget, telemetry 10 % sampled)', nginx_tls: 'nginx, TLS listener',
  tollway_tls: 'tollway, TLS listener', tollway_before: `tollway before (${before})` };
const mode = opt('mode', 'both');
const wall = mode !== 'count';
const counting = mode !== 'wall';

// ---- counts (count mode) ----------------------------------------------------------------------------------------
const counts = {};
if (counting && opt('counts') && fs.existsSync(opt('counts'))) {
  for (const line of fs.readFileSync(opt('counts'), 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[0] === 'instructions') {
      counts[f[1]] = { ...(counts[f[1]] ?? {}), ir_requests: Number(f[2]), ir: Number(f[3]), ir_per_req: Number(f[3]) / Number(f[2]) };
    } else if (f[0] === 'syscalls') {
      counts[f[1]] = { ...(counts[f[1]] ?? {}), sys_requests: Number(f[2]), syscalls_per_req: Number(f[3]) / Number(f[2]),
        ctx_switches_per_req: Number(f[4]) / Number(f[2]) };
    }
  }
}
const cnt = (t, k) => counts[t]?.[k] ?? NaN;
const res = {};
for (const t of T) {
  res[t] = {
    p50_c1_us: med(t, 1, (r) => r.p50), p99_c1_us: med(t, 1, (r) => r.p99),
    rps_c1: med(t, 1, (r) => r.rps), rps_c16: med(t, 16, (r) => r.rps), rps_c64: med(t, 64, (r) => r.rps),
    cpu_us_per_req_c64: med(t, 64, cpuUsPerReq), cpu_us_per_req_c16: med(t, 16, cpuUsPerReq),
    non2xx: pick(t, 1).concat(pick(t, 16), pick(t, 64)).reduce((n, r) => n + r.non2xx, 0),
  };
}
for (const t of T.filter((x) => x !== 'direct')) {
  res[t].added_p50_us = res[t].p50_c1_us - res.direct.p50_c1_us;
  res[t].added_p99_us = res[t].p99_c1_us - res.direct.p99_c1_us;
}
const rss = {
  tollway_start_kb: Number(opt('rss-tollway-start')), tollway_default_start_kb: Number(opt('rss-tollway-default-start')), tollway_idle_kb: Number(opt('rss-tollway')), nginx_worker_idle_kb: Number(opt('rss-nginx-worker')),
  nginx_master_idle_kb: Number(opt('rss-nginx-master')), tollway_after_kb: Number(opt('rss-tollway-after')),
  nginx_worker_after_kb: Number(opt('rss-nginx-worker-after')),
};
const ratio = (a, b) => a / b;
const checks = [
  ...(wall ? [
    ['added latency p50 (c=1)', ratio(res.tollway.added_p50_us, res.nginx.added_p50_us), '≤ 1.2', (x) => x <= 1.2],
    ['added latency p99 (c=1)', ratio(res.tollway.added_p99_us, res.nginx.added_p99_us), '≤ 1.5', (x) => x <= 1.5],
    ['CPU µs / request (c=64)', ratio(res.tollway.cpu_us_per_req_c64, res.nginx.cpu_us_per_req_c64), '≤ 1.3', (x) => x <= 1.3],
    ['rps, one core (c=16)', ratio(res.tollway.rps_c16, res.nginx.rps_c16), '≥ 0.9', (x) => x >= 0.9],
    ['rps, one core (c=64)', ratio(res.tollway.rps_c64, res.nginx.rps_c64), '≥ 0.9', (x) => x >= 0.9],
  ] : []),
  ...(counting ? [
    ['user-space instructions / request (callgrind, c=16)', ratio(cnt('tollway', 'ir_per_req'), cnt('nginx', 'ir_per_req')), '≤ 1.3 (as CPU)', (x) => x <= 1.3],
    ['syscalls / request (perf, c=16)', ratio(cnt('tollway', 'syscalls_per_req'), cnt('nginx', 'syscalls_per_req')), '—', () => true],
  ] : []),
];
// Issue 6: auth on stays within 10 % of the plain run's CPU per request (same run).
const authChecks = [
  ...(wall ? [['CPU µs / request (c=64), tollway + auth / tollway', ratio(res.tollway_auth.cpu_us_per_req_c64, res.tollway.cpu_us_per_req_c64), '≤ 1.1', (x) => x <= 1.1]] : []),
  ...(counting ? [['instructions / request, tollway + auth / tollway', ratio(cnt('tollway_auth', 'ir_per_req'), cnt('tollway', 'ir_per_req')), '≤ 1.1', (x) => x <= 1.1]] : []),
];
// Issue 13 (one engine for every role): the plain proxy, everything on, and TLS against nginx; before vs after.
const has = (t) => T.includes(t);
const engineChecks = [
  ...(wall ? [
    ['CPU µs / request (c=64), tollway / nginx', ratio(res.tollway.cpu_us_per_req_c64, res.nginx.cpu_us_per_req_c64), '≤ 1.2', (x) => x <= 1.2],
    ...(has('tollway_full') ? [['CPU µs / request (c=64), tollway all on / nginx', ratio(res.tollway_full.cpu_us_per_req_c64, res.nginx.cpu_us_per_req_c64), '≤ 1.4', (x) => x <= 1.4]] : []),
    ...(has('tollway_tls') ? [['CPU µs / request (c=64), TLS listeners: tollway / nginx', ratio(res.tollway_tls.cpu_us_per_req_c64, res.nginx_tls.cpu_us_per_req_c64), '≤ 1.3', (x) => x <= 1.3]] : []),
    ...(has('tollway_before') ? [['CPU µs / request (c=64), tollway / tollway before', ratio(res.tollway.cpu_us_per_req_c64, res.tollway_before.cpu_us_per_req_c64), '—', () => true]] : []),
  ] : []),
  ...(counting ? [
    ['instructions / request (c=16), tollway / nginx', ratio(cnt('tollway', 'ir_per_req'), cnt('nginx', 'ir_per_req')), '≤ 1.5', (x) => x <= 1.5],
    ['instructions / request (c=16), tollway all on / nginx', ratio(cnt('tollway_full', 'ir_per_req'), cnt('nginx', 'ir_per_req')), '—', () => true],
    ...(counts.tollway_before ? [['instructions / request (c=16), tollway / tollway before', ratio(cnt('tollway', 'ir_per_req'), cnt('tollway_before', 'ir_per_req')), '—', () => true]] : []),
  ] : []),
];
const rssMb = rss.tollway_start_kb / 1024;  // after start, before any request (the target's figure)

const out = { when: new Date().toISOString(), load: [opt('load-start'), opt('load-end')], origin: opt('origin'), reps: Number(opt('reps')), duration: opt('duration'),
  versions: { tollway: opt('tollway-version'), nginx: opt('nginx-version') }, mode, results: res, rss, counts,
  ratios: Object.fromEntries(checks.concat(authChecks, engineChecks).map(([n, v]) => [n, v])), runs };
fs.writeFileSync(opt('out'), JSON.stringify(out, null, 2));

// ---- markdown -------------------------------------------------------------------------------------------------
const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const cpuModel = (() => { try { return /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))[1].trim(); } catch { return 'unknown'; } })();

const originNote = opt('origin') === 'nginx'
  ? 'a second nginx instance (1 worker, `return 200` with a fixed, realistic OpenAI chat-completion JSON of '
    + `${fs.readFileSync(new URL('./response.json', import.meta.url)).length} bytes)`
  : 'the Node mock provider in `--fast` mode (a precomputed OpenAI chat-completion JSON)';
const md = [];
md.push('## Proxy (bench/proxy)');
md.push('');
md.push(`Generated by \`bench/proxy/run.sh\` (MODE=${mode}) on ${out.when.slice(0, 16).replace('T', ' ')} UTC — ${cpuModel}, `
  + `${fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm).length} cores; ${out.versions.tollway || 'tollway'}, ${out.versions.nginx}. `
  + `Wall-clock numbers: medians of ${out.reps} repetitions of ${out.duration} wrk runs (\`wrk -t1\`, POST /v1/chat/completions with a `
  + `147-byte JSON body, keep-alive). Load average (1/5/15 min) at start ${opt('load-start')}, at end ${opt('load-end')} `
  + '(the machine is shared: anything above ~0.5 means other processes competed for the two cores and the wall-clock '
  + 'numbers are noisy; the counts below are not).');
md.push('');
md.push(`Setup: wrk and the origin share core 0; the proxy under test runs alone on core 1 (\`taskset\`). The origin is ${originNote}. `
  + 'nginx reference: 1 worker, `proxy_http_version 1.1; proxy_set_header Connection ""; keepalive 64;`, '
  + 'access log off, injects the provider key like tollway does. tollway: `--workers 1`, one route, one provider, '
  + 'key injection, model routing from the JSON body, usage extraction (always on: every response is read for its '
  + '`usage`), `usage.log: false` (like nginx\'s `access_log off`). tollway + auth: the same plus `auth:` with a virtual '
  + 'key created through `/admin/keys`, sent by wrk as `Authorization: Bearer tw-…` (CallerAuthFilter + PolicyAuthzFilter). '
  + 'tollway all on: the same plus a `total_tokens` rule per key (prompt counted exactly by the tokenizer), a `cost_usd` '
  + 'budget per tenant (local ledger) and telemetry with `sample_ratio: 0.1` exported over OTLP/HTTP to the origin. '
  + 'TLS listeners: nginx (`listen … ssl`) and tollway (`gateway.tls`) with the same ECDSA P-256 certificate, each with '
  + 'its defaults (TLS 1.3); wrk keeps its connections, so this is the record layer, not handshakes.'
  + (before ? ` tollway before: the binary of ${before} with the plain config, in the same run.` : ''));
md.push('');
if (wall) {
  md.push('| target | p50 c=1 (µs) | p99 c=1 (µs) | added p50 (µs) | added p99 (µs) | rps c=1 | rps c=16 | rps c=64 | CPU µs/req c=16 | CPU µs/req c=64 | non-2xx |');
  md.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const t of T) {
    const r = res[t];
    md.push(`| ${label[t]} | ${f0(r.p50_c1_us)} | ${f0(r.p99_c1_us)} | ${t === 'direct' ? '—' : f0(r.added_p50_us)} | `
      + `${t === 'direct' ? '—' : f0(r.added_p99_us)} | ${f0(r.rps_c1)} | ${f0(r.rps_c16)} | ${f0(r.rps_c64)} | `
      + `${t === 'direct' ? '—' : f1(r.cpu_us_per_req_c16)} | ${t === 'direct' ? '—' : f1(r.cpu_us_per_req_c64)} | ${r.non2xx} |`);
  }
  md.push('');
}
if (counting) {
  md.push(`Per-request counts (count mode, c=16; instructions: the whole process under \`valgrind --tool=callgrind\`, `
    + `counters zeroed after a 2 s warm-up, then ${opt('count-duration')} of wrk; syscalls and context switches: \`perf stat -e `
    + 'raw_syscalls:sys_enter,context-switches -p PID` over 3 s of wrk against the uninstrumented process):');
  md.push('');
  md.push('| target | requests counted | user-space instructions / request | vs nginx | syscalls / request | context switches / request |');
  md.push('|---|---:|---:|---:|---:|---:|');
  for (const t of ['nginx', 'tollway', 'tollway_auth', 'tollway_full', 'tollway_before'].filter((x) => counts[x])) {
    md.push(`| ${label[t]} | ${f0(cnt(t, 'ir_requests'))} | ${f0(cnt(t, 'ir_per_req'))} | ${f2(cnt(t, 'ir_per_req') / cnt('nginx', 'ir_per_req'))} | `
      + `${f2(cnt(t, 'syscalls_per_req'))} | ${f2(cnt(t, 'ctx_switches_per_req'))} |`);
  }
  md.push('');
}
md.push('| tollway / nginx (issues 3 and 5: usage extraction on) | ratio | target | met |');
md.push('|---|---:|---:|:---:|');
for (const [name, v, target, ok] of checks) md.push(`| ${name} | ${f2(v)} | ${target} | ${Number.isFinite(v) && ok(v) ? 'yes' : '**no**'} |`);
md.push(`| idle RSS, one worker, after start (http:// provider) | ${f1(rssMb)} MB; after the first request ${f1(rss.tollway_idle_kb / 1024)} MB (nginx worker ${f1(rss.nginx_worker_idle_kb / 1024)} MB + master ${f1(rss.nginx_master_idle_kb / 1024)} MB) | ≤ 8 MB | ${rssMb <= 8 ? 'yes' : '**no**'} |`);
{
  const d = rss.tollway_default_start_kb / 1024;
  md.push(`| idle RSS, one worker, after start (default config/gateway.yaml: https:// providers) | ${f1(d)} MB | ≤ 8 MB | ${d <= 8 ? 'yes' : '**no**'} |`);
}
md.push('');
md.push('| one engine for every role (issue 13) | ratio | target | met |');
md.push('|---|---:|---:|:---:|');
for (const [name, v, target, ok] of engineChecks) md.push(`| ${name} | ${f2(v)} | ${target} | ${Number.isFinite(v) && ok(v) ? 'yes' : '**no**'} |`);
md.push('');
md.push('| auth on (issue 6) | ratio | target | met |');
md.push('|---|---:|---:|:---:|');
for (const [name, v, target, ok] of authChecks) md.push(`| ${name} | ${f2(v)} | ${target} | ${Number.isFinite(v) && ok(v) ? 'yes' : '**no**'} |`);
md.push('');
if (wall) {
  md.push(`RSS (MB = 2^20 bytes) after the load runs: tollway ${f1(rss.tollway_after_kb / 1024)} MB, nginx worker ${f1(rss.nginx_worker_after_kb / 1024)} MB. `
    + 'CPU per request is the proxy process\'s utime+stime delta (`/proc/PID/stat`, nginx: its worker) over the run divided by '
    + 'the requests wrk completed. The origin is not the bottleneck when the direct rps is well above both proxies\' rps: '
    + `direct c=64 ${f0(res.direct.rps_c64)} rps vs nginx ${f0(res.nginx.rps_c64)} and tollway ${f0(res.tollway.rps_c64)}. `
    + 'The Node mock (`ORIGIN=node`, `tests/mock/provider.mjs --fast`) was measured at 25–50k rps direct on this machine, '
    + 'within reach of the proxies, so it would cap them; hence the nginx origin by default. '
    + 'Raw wrk output, counts and callgrind profiles (`callgrind_annotate build/bench/proxy/callgrind.tollway.out.*`): `build/bench/proxy/`.');
  md.push('');
}
const history = new URL('./history.md', import.meta.url);
if (fs.existsSync(history)) md.push(fs.readFileSync(history, 'utf8').trim(), '');
const section = md.join('\n');

if (!flag('no-doc')) writeDocSection(opt('doc'), '## Proxy (bench/proxy)', section);
console.log(section);
