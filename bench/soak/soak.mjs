// Soak driver: mixed traffic through one gateway (auth with virtual keys, limits with a spend log, telemetry with
// OTLP export and an access log, usage on) for a fixed time at a fixed rate, while keys are rotated and the config
// is reloaded (SIGHUP). Every sample interval it reads the gateway's RSS, descriptors and CPU from /proc and counts
// outcomes by kind; at the end it checks that RSS and descriptors stayed flat after warm-up, that no unexpected
// error happened, and that the tokens the gateway charged (its spend log, cross-checked against /metrics) equal
// the tokens the mock provider served and the tokens the driver's requests asked for. It must never count an
// outcome it did not cause as expected: only the 5xx it injected and the streams it cut itself are.
//
// Traffic: half OpenAI chat completions, half Anthropic messages; half of each streamed. 10 % of the streams are
// cut by the client after their first body bytes; 1 % of all requests ask the mock to fail with 500/503
// (`x-mock-scenario`), which the route's retries repeat and then pass on.
//
// CLI: node bench/soak/soak.mjs [--duration 30m] [--rate 1000] [--sample 10s] [--workers 2] [--rotate-every 60s]
//      [--reload-every 90s] [--out build/bench/soak/report.json] [--doc [--note TEXT]] (write docs/benchmarks.md
//      "## Soak (bench/soak)"); --render REPORT.json prints the checks of a saved report (and --doc writes its section).
// Module: const report = await runSoak({durationMs, rate, ...}); report.checks lists every check and its result.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startGateway, testConfig, getText, metricValue, tempDir, removeTempDir, sleep, waitFor, SOURCE_DIR,
  TOLLWAY_BIN }
  from '../../tests/lib/harness.mjs';
import { usageFor } from '../../tests/mock/provider.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ADMIN_TOKEN = 'soak-admin-token-0123456789abcdef';
const TENANTS = ['acme', 'globex'];
const KEYS_PER_TENANT = 4;
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa'];
const CLOCK_TICKS = (() => {
  try { return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { return 100; }
})();

/** "30m", "90s", "1h", "250ms" or a number of seconds -> milliseconds. */
export function parseDuration(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(text).trim());
  if (!m) throw new Error(`not a duration: ${text} (e.g. 30m, 90s, 1h)`);
  const n = Number(m[1]);
  return Math.round(n * { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] ?? 's']);
}

function gatewayConfig({ mockUrl, otlpUrl, dir, ruleLimit, workers }) {
  return testConfig({
    openaiUrl: mockUrl,
    over: {
      gateway: { workers }, // the same as --workers: a reload must not see a restart-only key change
      auth: { admin_token: ADMIN_TOKEN, virtual_keys: { store: path.join(dir, 'keys.db') } },
      limits: {
        spend_log: { path: path.join(dir, 'spend.db'), flush_interval: '100ms' },
        rules: [{ name: 'key-tpm', per: ['key'], unit: 'total_tokens', limit: ruleLimit, window: '1m' }],
        budgets: [{ name: 'tenant-month', per: ['tenant'], unit: 'cost_usd', limit: '1000000.00', period: 'month' }],
      },
      pricing: { models: [{ match: 'gpt-4o*', input: '2.50', output: '10.00' },
        { match: 'claude-*', input: '3.00', output: '15.00' }] },
      telemetry: { tracing: { sample_ratio: 0.1 }, otlp: { endpoint: otlpUrl, traces_interval: '2s', metrics_interval: '10s' },
        access_log: '/dev/null' },
      timeouts: { header_read: '5s', body_read: '5s', idle: '30s', upstream_connect: '2s', upstream_first_byte: '10s',
        upstream_total: '30s', drain: '5s' },
    },
  });
}

