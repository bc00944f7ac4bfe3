// MCP through sidecars, with the official TypeScript SDK on both ends: agent A's MCP client reaches two MCP servers
// (files on agent B answering over SSE, search on agent C answering with JSON) through its sidecar and theirs (mTLS
// on every hop). Each server's sidecar filters tools/list to what A may call, refuses a forbidden tools/call with a
// JSON-RPC error the SDK raises (the server never sees it), limits calls per tool, refuses malformed JSON-RPC with
// the spec's errors, and traces every operation as a span under the hop's whose context reaches the server's
// handler in params._meta.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { makeCA, getText, metricValue, waitFor, unusedPort, startSidecar } from '../../lib/harness.mjs';
import { proxyFetch } from '../../lib/proxy_fetch.mjs';
import { startMcpServer } from '../../mock/mcp_server.mjs';
import { startOtlpReceiver, allSpans, attrs } from '../../mock/otlp_receiver.mjs';

const TD = 'example.org';
const ID = { a: `spiffe://${TD}/ns/prod/sa/agent-a`, b: `spiffe://${TD}/ns/prod/sa/files`, c: `spiffe://${TD}/ns/prod/sa/search` };
const READ_LIMIT = 3;

// A raw POST through a sidecar's outbound listener (absolute form), for bodies no SDK would send.
function rawPost(proxyPort, url, body, headers = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: url,
      headers: { host: u.host, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text, json: (() => { try { return JSON.parse(text); } catch { return null; } })() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const portOf = (address) => Number(String(address).split(':').pop());
const parentOf = (traceparent) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(traceparent ?? '');

describe('sidecar: MCP tools authorized, filtered, limited and traced by name', () => {
  let ca, receiver, dummyAgent, files, search, sidecars = {}, proxyPort;
  const clients = [];

  async function connect(peer) {
    const client = new Client({ name: 'agent-a', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://${peer}/mcp`), { fetch: proxyFetch(proxyPort) }));
    clients.push(client);
    return client;
  }

  before(async () => {
    ca = makeCA({ name: 'mcp-ca' });
    receiver = await startOtlpReceiver();
    dummyAgent = http.createServer((req, res) => res.end('a'));
    await new Promise((r) => dummyAgent.listen(0, '127.0.0.1', r));
    files = await startMcpServer({ name: 'files', tools: ['read_file', 'list_dir', 'write_file', 'delete_file'] });
    search = await startMcpServer({ name: 'search', tools: ['search', 'admin_reindex'], json: true });
    const inbound = { a: await unusedPort(), b: await unusedPort(), c: await unusedPort() };
    const telemetry = (name) => ({ service_name: name, tracing: { sample_ratio: '1.0' }, otlp: { endpoint: receiver.url, traces_interval: '100ms' } });
    const doc = (k, agentPort, extra) => ({
      version: 1,
      sidecar: { spiffe_id: ID[k], outbound: '127.0.0.1:0', inbound: `127.0.0.1:${inbound[k]}`, agent: `127.0.0.1:${agentPort}`,
        tls: (() => { const s = ca.svid(`agent-${k}`, ID[k]); return { cert_file: s.certFile, key_file: s.keyFile, bundle_file: ca.caFile }; })() },
      telemetry: telemetry(`agent-${k}`),
      ...extra,
    });
    sidecars.a = await startSidecar(doc('a', dummyAgent.address().port, {
      peers: { files: { address: `127.0.0.1:${inbound.b}`, spiffe_id: ID.b }, search: { address: `127.0.0.1:${inbound.c}`, spiffe_id: ID.c } },
      mcp: { endpoint: { path: '/mcp', servers: [{ name: 'files', peer: 'files' }, { name: 'search', peer: 'search', path: '/mcp' }] } },
    }));
    sidecars.b = await startSidecar(doc('b', files.port, {
      mcp: { server: 'files', rules: [
        { action: 'allow', from: [ID.a], tools: ['read_*', 'list_*'] },
        { action: 'deny', from: [ID.a], tools: ['delete_*'] },
      ] },
      limits: { rules: [{ name: 'read-file', match: { tools: ['read_file'] }, per: ['from', 'tool'], limit: READ_LIMIT, window: '1m' }] },
    }));
    sidecars.c = await startSidecar(doc('c', search.port, {
      mcp: { server: 'search', rules: [
        { action: 'allow', from: [`spiffe://${TD}/ns/prod/sa/*`], tools: ['search'] },
        { action: 'deny', from: [ID.a], tools: ['search'], mode: 'audit' },
      ] },
    }));
    proxyPort = portOf(sidecars.a.ready.listeners.outbound);
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => {});
    // The servers first: their open SSE streams end, so the sidecars have nothing to drain.
    await files?.close();
    await search?.close();
    for (const s of Object.values(sidecars)) await s?.stop();
    await new Promise((r) => dummyAgent?.close(r));
    await receiver?.close();
    ca?.cleanup();
  });

  it('tools/list offers only the tools the caller may call, over SSE and over JSON', async () => {
    const filesClient = await connect('files');
    const names = (await filesClient.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['list_dir', 'read_file']);  // write_file: no rule allows it; delete_file: denied
    const searchClient = await connect('search');
    assert.deepEqual((await searchClient.listTools()).tools.map((t) => t.name), ['search']);
  });

  it('an allowed tools/call reaches the server with the trace context of its span in params._meta', async () => {
    const client = await connect('files');
    const result = await client.callTool({ name: 'read_file', arguments: { text: 'notes.txt' } });
    assert.equal(result.content[0].text, 'files/read_file: notes.txt');
    const call = files.calls.at(-1);
    assert.equal(call.tool, 'read_file');
    assert.equal(call.caller, ID.a);  // the verified identity of the caller, from its sidecar
    const parent = parentOf(call.meta.traceparent);
    assert.ok(parent, `traceparent in _meta: ${JSON.stringify(call.meta)}`);
    const [, traceId, spanId] = parent;
    const spans = await waitFor(() => {
      const s = allSpans(receiver.requests).filter((x) => x.traceId === traceId);
      return s.some((x) => x.spanId === spanId) && s.length >= 3 ? s : null;
    });
    const toolSpan = spans.find((x) => x.spanId === spanId);
    assert.equal(toolSpan.name, 'tools/call read_file');
    const a = attrs(toolSpan.attributes);
    assert.equal(a['mcp.method.name'], 'tools/call');
    assert.equal(a['gen_ai.tool.name'], 'read_file');
    assert.equal(a['gen_ai.operation.name'], 'execute_tool');
    assert.ok(a['mcp.session.id'], 'mcp.session.id');
    assert.ok(a['jsonrpc.request.id'] !== undefined, 'jsonrpc.request.id');
    assert.equal(a['tollway.source.spiffe_id'], ID.a);
    assert.equal(a['tollway.destination.spiffe_id'], ID.b);
    // One trace: A's sidecar's CLIENT span -> B's sidecar's SERVER span -> the tool span -> the server's handler.
    const hop = spans.find((x) => x.spanId === toolSpan.parentSpanId);
    assert.ok(hop, 'the tool span has the inbound hop span as parent');
    const clientSpan = spans.find((x) => x.spanId === hop.parentSpanId);
    assert.ok(clientSpan, 'the inbound hop continues the caller sidecar span');
    assert.equal(attrs(clientSpan.attributes)['tollway.source.spiffe_id'], ID.a);
  });

  it('a forbidden tools/call is a JSON-RPC error the SDK raises, logged, and never reaches the server', async () => {
    const client = await connect('files');
    const before = files.calls.length;
    for (const name of ['delete_file', 'write_file']) {
      await assert.rejects(client.callTool({ name, arguments: {} }), (e) => {
        assert.ok(e instanceof McpError, `an McpError, got ${e}`);
        assert.equal(e.code, -32003);
        assert.match(e.message, new RegExp(`tool "${name}" of MCP server files`));
        assert.equal(e.data.code, 'forbidden');
        return true;
      });
    }
    assert.equal(files.calls.length, before);
    assert.ok(files.requests.every((r) => !r.body.includes('delete_file')), 'the server never saw delete_file');
    const line = await sidecars.b.waitForLog((o) => o?.msg === 'authorization decision' && o.tool === 'delete_file');
    assert.equal(line.decision, 'deny');
    assert.equal(line.source_spiffe_id, ID.a);
    assert.ok(line.rule_line > 0);
  });

  it('an audit rule logs what it would refuse and refuses nothing', async () => {
    const client = await connect('search');
    const result = await client.callTool({ name: 'search', arguments: { text: 'q' } });
    assert.equal(result.content[0].text, 'search/search: q');
    const line = await sidecars.c.waitForLog((o) => o?.msg === 'authorization decision' && o.mode === 'audit');
    assert.equal(line.decision, 'deny');
    assert.equal(line.tool, 'search');
  });

  it('a per-tool limit answers the call past it with a JSON-RPC error and a retry time', async () => {
    const client = await connect('files');
    const served = files.calls.filter((c) => c.tool === 'read_file').length;  // from the earlier test
    let refused = null;
    for (let i = served; i < READ_LIMIT + 1; ++i) {
      try {
        await client.callTool({ name: 'read_file', arguments: { text: String(i) } });
      } catch (e) {
        refused = e;
      }
    }
    assert.ok(refused instanceof McpError, `the call past the limit is refused: ${refused}`);
    assert.equal(refused.code, -32029);
    assert.equal(refused.data.code, 'rate_limit_exceeded');
    assert.ok(Number(refused.data.retry_after_s) >= 1);
    assert.match(refused.message, /by tool "read_file"/);
    assert.equal(files.calls.filter((c) => c.tool === 'read_file').length, READ_LIMIT);
    // Other tools are not counted by the read_file rule.
    assert.equal((await client.callTool({ name: 'list_dir', arguments: {} })).content[0].text, 'files/list_dir: ');
  });

  it('malformed JSON-RPC gets the error the spec prescribes and nothing is forwarded', async () => {
    const seen = files.requests.length;
    const cases = [
      ['{"jsonrpc":"2.0","id":1,"method":', -32700],
      ['{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","name":"delete_file"}}', -32700],
      ['{"jsonrpc":"1.0","id":1,"method":"ping"}', -32600],
      ['{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600],
      ['{"jsonrpc":"2.0","id":1,"method":"ping","extra":true}', -32600],
      ['[]', -32600],
    ];
    for (const [body, code] of cases) {
      const r = await rawPost(proxyPort, 'http://files/mcp', body);
      assert.equal(r.status, 400, body);
      assert.equal(r.json?.error?.code, code, `${body}: ${r.text}`);
      assert.equal(r.json.id, null);
    }
    const bad = await rawPost(proxyPort, 'http://files/mcp', '{"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"arguments":{}}}');
    assert.equal(bad.status, 200);
    assert.deepEqual([bad.json.id, bad.json.error.code], ['x', -32602]);
    // A batch with a forbidden call: nothing of it is forwarded, every request gets an error.
    const batch = await rawPost(proxyPort, 'http://files/mcp', JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file' } },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'delete_file' } },
    ]));
    assert.equal(batch.status, 200);
    assert.deepEqual(batch.json.map((m) => [m.id, m.error.code]), [[1, -32003], [2, -32003]]);
    assert.equal(files.requests.length, seen, 'no malformed or refused body reached the server');
  });

  it('one MCP endpoint for both servers: the union of allowed tools, each call routed to its server', async () => {
    const client = new Client({ name: 'agent-a', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${proxyPort}/mcp`)));
    clients.push(client);
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(names, ['files_list_dir', 'files_read_file', 'search_search']);
    const listed = files.calls.length;
    const result = await client.callTool({ name: 'files_list_dir', arguments: { text: '/' } });
    assert.equal(result.content[0].text, 'files/list_dir: /');
    assert.equal(files.calls.length, listed + 1);
    assert.equal((await client.callTool({ name: 'search_search', arguments: { text: 'q' } })).content[0].text, 'search/search: q');
    // The server's own sidecar still decides: a forbidden tool is refused there, whatever the endpoint forwards.
    await assert.rejects(client.callTool({ name: 'files_delete_file', arguments: {} }), (e) => e instanceof McpError && e.code === -32003);
    await assert.rejects(client.callTool({ name: 'nowhere_tool', arguments: {} }), (e) => e instanceof McpError && e.code === -32602);
    // One trace: the endpoint's CLIENT span for the call -> the server sidecar's hop -> its tool span -> the handler.
    const [, traceId, spanId] = parentOf(files.calls.at(-1).meta.traceparent) ?? [];
    assert.ok(traceId);
    const spans = await waitFor(() => {
      const s = allSpans(receiver.requests).filter((x) => x.traceId === traceId);
      const clientCall = s.find((x) => x.name === 'tools/call files_list_dir');
      return clientCall && s.some((x) => x.spanId === spanId) ? s : null;
    });
    const serverTool = spans.find((x) => x.spanId === spanId);
    assert.equal(serverTool.name, 'tools/call list_dir');
    const hop = spans.find((x) => x.spanId === serverTool.parentSpanId);
    const endpointCall = spans.find((x) => x.spanId === hop?.parentSpanId);
    assert.equal(endpointCall?.name, 'tools/call files_list_dir');
    assert.equal(endpointCall.kind, 3);  // CLIENT
    const { text } = await getText(`http://127.0.0.1:${sidecars.a.adminPort}/metrics`);
    assert.ok(metricValue(text, 'mcp_client_operation_duration_seconds_count', { mcp_method_name: 'tools/call', gen_ai_tool_name: 'files_list_dir' }) >= 1);
  });

  it('the server-side sidecars report mcp.server.operation.duration and refusals on /metrics', async () => {
    const { text } = await getText(`http://127.0.0.1:${sidecars.b.adminPort}/metrics`);
    assert.ok(metricValue(text, 'mcp_server_operation_duration_seconds_count', { mcp_method_name: 'tools/call', gen_ai_tool_name: 'read_file' }) >= READ_LIMIT);
    assert.ok(metricValue(text, 'mcp_server_operation_duration_seconds_count', { mcp_method_name: 'tools/list' }) >= 1);
    assert.ok(metricValue(text, 'tollway_sidecar_mcp_refusals_total', { reason: 'forbidden' }) >= 2);
    assert.ok(metricValue(text, 'tollway_sidecar_mcp_refusals_total', { reason: 'invalid_mcp_request' }) >= 6);
  });
});
