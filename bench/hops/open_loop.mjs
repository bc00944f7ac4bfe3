// An open-loop load generator for the hops benchmark: sends GET requests at a fixed rate (a new request every
// 1/rate s whatever the answers do, over a keep-alive pool of at most --max-sockets connections: beyond that
// requests wait in the client), optionally absolute-form through a forward proxy, and
// samples the memory of the given processes every 100 ms. Prints one JSON line: sent, ok, errors, connections
// opened, achieved rate, latency p50/p99 (µs) and the largest VmRSS and RssAnon (kB) seen per pid. It never
// retries and never waits for an answer to send.
// Usage: node open_loop.mjs --port P --path PATH [--host HOST] --rate RPS --seconds S [--max-sockets N (512)]
//                           [--pids PID,PID]
import http from 'node:http';
import fs from 'node:fs';

const args = process.argv.slice(2);
const opt = (k, d = '') => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
const port = Number(opt('port'));
const path = opt('path', '/');
const host = opt('host', `127.0.0.1:${port}`);
const rate = Number(opt('rate', '1000'));
const seconds = Number(opt('seconds', '5'));
const pids = opt('pids').split(',').filter(Boolean);
const maxSockets = Number(opt('max-sockets', '512'));
const pool = new http.Agent({ keepAlive: true, maxSockets });

// The largest VmRSS and RssAnon (heap, stacks: what the process allocated, not its mapped binary) seen per pid.
const maxRss = Object.fromEntries(pids.map((p) => [p, { rss_kb: 0, anon_kb: 0 }]));
function sampleRss() {
  for (const p of pids) {
    const status = fs.readFileSync(`/proc/${p}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    maxRss[p] = { rss_kb: Math.max(maxRss[p].rss_kb, kb('VmRSS')),
      anon_kb: Math.max(maxRss[p].anon_kb, kb('RssAnon')) };
  }
}
sampleRss();
const sampler = setInterval(sampleRss, 100);

let sent = 0; let ok = 0; let errors = 0; let connections = 0;
const seen = new WeakSet();
const latencies = [];
function send() {
  const t0 = process.hrtime.bigint();
  sent++;
  const req = http.request({ host: '127.0.0.1', port, path, method: 'GET', agent: pool, headers: { host } }, (res) => {
    res.resume();
    res.on('end', () => {
      if (res.statusCode === 200) ok++; else errors++;
      latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
    });
  });
  req.on('socket', (socket) => { if (!seen.has(socket)) { seen.add(socket); connections++; } });
  req.on('error', () => { errors++; });
  req.end();
}

const start = process.hrtime.bigint();
const total = Math.round(rate * seconds);
await new Promise((resolve) => {
  const tick = () => {
    const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
    const due = Math.min(total, Math.floor(elapsedS * rate));
    while (sent < due) send();
    if (sent >= total) return resolve();
    setTimeout(tick, 1);
  };
  tick();
});
const sendSeconds = Number(process.hrtime.bigint() - start) / 1e9;
const deadline = Date.now() + 5000;
while (ok + errors < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
clearInterval(sampler);
sampleRss();
latencies.sort((a, b) => a - b);
const pct = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
console.log(JSON.stringify({ rate, seconds, max_sockets: maxSockets, sent, ok, errors, connections,
  achieved_rps: Math.round(sent / sendSeconds),
  p50_us: Math.round(pct(0.5)), p99_us: Math.round(pct(0.99)),
  max_rss: pids.map((pid) => ({ pid: Number(pid), ...maxRss[pid] })) }));
pool.destroy();