function startProviderProcess() {
  const child = fork(path.join(HERE, 'provider_process.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const replies = [];
  const waiters = [];
  child.on('message', (m) => {
    const w = waiters.findIndex((x) => x.type === m.type);
    if (w >= 0) waiters.splice(w, 1)[0].resolve(m); else replies.push(m);
  });
  const next = (type, timeoutMs = 40000) => {
    const i = replies.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(replies.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`provider process sent no ${type}`)), timeoutMs);
      waiters.push({ type, resolve: (m) => { clearTimeout(t); resolve(m); } });
    });
  };
  process.on('exit', () => { try { child.kill('SIGKILL'); } catch { /* gone */ } });
  return {
    child,
    ready: () => next('ready'),
    ledger: () => { child.send({ type: 'ledger' }); return next('ledger'); },
    stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }),
  };
}

// ---- /proc sampling ------------------------------------------------------------------------------------
function procSample(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  const rssKb = kb('VmRSS');
  const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  const cpuTicks = Number(fields[11]) + Number(fields[12]);         // utime (14) + stime (15)
  // RssAnon is what the process allocated; RssFile the pages of its executable and libraries it touched.
  return { rssKb, rssAnonKb: kb('RssAnon'), rssFileKb: kb('RssFile'), fds, cpuMs: (cpuTicks * 1000) / CLOCK_TICKS };
}

/** What a process's descriptors are: {socket, pipe, anon_inode, file} counts, and its TCP sockets by state and peer. */
function describeFds(pid) {
  const kinds = {};
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target = '?';
    try { target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { /* closed meanwhile */ }
    const kind = target.startsWith('socket:') ? 'socket' : target.startsWith('pipe:') ? 'pipe'
      : target.startsWith('anon_inode:') ? target : 'file';
    kinds[kind] = (kinds[kind] ?? 0) + 1;
  }
  let tcp = '';
  try {
    tcp = execFileSync('ss', ['-tanpH'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`pid=${pid},`))
      .map((l) => { const f = l.trim().split(/\s+/); return `${f[0]} ${f[3]} -> ${f[4]}`; }).join('; ');
  } catch { /* no ss */ }
  return { kinds, tcp };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };

// ---- one request ---------------------------------------------------------------------------------------
function promptText(n) {
  const w = [];
  for (let i = 0; i < n; i++) w.push(WORDS[(i * 7 + n) % WORDS.length]);
  return w.join(' ');
}

/**
 * Sends one request and resolves with {kind, expected, charged: usage or null}. Kinds: ok, injected_5xx, client_cut
 * (expected) and anything else (unexpected: status_<code>, injected_not_failed, truncated_stream, bad_usage,
 * bad_body, net_<code>, timeout).
 */
function sendOne(agent, port, spec) {
  const { api, stream, fail, cut, key, words, maxTokens } = spec;
  const messages = [{ role: 'user', content: promptText(words) }];
  const body = api === 'openai'
    ? { model: 'gpt-4o-mini', max_tokens: maxTokens, messages, ...(stream ? { stream: true } : {}) }
    : { model: 'claude-sonnet-4-5', max_tokens: maxTokens, messages, ...(stream ? { stream: true } : {}) };
  const usage = usageFor(body);
  const bytes = Buffer.from(JSON.stringify(body));
  const headers = { 'content-type': 'application/json', 'content-length': bytes.length };
  if (api === 'openai') headers.authorization = `Bearer ${key}`;
  else { headers['x-api-key'] = key; headers['anthropic-version'] = '2023-06-01'; }
  if (fail) headers['x-mock-scenario'] = `fail:${fail}`;
  return new Promise((resolve) => {
    let done = false;
    const finish = (kind, charged = null) => {
      if (done) return;
      done = true;
      resolve({ kind, expected: kind === 'ok' || kind === 'injected_5xx' || kind === 'client_cut', charged });
    };
    const req = http.request({ agent, host: '127.0.0.1', port, method: 'POST',
      path: api === 'openai' ? '/v1/chat/completions' : '/v1/messages', headers });
    req.setTimeout(30000, () => { finish('timeout'); req.destroy(); });
    req.on('error', (e) => finish(`net_${e.code ?? 'error'}`));
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => {
        chunks.push(c);
        if (cut && res.statusCode === 200) {
          // The client goes away after the first body bytes; the gateway must still charge the whole answer.
          finish('client_cut', usage);
          req.destroy();
        }
      });
      res.on('error', () => finish('truncated_stream'));
      res.on('close', () => { if (!res.complete) finish('truncated_stream'); });
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (fail) return finish(res.statusCode === fail ? 'injected_5xx' : res.statusCode === 200 ? 'injected_not_failed' : `status_${res.statusCode}`);
        if (res.statusCode !== 200) return finish(`status_${res.statusCode}`);
        if (stream) {
          const complete = api === 'openai' ? text.includes('data: [DONE]') : text.includes('event: message_stop');
          return finish(complete ? 'ok' : 'truncated_stream', complete ? usage : null);
        }
        let json;
        try { json = JSON.parse(text); } catch { return finish('bad_body'); }
        const got = api === 'openai' ? [json.usage?.prompt_tokens, json.usage?.completion_tokens]
          : [json.usage?.input_tokens, json.usage?.output_tokens];
        if (got[0] !== usage.prompt || got[1] !== usage.completion) return finish('bad_usage');
        return finish('ok', usage);
      });
    });
    req.end(bytes);
  });
}

