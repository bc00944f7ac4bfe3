// The soak's provider side, in its own process (a core of its own, not the load generator's): the mock provider of
// tests/mock/provider.mjs plus an OTLP/HTTP sink for the gateway's exporter. It keeps a ledger of the tokens it
// served — the usage of every 200 answer written to the end — and forgets each request once its answer is done, so
// a long run holds no per-request state. It must never change what the mock answers.
// IPC (child_process.fork): sends {type:'ready', url, otlpUrl}; answers {type:'ledger'} with {type:'ledger', ...}
// once no answer is in flight.
import http from 'node:http';
import { startMockProvider, usageFor } from '../../tests/mock/provider.mjs';

const mock = await startMockProvider({ keepAliveTimeout: 5000 });
const ledger = {
  served: { openai: { requests: 0, input: 0, output: 0 }, anthropic: { requests: 0, input: 0, output: 0 } },
  failed: 0,          // answers with a status >= 500 (the injected failures, retries included)
  otherStatus: 0,     // answers that are neither 200 nor >= 500
  aborted: 0,         // answers whose connection closed before their last byte was written
  otlpRequests: 0,
  otlpBytes: 0,
};
let inFlight = 0;

// Registered after the mock's own handler, so it sees the same requests; it reads the body bytes too (a second
// 'data' listener gets the same chunks).
mock.server.on('request', (req, res) => {
  inFlight++;
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  let settled = false;
  const settle = (finished) => {
    if (settled) return;
    settled = true;
    inFlight--;
    if (!finished) { ledger.aborted++; return; }
    if (res.statusCode >= 500) { ledger.failed++; return; }
    if (res.statusCode !== 200) { ledger.otherStatus++; return; }
    let body;
    try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { ledger.otherStatus++; return; }
    const api = req.url.startsWith('/v1/messages') ? 'anthropic' : 'openai';
    const u = usageFor(body);
    const s = ledger.served[api];
    s.requests++; s.input += u.prompt; s.output += u.completion;
  };
  res.on('finish', () => settle(true));
  res.on('close', () => settle(res.writableFinished));
});

// The mock records every request it sees (bodies included); the ledger above is all the soak needs of them.
setInterval(() => mock.reset(), 1000).unref();

const otlp = http.createServer((req, res) => {
  let n = 0;
  req.on('data', (c) => { n += c.length; });
  req.on('end', () => {
    ledger.otlpRequests++; ledger.otlpBytes += n;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
otlp.keepAliveTimeout = 5000;
await new Promise((r) => otlp.listen(0, '127.0.0.1', r));

const untilIdle = async () => {
  for (let i = 0; i < 600 && inFlight > 0; i++) await new Promise((r) => setTimeout(r, 50));
};
process.on('message', async (m) => {
  if (m?.type === 'ledger') {
    await untilIdle();
    process.send({ type: 'ledger', inFlight, ...ledger });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', url: mock.url, otlpUrl: `http://127.0.0.1:${otlp.address().port}` });
