// An MCP server exposed through the gateway (issue 19: "the gateway, where an MCP server is exposed through it"):
// the official SDK's client, authenticated by a virtual key, lists only the tools its tenant and agent may use,
// calls an allowed one (the server sees the gateway's own credential for it, never the caller's key, and the
// caller's trace continued in params._meta), is refused a forbidden one with the JSON-RPC error the SDK raises
// (the server never saw it), and an unauthenticated or malformed call gets a JSON-RPC error too. Audit rules log
// and decide nothing; tollway validate refuses `mcp:` without `auth:`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startMock, startGateway, testConfig, runTollway, tempDir, removeTempDir, metricValue, getText, waitFor,
  unusedPort } from '../../lib/harness.mjs';
import { startMcpServer } from '../../mock/mcp_server.mjs';

const ADMIN = 'admin-token-mcp-0123456789abcdef';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('an MCP server exposed through the gateway', () => {
  let mock; let tools; let gw; let plannerKey; let otherKey; let writerKey;

  before(async () => {
    mock = await startMock();
    tools = await startMcpServer({ name: 'tools', tools: ['search_docs', 'search_web', 'delete_repo'], prompts: ['review'] });
    const config = testConfig({
      openaiUrl: mock.url,
      over: {
        auth: { admin_token: ADMIN, virtual_keys: { store: ':memory:' } },
        mcp: {
          servers: [{
            name: 'tools', path: '/mcp/tools', url: `http://127.0.0.1:${tools.port}/mcp`,
            headers: { authorization: 'Bearer server-credential' },
            rules: [
              { action: 'deny', from: { agents: ['planner'] }, tools: ['search_web'] },
              { action: 'allow', from: { tenants: ['acme'] }, tools: ['search_*'], prompts: ['review'] },
              { action: 'allow', mode: 'audit', from: { tenants: ['acme'] }, tools: ['delete_*'] },
            ],
            limits: [{ name: 'search-calls', tools: ['search_*'], per: ['tool', 'key'], limit: 3, window: '1h' }],
          }, { name: 'down', path: '/mcp/down', url: `http://127.0.0.1:${await unusedPort()}/mcp`, rules: [] }],
        },
      },
    });
    gw = await startGateway({ config });
    const create = async (body) => {
      const r = await fetch(`${gw.adminUrl}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` },
        body: JSON.stringify(body) });
      assert.equal(r.status, 201);
      return (await r.json()).key;
    };
    plannerKey = await create({ tenant: 'acme', agent: 'planner' });
    otherKey = await create({ tenant: 'globex', agent: 'planner' });
    writerKey = await create({ tenant: 'acme', agent: 'writer' });
  });
  after(async () => { await tools?.close(); await gw?.stop(); await mock?.close(); });

  const connect = async (key, headers = {}) => {
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/mcp/tools`),
      { requestInit: { headers: { authorization: `Bearer ${key}`, ...headers } } }));
    return client;
  };

  it('lists only what the caller may use and calls an allowed tool with the gateway credential', async () => {
    const client = await connect(plannerKey, { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` });
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ['search_docs']);
    assert.deepEqual((await client.listPrompts()).prompts.map((p) => p.name), ['review']);
    const result = await client.callTool({ name: 'search_docs', arguments: { text: 'q' } });
    assert.equal(result.content[0].text, 'tools/search_docs: q');
    const call = tools.calls.at(-1);
    assert.match(call.meta.traceparent, new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`), 'the server continues the trace');
    const seen = tools.requests.filter((r) => r.body.includes('"search_docs"') && r.body.includes('tools/call'));
    assert.equal(seen.length, 1);
    await client.close();
    // What the server received carried the gateway's credential, never the caller's key.
    assert.ok(tools.headers.every((h) => h.authorization === 'Bearer server-credential'), JSON.stringify(tools.headers));
  });

  it('refuses a forbidden tool with the JSON-RPC error the SDK raises; the server never sees it', async () => {
    const client = await connect(plannerKey);
    const before = tools.requests.length;
    for (const name of ['search_web', 'delete_repo']) {
      await assert.rejects(client.callTool({ name, arguments: {} }), (e) => {
        assert.ok(e instanceof McpError, `an McpError, got ${e}`);
        assert.equal(e.code, -32003);
        assert.equal(e.data.type, 'tollway_gateway_error');
        assert.equal(e.data.code, 'forbidden');
        assert.match(e.message, new RegExp(`${name}.*MCP server tools`));
        return true;
      });
    }
    assert.equal(tools.requests.filter((r, i) => i >= before && r.body.includes('tools/call')).length, 0);
    const decision = await gw.waitForLog((o) => o?.msg === 'authorization decision' && o.mcp_method === 'tools/call' &&
      o.tool === 'delete_repo' && o.mode === 'audit');
    assert.equal(decision.tenant, 'acme');
    await client.close();
  });

  it('counts tool calls per tool and key: past the limit the SDK raises -32029 and the server never sees it', async () => {
    const client = await connect(writerKey);
    for (let i = 0; i < 3; i++) await client.callTool({ name: 'search_web', arguments: { text: String(i) } });
    const before = tools.requests.length;
    await assert.rejects(client.callTool({ name: 'search_web', arguments: {} }), (e) => {
      assert.ok(e instanceof McpError, `an McpError, got ${e}`);
      assert.equal(e.code, -32029);
      assert.equal(e.data.code, 'rate_limit_exceeded');
      assert.match(e.message, /limit "search-calls" exceeded by tool "search_web" \(3 calls per 3600s\)/);
      return true;
    });
    assert.equal(tools.requests.length, before);
    // Another tool has its own counter.
    assert.equal((await client.callTool({ name: 'search_docs', arguments: { text: 'q' } })).content[0].text, 'tools/search_docs: q');
    await client.close();
  });

  it('another tenant is offered nothing', async () => {
    const client = await connect(otherKey);
    assert.deepEqual((await client.listTools()).tools, []);
    await assert.rejects(client.callTool({ name: 'search_docs', arguments: {} }), (e) => e instanceof McpError && e.code === -32003);
    await client.close();
  });

  it('answers unauthenticated and malformed calls with JSON-RPC errors, forwarding nothing', async () => {
    const before = tools.requests.length;
    const post = async (body, headers) => {
      const r = await fetch(`${gw.url}/mcp/tools`, { method: 'POST', body,
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } });
      return { status: r.status, json: await r.json() };
    };
    const anonymous = await post('{"jsonrpc":"2.0","id":1,"method":"tools/list"}', {});
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.json.jsonrpc, '2.0');
    assert.equal(anonymous.json.error.code, -32003);
    const malformed = await post('{"jsonrpc":"2.0","id":1,"method":', { authorization: `Bearer ${plannerKey}` });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.error.code, -32700);
    assert.equal(tools.requests.length, before);
    const down = await fetch(`${gw.url}/mcp/down`, { method: 'POST', body: '{"jsonrpc":"2.0","id":7,"method":"tools/list"}',
      headers: { authorization: `Bearer ${plannerKey}`, 'content-type': 'application/json' } });
    assert.equal(down.status, 200, 'a server that cannot be reached: the JSON-RPC answer to the request');
    const answer = await down.json();
    assert.deepEqual([answer.id, answer.error.code], [7, -32603]);
    const put = await fetch(`${gw.url}/mcp/tools`, { method: 'PUT', body: '{}', headers: { authorization: `Bearer ${plannerKey}` } });
    assert.equal(put.status, 405);
  });

  it('records the operation durations and refusals on /metrics', async () => {
    const metrics = await waitFor(async () => {
      const { text } = await getText(`${gw.adminUrl}/metrics`);
      return text.includes('mcp_server_operation_duration_seconds_count') ? text : null;
    });
    assert.match(metrics, /^mcp_server_operation_duration_seconds_count\{mcp_method_name="tools\/call",gen_ai_tool_name="search_docs"\} [1-9]/m);
    assert.ok(metricValue(metrics, 'tollway_gateway_mcp_refusals_total', { reason: 'forbidden' }) >= 3, metrics);
  });

  it('tollway validate refuses mcp without auth and names bad rules', async () => {
    const dir = tempDir('tollway-mcp-validate-');
    try {
      const file = path.join(dir, 'gateway.yaml');
      const config = testConfig({ openaiUrl: 'http://127.0.0.1:9', over: { mcp: { servers: [{ name: 'Bad Name', path: '/v1/mcp',
        url: 'ftp://x', rules: [{ action: 'permit', tools: [] }] }] } } });
      fs.writeFileSync(file, JSON.stringify(config));
      const r = await runTollway(['validate', file]);
      assert.notEqual(r.code, 0);
      for (const expected of ['mcp: needs auth', 'mcp.servers[0].name', 'mcp.servers[0].path', 'mcp.servers[0].url',
        'mcp.servers[0].rules[0].action', 'mcp.servers[0].rules[0]: a rule names tools'])
        assert.ok(r.stderr.includes(expected) || r.stdout.includes(expected), `${expected}:\n${r.stdout}${r.stderr}`);
    } finally {
      removeTempDir(dir);
    }
  });
});