// ---- the run -------------------------------------------------------------------------------------------
/**
 * Runs one soak. Options: durationMs, rate (requests per second), sampleMs, workers, rotateEveryMs, reloadEveryMs,
 * maxInFlight, rssGrowthLimitKb (null: RSS flatness not checked), log (a function for the table lines).
 * Returns the report: {params, conditions, samples[], totals, ledger, spend, metrics, checks[], passed}.
 */
export async function runSoak(opts = {}) {
  const durationMs = opts.durationMs ?? 30 * 60000;
  const rate = opts.rate ?? 1000;
  const sampleMs = opts.sampleMs ?? 10000;
  const rotateEveryMs = opts.rotateEveryMs ?? 60000;
  const reloadEveryMs = opts.reloadEveryMs ?? 90000;
  const maxInFlight = opts.maxInFlight ?? 1024;
  const rssGrowthLimitKb = opts.rssGrowthLimitKb === undefined ? 1024 : opts.rssGrowthLimitKb;
  const log = opts.log ?? ((line) => process.stdout.write(`${line}\n`));

  const provider = startProviderProcess();
  const { url: mockUrl, otlpUrl } = await provider.ready();
  const dir = tempDir('tollway-soak-');
  let ruleLimit = 1000000000;
  const workers = opts.workers ?? 2;
  const gw = await startGateway({ workers, config: gatewayConfig({ mockUrl, otlpUrl, dir, ruleLimit, workers }) });
  const pid = gw.proc.pid;
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64 });
  const admin = async (method, p, body) => {
    const r = await fetch(`${gw.adminUrl}${p}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    return JSON.parse(text);
  };

  const report = { startedAt: new Date().toISOString(), params: { durationMs, rate, sampleMs, rotateEveryMs, reloadEveryMs, workers,
    maxSockets: opts.maxSockets ?? 64, binary: TOLLWAY_BIN }, samples: [], checks: [] };
  try {
    const keys = [];
    for (const tenant of TENANTS) {
      for (let i = 0; i < KEYS_PER_TENANT; i++) {
        const k = await admin('POST', '/admin/keys', { tenant, agent: `soak-agent-${i}` });
        keys.push({ id: k.id, secret: k.key });
      }
    }
    const spendFrom = Math.floor(Date.now() / 1000) - 1;
    let startedAt = Date.now();

    const totals = { sent: 0, completed: 0, notSent: 0, byKind: {}, expectedCharge: { requests: 0, input: 0, output: 0 } };
    let interval = { completed: 0, byKind: {} };
    let inFlight = 0;
    let seq = 0;
    const pending = new Set();
    const record = (r) => {
      totals.completed++; interval.completed++;
      totals.byKind[r.kind] = (totals.byKind[r.kind] ?? 0) + 1;
      interval.byKind[r.kind] = (interval.byKind[r.kind] ?? 0) + 1;
      if (!r.expected) totals.unexpectedExample ??= r.kind;
      if (r.charged) {
        totals.expectedCharge.requests++;
        totals.expectedCharge.input += r.charged.prompt;
        totals.expectedCharge.output += r.charged.completion;
      }
    };
    const specFor = (n) => {
      const api = n % 2 === 0 ? 'openai' : 'anthropic';
      const stream = (n >> 1) % 2 === 0;
      // 1 % injected failures (one in every 100 requests; the offset cycles through JSON and stream on both APIs;
      // 500 and 503 alternate every 400); 10 % of streams cut by the client.
      const hundred = Math.floor(n / 100);
      const fail = n % 100 === 37 + (hundred % 4) ? (hundred % 8 < 4 ? 500 : 503) : 0;
      const cut = !fail && stream && n % 40 < 4 && (n >> 1) % 2 === 0;
      const key = keys[n % keys.length].secret;
      return { api, stream, fail, cut, key, words: 5 + (n % 60), maxTokens: 4 + (n % 29) };
    };
    const issue = () => {
      inFlight++; totals.sent++;
      const p = sendOne(agent, gw.port, specFor(seq++)).then((r) => { inFlight--; pending.delete(p); record(r); });
      pending.add(p);
    };

    // Rotations and reloads, each on its own clock; a failure of either is an unexpected error.
    const events = { rotations: 0, reloads: 0, eventErrors: [] };
    let rotateAt = startedAt + rotateEveryMs;
    let reloadAt = startedAt + reloadEveryMs;
    let rotating = false;
    const rotate = async () => {
      rotating = true;
      const k = keys[events.rotations % keys.length];
      try {
        const r = await admin('POST', `/admin/keys/${k.id}/rotate`, { grace: '30s' });
        k.secret = r.key;
        events.rotations++;
      } catch (e) { events.eventErrors.push(`rotate: ${e.message}`); }
      rotating = false;
    };
    const reload = () => {
      ruleLimit = ruleLimit === 1000000000 ? 2000000000 : 1000000000;
      gw.writeConfig(gatewayConfig({ mockUrl, otlpUrl, dir, ruleLimit, workers }));
      gw.proc.kill('SIGHUP');
      events.reloads++;
    };
    const reloadsSucceeded = async () => metricValue((await getText(`${gw.adminUrl}/metrics`)).text,
      'tollway_config_reloads_total', { result: 'success' });

    // The descriptors of a quiet gateway: once the mock has closed the idle upstream connections (its keep-alive is
    // 5 s), requests on fresh client connections make each worker's pool drop the closed ones it holds (a pool
    // checks an idle connection only when it hands it out). Those requests are charged like any other.
    const quietFds = async () => {
      await sleep(6000);
      const fresh = new http.Agent({ keepAlive: false });
      for (let i = 0; i < 16; i++) {
        const spec = { ...specFor(1), api: i % 2 ? 'anthropic' : 'openai', stream: false, fail: 0, cut: false };
        totals.sent++;
        record(await sendOne(fresh, gw.port, spec));
      }
      fresh.destroy();
      await sleep(500);
      return { ...procSample(pid), describe: describeFds(pid) };
    };

    // Warm-up: one of each kind of request, a rotation, a reload and a spend report, so that what the gateway opens
    // once (the spend log's reader, the exporter's connection) is open before the descriptors are counted.
    for (let n = 0; n < 200; n++) {
      const spec = specFor(n);
      if (n === 0) spec.cut = true;
      if (n === 1) spec.fail = 500;
      totals.sent++;
      record(await sendOne(agent, gw.port, spec));
    }
    await rotate();
    const reloadsBefore = await reloadsSucceeded();
    reload();
    await waitFor(async () => (await reloadsSucceeded()) > reloadsBefore, { timeoutMs: 10000, intervalMs: 100 });
    await admin('GET', `/admin/spend?from=${spendFrom}`);
    const idle = await quietFds();
    totals.warmUpRequests = totals.completed;
    startedAt = Date.now();
    rotateAt = startedAt + rotateEveryMs;
    reloadAt = startedAt + reloadEveryMs;
    interval = { completed: 0, byKind: {} };
    const sentBefore = totals.sent;

    // Sampling: one row every sampleMs.
    let last = { t: startedAt, ...procSample(pid) };
    const header = `${'t(s)'.padStart(6)} ${'rps'.padStart(6)} ${'RSS MB'.padStart(7)} ${'anon'.padStart(6)} ${'file'.padStart(6)} ${'fds'.padStart(5)} `
      + `${'CPU µs/req'.padStart(10)} ${'inflight'.padStart(8)}  outcomes`;
    log(header);
    const takeSample = () => {
      const now = Date.now();
      const s = procSample(pid);
      const row = { t: (now - startedAt) / 1000, rps: interval.completed / ((now - last.t) / 1000), rssKb: s.rssKb,
        rssAnonKb: s.rssAnonKb, rssFileKb: s.rssFileKb,
        fds: s.fds, cpuUsPerRequest: interval.completed ? ((s.cpuMs - last.cpuMs) * 1000) / interval.completed : null,
        cpuCores: (s.cpuMs - last.cpuMs) / (now - last.t), inFlight, outcomes: interval.byKind };
      report.samples.push(row);
      log(`${row.t.toFixed(0).padStart(6)} ${row.rps.toFixed(0).padStart(6)} ${(row.rssKb / 1024).toFixed(1).padStart(7)} `
        + `${(row.rssAnonKb / 1024).toFixed(1).padStart(6)} ${(row.rssFileKb / 1024).toFixed(1).padStart(6)} `
        + `${String(row.fds).padStart(5)} ${(row.cpuUsPerRequest ?? 0).toFixed(0).padStart(10)} ${String(inFlight).padStart(8)}  `
        + Object.entries(row.outcomes).map(([k, v]) => `${k}=${v}`).join(' '));
      last = { t: now, ...s };
      interval = { completed: 0, byKind: {} };
    };

    // Open loop: every tick sends what the clock says is due; past maxInFlight the request is not sent and counted.
    let nextSample = startedAt + sampleMs;
    while (Date.now() - startedAt < durationMs) {
      const now = Date.now();
      const due = Math.floor(((now - startedAt) * rate) / 1000) - (totals.sent - sentBefore) - totals.notSent;
      for (let i = 0; i < due; i++) {
        if (inFlight >= maxInFlight) totals.notSent++;
        else issue();
      }
      if (now >= rotateAt && !rotating) { rotateAt += rotateEveryMs; rotate(); }
      if (now >= reloadAt) { reloadAt += reloadEveryMs; reload(); }
      if (now >= nextSample) { nextSample += sampleMs; takeSample(); }
      await sleep(5);
    }
    totals.sentInRun = totals.sent - sentBefore;
    await Promise.all([...pending]);
    takeSample();
    const elapsedMs = Date.now() - startedAt;
    agent.destroy();
    const idleAfter = await quietFds();

    // Settle: every answer is done at the mock; the spend API flushes its queue before answering.
    const ledger = await provider.ledger();
    const spend = (await admin('GET', `/admin/spend?from=${spendFrom}&to=${Math.floor(Date.now() / 1000) + 2}`)).total;
    const metricsText = (await getText(`${gw.adminUrl}/metrics`)).text;
    const metrics = {
      inputTokens: metricValue(metricsText, 'tollway_usage_tokens_total', { kind: 'input' }),
      outputTokens: metricValue(metricsText, 'tollway_usage_tokens_total', { kind: 'output' }),
      reloadsSucceeded: metricValue(metricsText, 'tollway_config_reloads_total', { result: 'success' }),
      reloadsFailed: metricValue(metricsText, 'tollway_config_reloads_total', { result: 'failure' }),
      reservationsOpen: metricValue(metricsText, 'tollway_limits_reservations_open'),
    };

    // ---- checks ----
    const check = (name, pass, detail) => report.checks.push({ name, pass: pass === null ? null : !!pass, detail });
    const window = report.samples.filter((s) => s.t * 1000 >= durationMs / 3);
    const ends = Math.max(1, Math.min(3, Math.floor(window.length / 3)));  // samples at each end, medians
    const headRss = median(window.slice(0, ends).map((s) => s.rssKb));
    const tailRss = median(window.slice(-ends).map((s) => s.rssKb));
    const rssGrowthKb = tailRss - headRss;
    const growthOf = (field) => median(window.slice(-ends).map((s) => s[field])) - median(window.slice(0, ends).map((s) => s[field]));
    const anonGrowthKb = growthOf('rssAnonKb');
    const fileGrowthKb = growthOf('rssFileKb');
    const maxRssKb = Math.max(...window.map((s) => s.rssKb));
    if (rssGrowthLimitKb === null) check('rss_flat', null, `not checked; growth ${rssGrowthKb} kB (median of the last samples minus the first ones after ${(durationMs / 3000).toFixed(0)} s)`);
    else check('rss_flat', window.length >= 2 && rssGrowthKb <= rssGrowthLimitKb,
      `growth ${rssGrowthKb} kB over the last two thirds (anon ${anonGrowthKb}, file ${fileGrowthKb}; limit ${rssGrowthLimitKb} kB; max ${maxRssKb} kB)`);
    // Under load the count moves with the connections open at the instant of the sample (the client's pool, and
    // each worker's pool of idle upstream connections, up to 128, which it trims only when it hands one out), so
    // the check compares medians of the two halves of the window: a leak climbs, a burst does not move a median.
    const half = Math.max(1, Math.floor(window.length / 2));
    const fdHead = median(window.slice(0, half).map((s) => s.fds));
    const fdTail = median(window.slice(-half).map((s) => s.fds));
    const fdMax = Math.max(...window.map((s) => s.fds));
    // A stall of the machine piles up requests and opens up to the client's pool of connections (and as many upstream)
    // at once; that much is allowed between the medians, a leak keeps climbing past it. fds_back_to_idle is the
    // strict check (+2).
    const fdLimit = opts.maxSockets ?? 64;
    check('fds_flat_under_load', fdTail - fdHead <= fdLimit,
      `median ${fdHead} in the first half of the window, ${fdTail} in the second (limit +${fdLimit}, the client's pool; at most ${fdMax})`);
    const fdsOk = idleAfter.fds <= idle.fds + 2;
    check('fds_back_to_idle', fdsOk, `${idle.fds} when quiet after the warm-up, ${idleAfter.fds} when quiet after the run`
      + (fdsOk ? '' : `; before: ${JSON.stringify(idle.describe)}; after: ${JSON.stringify(idleAfter.describe)}`));
    const unexpected = Object.entries(totals.byKind).filter(([k]) => !['ok', 'injected_5xx', 'client_cut'].includes(k));
    check('no_unexpected_errors', unexpected.length === 0 && events.eventErrors.length === 0,
      unexpected.length || events.eventErrors.length ? JSON.stringify({ unexpected: Object.fromEntries(unexpected), events: events.eventErrors }) : 'none');
    check('injected_failures_seen', (totals.byKind.injected_5xx ?? 0) > 0 && (totals.byKind.client_cut ?? 0) > 0,
      `injected_5xx ${totals.byKind.injected_5xx ?? 0}, client_cut ${totals.byKind.client_cut ?? 0}`);
    const served = { requests: ledger.served.openai.requests + ledger.served.anthropic.requests,
      input: ledger.served.openai.input + ledger.served.anthropic.input,
      output: ledger.served.openai.output + ledger.served.anthropic.output };
    check('tokens_accounted', spend.requests === served.requests && spend.input_tokens === served.input
      && spend.output_tokens === served.output && spend.estimated_requests === 0 && ledger.aborted === 0,
    `spend log ${spend.requests} requests / ${spend.input_tokens} in / ${spend.output_tokens} out (${spend.estimated_requests} estimated); `
      + `mock served ${served.requests} / ${served.input} / ${served.output} (${ledger.aborted} answers aborted)`);
    check('tokens_match_requests', served.requests === totals.expectedCharge.requests && served.input === totals.expectedCharge.input
      && served.output === totals.expectedCharge.output,
    `driver expected ${totals.expectedCharge.requests} / ${totals.expectedCharge.input} / ${totals.expectedCharge.output}`);
    check('metrics_match_spend_log', metrics.inputTokens === spend.input_tokens && metrics.outputTokens === spend.output_tokens,
      `/metrics tollway_usage_tokens_total input ${metrics.inputTokens}, output ${metrics.outputTokens}`);
    check('no_open_reservations', metrics.reservationsOpen === 0, `tollway_limits_reservations_open ${metrics.reservationsOpen}`);
    check('reloads_and_rotations', events.reloads > 0 && events.rotations > 0 && metrics.reloadsFailed === 0
      && metrics.reloadsSucceeded >= events.reloads,
    `${events.reloads} SIGHUP reloads (${metrics.reloadsSucceeded} succeeded, ${metrics.reloadsFailed} failed), ${events.rotations} key rotations`);
    const sentInRun = totals.sentInRun;
    // Requests held back because maxInFlight were waiting (a stall of the loaded machine) are reported, not failed
    // on, unless they are more than a tenth of the run.
    check('rate_sustained', sentInRun >= 0.9 * rate * (durationMs / 1000),
      `${sentInRun} sent in the run (${(sentInRun / (durationMs / 1000)).toFixed(0)} req/s asked ${rate}), ${totals.notSent} not sent (over ${maxInFlight} in flight)`);

    const cpuMs = idleAfter.cpuMs - idle.cpuMs;
    Object.assign(report, {
      elapsedMs,
      conditions: { loadavg: fs.readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' '),
        cores: (await import('node:os')).cpus().length, node: process.version },
      totals: { sent: totals.sent, completed: totals.completed, notSent: totals.notSent, byKind: totals.byKind,
        expectedCharge: totals.expectedCharge, warmUpRequests: totals.warmUpRequests,
        cpuUsPerRequest: (cpuMs * 1000) / (totals.completed - totals.warmUpRequests) },
      rss: { quietKb: idle.rssKb, windowStartKb: headRss, windowEndKb: tailRss, growthKb: rssGrowthKb, maxKb: maxRssKb,
        anonGrowthKb, fileGrowthKb },
      fds: { quietBefore: idle.fds, windowFirstHalf: fdHead, windowSecondHalf: fdTail, windowMax: fdMax, quietAfter: idleAfter.fds },
      events, ledger, spend, metrics,
    });
    report.passed = report.checks.every((c) => c.pass !== false);
    return report;
  } finally {
    agent.destroy();
    await gw.stop();
    await provider.stop();
    removeTempDir(dir);
  }
}

