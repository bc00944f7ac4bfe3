// The mTLS load of bench/mtls/run.sh, against one server (HOST:PORT) with a client certificate:
//   handshake  --count N --concurrency C: N full TLS handshakes (no session resumption: every connection is new and
//              offers no ticket), each connection closed as soon as the handshake completed; prints per-handshake
//              latency p50/p99 (µs) as seen by the client, and the rate.
//   keepalive  --count N --concurrency C --path P: N POST requests over C kept-alive connections (one handshake each);
//              prints the rate and the status counts.
// Output: one JSON line. The server is verified against --ca with its SPIFFE-only certificate (no host name check).
import fs from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { parseArgs } from 'node:util';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string' }, cert: { type: 'string' },
    key: { type: 'string' }, ca: { type: 'string' }, count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '1' }, path: { type: 'string', default: '/' },
    'host-header': { type: 'string', default: 'bench' },
  },
});
const mode = positionals[0];
const count = Number(a.count);
const concurrency = Number(a.concurrency);
const creds = { cert: fs.readFileSync(a.cert), key: fs.readFileSync(a.key), ca: fs.readFileSync(a.ca) };
// A SPIFFE certificate names no host: check the chain, skip the name (the servers under test check the client).
const checkServerIdentity = () => undefined;

function handshakeOnce() {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const socket = tls.connect({ host: a.host, port: Number(a.port), ...creds, checkServerIdentity,
      servername: undefined, session: undefined });
    socket.once('secureConnect', () => {
      const micros = Number(process.hrtime.bigint() - start) / 1000;
      if (!socket.authorized) reject(new Error(`not authorized: ${socket.authorizationError}`));
      socket.destroy();
      resolve(micros);
    });
    socket.once('error', reject);
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function handshakes() {
  const latencies = [];
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next += 1;
      latencies.push(await handshakeOnce());
    }
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort((x, y) => x - y);
  return { mode, count, concurrency, seconds, rate: count / seconds,
    p50_us: percentile(latencies, 50), p99_us: percentile(latencies, 99) };
}

async function keepalive() {
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency, ...creds, checkServerIdentity });
  const body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}';
  const statuses = {};
  let next = 0;
  const one = () => new Promise((resolve, reject) => {
    const req = https.request({ host: a.host, port: Number(a.port), path: a.path, method: 'POST', agent,
      headers: { host: a['host-header'], 'content-type': 'application/json', 'content-length': body.length } },
    (res) => { res.resume(); res.on('end', () => { statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1; resolve(); }); });
    req.on('error', reject);
    req.end(body);
  });
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) {
      next += 1;
      await one();
    }
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  agent.destroy();
  return { mode, count, concurrency, seconds, rate: count / seconds, statuses };
}

const result = mode === 'handshake' ? await handshakes() : await keepalive();
console.log(JSON.stringify(result));
