// Load for bench/leased: POSTs a small chat completion (max_tokens 32) of one model to a set of gateways, picked by
// weight with a fixed-seed generator, and prints one JSON line: sent, ok, denied (429), errors (anything else),
// tokens (the sum of usage.total_tokens of the 200 answers: what the provider served), ok per URL, latency p50/p99
// in µs, seconds, achieved rate. Two modes:
//   open loop:  --rate R --seconds S        a new request every 1/R s whatever the answers do (never retries)
//   drain:      --drain --concurrency C --quiet-ms Q --max-seconds T
//               C requests in flight until no request was admitted for Q ms (the budget is spent) or T s passed;
//               a worker that was denied waits 1 ms before its next request.
// Usage: node load.mjs --urls URL,URL --weights W,W --model M (mode options)
import http from 'node:http';

const args = process.argv.slice(2);
const opt = (k, d = '') => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : d; };
const urls = opt('urls').split(',').filter(Boolean).map((u) => new URL(u));
const weights = opt('weights', urls.map(() => '1').join(',')).split(',').map(Number);
const model = opt('model', 'gpt-4o-mini');
const drain = args.includes('--drain');
const rate = Number(opt('rate', '100'));
const seconds = Number(opt('seconds', '5'));
const concurrency = Number(opt('concurrency', '4'));
const quietMs = Number(opt('quiet-ms', '1000'));
const maxSeconds = Number(opt('max-seconds', '30'));
const body = JSON.stringify({
  model, max_tokens: 32,
  messages: [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: 'Say hello.' }],
});
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

let seed = 12345;
const random = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const totalWeight = weights.reduce((a, b) => a + b, 0);
function pick() {
  let r = random() * totalWeight;
  for (let i = 0; i < urls.length; i++) { r -= weights[i]; if (r < 0) return i; }
  return urls.length - 1;
}

const stats = { sent: 0, ok: 0, denied: 0, errors: 0, tokens: 0, ok_per_url: urls.map(() => 0) };
const latencies = [];
let lastOk = 0;

function send(i) {
  stats.sent += 1;
  const u = urls[i];
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = http.request({
      host: u.hostname, port: u.port, path: '/v1/chat/completions', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
        authorization: 'Bearer sk-bench-client-key' },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
        if (res.statusCode === 200) {
          stats.ok += 1; stats.ok_per_url[i] += 1; lastOk = Date.now();
          try { stats.tokens += JSON.parse(Buffer.concat(chunks).toString('utf8')).usage.total_tokens; } catch {
            stats.errors += 1;
          }
        } else if (res.statusCode === 429) stats.denied += 1;
        else { stats.errors += 1; if (!stats.first_error) stats.first_error = `${res.statusCode} ${Buffer.concat(chunks)}`; }
        resolve(res.statusCode);
      });
    });
    req.on('error', (e) => { stats.errors += 1; stats.first_error ??= e.message; resolve(0); });
    req.end(body);
  });
}

const start = Date.now();
if (drain) {
  lastOk = start;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const done = () => Date.now() - lastOk > quietMs || Date.now() - start > maxSeconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (!done()) if ((await send(pick())) !== 200) await sleep(1);
  }));
} else {
  const pending = new Set();
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (Date.now() - start) / 1000;
      const due = Math.min(Math.floor(elapsed * rate), Math.floor(seconds * rate));
      while (stats.sent < due) {
        const p = send(pick());
        pending.add(p);
        p.then(() => pending.delete(p));
      }
      if (elapsed >= seconds) { clearInterval(timer); resolve(); }
    }, 2);
  });
  await Promise.all(pending);
}
stats.seconds = (Date.now() - start) / 1000;
stats.achieved_rps = stats.sent / stats.seconds;
latencies.sort((a, b) => a - b);
const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : 0);
stats.p50_us = pct(0.5);
stats.p99_us = pct(0.99);
agent.destroy();
console.log(JSON.stringify(stats));