// ---- report ------------------------------------------------------------------------------------------
export function markdownSection(report, note) {
  const mb = (kb) => (kb / 1024).toFixed(1);
  const p = report.params;
  const lines = ['## Soak (bench/soak)', '',
    `\`bench/soak/run.sh --duration ${p.durationMs / 60000}m --rate ${p.rate}\` (samples every ${p.sampleMs / 1000} s): `
    + `mixed traffic through one gateway (${p.workers} workers) with auth (8 virtual keys), a per-key token rule and a `
    + 'tenant USD budget on the local ledger, the spend log, telemetry (10 % of traces exported over OTLP/HTTP, an '
    + 'access log line per request), usage on. Half OpenAI chat completions, half Anthropic messages, half of each '
    + 'streamed; 10 % of the streams cut by the client after their first bytes; 1 % of the requests answered 500/503 '
    + `by the mock (passed on after the route's two retries); a key rotated every ${p.rotateEveryMs / 1000} s and the `
    + `config rewritten and reloaded (SIGHUP) every ${p.reloadEveryMs / 1000} s. Method and checks: docs/reliability.md, Soak.`, ''];
  if (note) lines.push(note, '');
  lines.push(`Conditions: ${report.conditions.cores} cores, load average at the end ${report.conditions.loadavg}, `
    + `Node ${report.conditions.node}; the driver and the mock provider are separate Node processes on the same cores. `
    + 'RSS = VmRSS; anon = RssAnon (what the process allocated; the rest is file pages, mostly the executable\'s '
    + 'tokenizer tables).', '',
  '| t (s) | req/s | RSS (MB) | anon (MB) | fds | gateway CPU µs/req | in flight |', '|---:|---:|---:|---:|---:|---:|---:|');
  const every = Math.max(1, Math.ceil(report.samples.length / 20));
  report.samples.forEach((s, i) => {
    if (i % every === 0 || i === report.samples.length - 1) {
      lines.push(`| ${s.t.toFixed(0)} | ${s.rps.toFixed(0)} | ${mb(s.rssKb)} | ${s.rssAnonKb ? mb(s.rssAnonKb) : '–'} | ${s.fds} `
        + `| ${(s.cpuUsPerRequest ?? 0).toFixed(0)} | ${s.inFlight} |`);
    }
  });
  const kinds = Object.entries(report.totals.byKind).map(([k, v]) => `${k} ${v}`).join(', ');
  lines.push('', `Totals: ${report.totals.completed} requests (${kinds}; ${report.totals.warmUpRequests} of them in the `
    + `warm-up and the two quiet points), ${report.totals.cpuUsPerRequest.toFixed(0)} µs of gateway CPU per request `
    + `overall; ${report.events.rotations} key rotations, ${report.events.reloads} reloads. The OTLP sink received `
    + `${report.ledger.otlpRequests} export requests.`, '', '| check | result | detail |', '|---|---|---|');
  for (const c of report.checks) lines.push(`| ${c.name} | ${c.pass === null ? 'not checked' : c.pass ? 'pass' : 'FAIL'} | ${c.detail} |`);
  lines.push('', 'Rerun: `bench/soak/run.sh` (options `--duration`, `--rate`, `--sample`, `--note`; NO_DOC=1 leaves this '
    + 'file alone); `node bench/soak/soak.mjs --render REPORT.json --doc` rewrites this section from a saved report. '
    + 'Raw report: build/bench/soak/report.json.');
  return `${lines.join('\n')}\n`;
}

