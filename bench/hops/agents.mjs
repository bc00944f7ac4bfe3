// The hops benchmark's agents: N trivial echo agents in one Node process, agent i on its own port. A request's last
// path segment names the topology; agent i calls agent i+1 that way and answers with i+1's answer, the last agent
// answers itself. Topologies: `direct` (plain HTTP to the next agent's port), `gateway` (through the gateway:
// GET /agents/{i+1}/gateway, a raw route per agent), `sidecar` (through agent i's sidecar outbound listener as an
// HTTP_PROXY client does: absolute-form GET http://agent-{i+1}/sidecar, trace headers passed on).
// Usage: node agents.mjs --ports P0,P1,... --gateway PORT --proxies O0,O1,...  (prints "agents ready" when up)
import http from 'node:http';

const args = process.argv.slice(2);
const opt = (k) => { const i = args.indexOf(`--${k}`); return i >= 0 ? args[i + 1] : ''; };
const ports = opt('ports').split(',').map(Number);
const gatewayPort = Number(opt('gateway'));
const proxyPorts = opt('proxies').split(',').map(Number);
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const TRACE_HEADERS = ['traceparent', 'tracestate', 'baggage'];

// Where agent `i` sends its call to agent i+1 in `topology`.
function nextHop(i, topology) {
  const next = i + 1;
  if (topology === 'direct') return { port: ports[next], path: '/direct', host: `127.0.0.1:${ports[next]}` };
  if (topology === 'gateway') {
    return { port: gatewayPort, path: `/agents/${next}/gateway`, host: `127.0.0.1:${gatewayPort}` };
  }
  if (topology === 'sidecar') {
    return { port: proxyPorts[i], path: `http://agent-${next}/sidecar`, host: `agent-${next}` };
  }
  return null;
}

function call(target, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: target.port, path: target.path, method: 'GET', agent: keepAlive,
      headers: { ...headers, host: target.host } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

function startAgent(i) {
  const last = i === ports.length - 1;
  const server = http.createServer(async (req, res) => {
    const topology = req.url.split('?')[0].split('/').pop();
    try {
      if (last) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(`{"agent":${i}}`);
      }
      const target = nextHop(i, topology);
      if (!target) { res.writeHead(404); return res.end(); }
      const forward = {};
      for (const h of TRACE_HEADERS) if (req.headers[h]) forward[h] = req.headers[h];
      const down = await call(target, forward);
      res.writeHead(down.status, { 'content-type': 'application/json' });
      res.end(down.body);
    } catch (e) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`agent ${i}: ${e.message}`);
    }
  });
  server.keepAliveTimeout = 120000;
  return new Promise((resolve) => server.listen(ports[i], '127.0.0.1', resolve));
}

await Promise.all(ports.map((_, i) => startAgent(i)));
console.log('agents ready');
