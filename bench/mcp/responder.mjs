// The MCP server of bench/mcp: answers every POST /mcp (a tools/call) at once with one small JSON-RPC result as
// application/json, echoing the request's id, so the CPU the benchmark measures is the sidecars' and not an SDK's.
// No sessions, no initialize: the sidecars in front of it do not track sessions either. It counts the calls and
// those whose body carried params._meta.traceparent (what an MCP-aware sidecar writes); GET /stats answers
// {"calls","with_traceparent","bad"} so the run can check which path each pair really took.
// Usage: node responder.mjs PORT   (prints "responder ready" once listening)
import http from 'node:http';

const port = Number(process.argv[2]);
const stats = { calls: 0, with_traceparent: 0, bad: 0 };
const RESULT = '"result":{"content":[{"type":"text","text":"x"}],"isError":false}}';

http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(stats));
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let message;
    try { message = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { message = null; }
    if (req.url !== '/mcp' || message?.method !== 'tools/call' || message.id === undefined) {
      stats.bad += 1;
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"not a tools/call"}}');
      return;
    }
    stats.calls += 1;
    if (typeof message.params?._meta?.traceparent === 'string') stats.with_traceparent += 1;
    const body = `{"jsonrpc":"2.0","id":${JSON.stringify(message.id)},${RESULT}`;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(port, '127.0.0.1', () => console.log('responder ready'));
