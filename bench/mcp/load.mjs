// The load of bench/mcp/run.sh: closed-loop MCP tools/call requests through a sidecar's outbound forward proxy,
// absolute-form `POST http://files/mcp` as an HTTP_PROXY client sends it, over --concurrency kept-alive
// connections, --count requests in all. Each body is
//   {"jsonrpc":"2.0","id":N,"method":"tools/call","params":{"name":TOOL,"arguments":{"text":"x"}}}
// with N counting from 1, and the headers an MCP client sends (mcp-session-id, mcp-protocol-version,
// accept: application/json, text/event-stream). An answer is `ok` when it is a 200 JSON-RPC result echoing its id,
// `rpc_error` when it is a JSON-RPC error echoing its id (the first one's message is kept), else an error.
// Prints one JSON line: count, concurrency, seconds, rate, ok, rpc_errors, errors, statuses, latency p50/p99 (µs).
// Usage: node load.mjs --port P [--count N (1000)] [--concurrency C (1)] [--tool NAME (read_file)]
//                      [--session ID (bench-session-1)]
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    port: { type: 'string' }, count: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '1' }, tool: { type: 'string', default: 'read_file' },
    session: { type: 'string', default: 'bench-session-1' },
  },
});
const count = Number(a.count);
const concurrency = Number(a.concurrency);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const stats = { ok: 0, rpc_errors: 0, errors: 0, statuses: {}, first_error: undefined };
const latencies = [];

let nextId = 0;
const one = () => new Promise((resolve) => {
  nextId += 1;
  const id = nextId;
  const body = `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"${a.tool}",` +
    '"arguments":{"text":"x"}}}';
  const t0 = process.hrtime.bigint();
  const req = http.request({ host: '127.0.0.1', port: Number(a.port), path: 'http://files/mcp', method: 'POST',
    agent, headers: { host: 'files', 'content-type': 'application/json', 'content-length': body.length,
      accept: 'application/json, text/event-stream', 'mcp-session-id': a.session,
      'mcp-protocol-version': '2025-06-18' } }, (res) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('end', () => {
      latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
      stats.statuses[res.statusCode] = (stats.statuses[res.statusCode] ?? 0) + 1;
      let m = null;
      try { m = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { /* counted below */ }
      if (res.statusCode === 200 && m?.id === id && m.result !== undefined) stats.ok += 1;
      else if (m?.id === id && m.error !== undefined) {
        stats.rpc_errors += 1;
        stats.first_error ??= m.error.message;
      } else stats.errors += 1;
      resolve();
    });
  });
  req.on('error', (e) => { stats.errors += 1; stats.first_error ??= e.message; resolve(); });
  req.end(body);
});

const start = process.hrtime.bigint();
let started = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (started < count) {
    started += 1;
    await one();
  }
}));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
agent.destroy();
latencies.sort((x, y) => x - y);
const pct = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN);
console.log(JSON.stringify({ count, concurrency, seconds, rate: count / seconds, ...stats,
  p50_us: pct(0.5), p99_us: pct(0.99) }));