// ---- CLI ---------------------------------------------------------------------------------------------
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const get = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
  if (args.includes('--help')) {
    process.stdout.write('usage: node bench/soak/soak.mjs [--duration 30m] [--rate 1000] [--sample 10s] [--workers 2]\n'
      + '       [--rotate-every 60s] [--reload-every 90s] [--out build/bench/soak/report.json] [--doc [--note TEXT]]\n'
      + '       node bench/soak/soak.mjs --render REPORT.json [--doc [--note TEXT]]   (the checks and doc section of a saved report)\n');
    process.exit(0);
  }
  const render = get('--render');
  const report = render ? JSON.parse(fs.readFileSync(render, 'utf8')) : await runSoak({
    durationMs: parseDuration(get('--duration', '30m')),
    rate: Number(get('--rate', '1000')),
    sampleMs: parseDuration(get('--sample', '10s')),
    workers: Number(get('--workers', '2')),
    rotateEveryMs: parseDuration(get('--rotate-every', '60s')),
    reloadEveryMs: parseDuration(get('--reload-every', '90s')),
  });
  const out = render ?? get('--out', path.join(SOURCE_DIR, 'build', 'bench', 'soak', 'report.json'));
  if (!render) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  }
  for (const c of report.checks) process.stdout.write(`${c.pass === null ? 'skip' : c.pass ? 'pass' : 'FAIL'}  ${c.name}: ${c.detail}\n`);
  process.stdout.write(`report: ${out}\n`);
  if (args.includes('--doc')) {
    const { writeDocSection } = await import('../lib/doc_section.mjs');
    writeDocSection(path.join(SOURCE_DIR, 'docs', 'benchmarks.md'), '## Soak (bench/soak)', markdownSection(report, get('--note')));
  }
  process.exit(report.passed ? 0 : 1);
}
