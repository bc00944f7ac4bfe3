// An open-loop load generator for the hops benchmark: sends GET requests at a fixed rate (a new request every
// 1/rate s whatever the answers do, over a keep-alive pool), optionally absolute-form through a forward proxy, and
// samples the VmRSS of the given processes every 100 ms. Prints one JSON line: sent, ok, errors, achieved rate,
// latency p50/p99 (µs) and the largest RSS (kB) seen per pid. It never retries and never waits for an answer to send.
// Usage: node open_loop.mjs --port P --path PATH [--host HOST] --rate RPS --seconds S [--pids PID,PID]
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
const pool = new http.Agent({ keepAlive: true, maxSockets: 512 });

const rssKb = (pid) => Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const maxRss = Object.fromEntries(pids.map((p) => [p, rssKb(p)]));
const sampler = setInterval(() => { for (const p of pids) maxRss[p] = Math.max(maxRss[p], rssKb(p)); }, 100);

let sent = 0; let ok = 0; let errors = 0;
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
for (const p of pids) maxRss[p] = Math.max(maxRss[p], rssKb(p));
latencies.sort((a, b) => a - b);
const pct = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
console.log(JSON.stringify({ rate, seconds, sent, ok, errors, achieved_rps: Math.round(sent / sendSeconds),
  p50_us: Math.round(pct(0.5)), p99_us: Math.round(pct(0.99)), max_rss_kb: maxRss }));
pool.destroy();
