// Local limits and LLM calls through the sidecar. An agent's OpenAI SDK, its base URL at its sidecar and no key of
// its own, reaches a real `tollway gateway` over mTLS and is attributed there to the agent's SPIFFE ID (JSON and
// streamed answers, the stream relayed as it arrives); a runaway agent that calls a peer past its limit gets 429 at
// the peer's sidecar while another agent calling the same peer goes on; a token limit on the gateway traffic trips
// on the usage the gateway reported, not on the estimate reserved before each call. Real processes on loopback.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import OpenAI from 'openai';
import { startGateway, startMock, testConfig, makeCA, metricValue, getText, waitFor, startSidecar } from '../../lib/harness.mjs';
import { startOtlpReceiver, allSpans, attrs } from '../../mock/otlp_receiver.mjs';

const TD = 'example.org';
const id = (name) => `spiffe://${TD}/ns/prod/sa/${name}`;
const GATEWAY_ID = id('tollway-gateway');
const [A_ID, B_ID, C_ID, R_ID] = ['agent-a', 'agent-b', 'agent-c', 'runaway'].map(id);
const DUMMY_KEY = 'sk-dummy-the-sdk-insists';

function startAgent() {
  return new Promise((resolve) => {
    const agent = { calls: [] };
    const server = http.createServer((req, res) => {
      agent.calls.push(req.headers['x-tollway-caller-spiffe-id']);
      req.resume();
      req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end('{"ok":true}'); });
    });
    server.listen(0, '127.0.0.1', () => resolve(Object.assign(agent, {
      port: server.address().port, close: () => new Promise((r) => server.close(r)) })));
  });
}

const portOf = (address) => Number(String(address).split(':').pop());

function viaProxy(port, url) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: url, headers: { host: u.host } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text,
        json: (() => { try { return JSON.parse(text); } catch { return null; } })() }));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('sidecar: LLM calls to the gateway over mTLS, local limits', () => {
  let ca, mock, gateway, agentB, sidecarA, sidecarB, sidecarC, sidecarR, accessPath, tlsOfC, receiver;
  const accessLines = () => (fs.existsSync(accessPath) ? fs.readFileSync(accessPath, 'utf8') : '').split('\n')
    .filter(Boolean).map((l) => JSON.parse(l));
  const sdk = () => new OpenAI({ apiKey: DUMMY_KEY, baseURL: `http://127.0.0.1:${portOf(sidecarC.ready.listeners.outbound)}/v1`,
    maxRetries: 0 });

  before(async () => {
    delete process.env.OPENAI_API_KEY;  // the agent's environment holds no key
    ca = makeCA({ name: 'agents-ca' });
    const svid = Object.fromEntries(['tollway-gateway', 'agent-a', 'agent-b', 'agent-c', 'runaway']
      .map((n) => [n, ca.svid(n, id(n))]));
    mock = await startMock();
    receiver = await startOtlpReceiver();
    accessPath = path.join(ca.dir, 'access.log');
    const cfg = testConfig({ openaiUrl: mock.url });
    cfg.gateway.tls = { cert_file: svid['tollway-gateway'].certFile, key_file: svid['tollway-gateway'].keyFile,
      client_ca_file: ca.caFile, require_client_cert: true, trust_domain: TD };
    cfg.telemetry = { access_log: accessPath, decision_log: 'off' };
    cfg.auth = { virtual_keys: { store: ':memory:' },
      spiffe: { callers: [{ id: `spiffe://${TD}/ns/prod/sa/*`, tenant: 'acme', agent_group: 'prod' }] } };
    gateway = await startGateway({ config: cfg });
    agentB = await startAgent();
    const tlsOf = (n) => ({ cert_file: svid[n].certFile, key_file: svid[n].keyFile, bundle_file: ca.caFile });
    sidecarB = await startSidecar({
      version: 1,
      sidecar: { spiffe_id: B_ID, outbound: '127.0.0.1:0', inbound: '127.0.0.1:0', agent: `127.0.0.1:${agentB.port}`,
        tls: tlsOf('agent-b') },
      limits: { ledger: 'local', rules: [
        { name: 'calls-per-caller', match: { from: `spiffe://${TD}/ns/prod/sa/*`, to: 'local' }, per: ['from'],
          unit: 'requests', limit: 3, window: '1h' },
      ] },
    });
    const peers = { 'agent-b': { address: `127.0.0.1:${portOf(sidecarB.ready.listeners.inbound)}`, spiffe_id: B_ID } };
    const caller = (name, spiffeId) => startSidecar({
      version: 1,
      sidecar: { spiffe_id: spiffeId, outbound: '127.0.0.1:0', inbound: '127.0.0.1:0', agent: '127.0.0.1:9',
        tls: tlsOf(name) },
      peers,
    });
    sidecarA = await caller('agent-a', A_ID);
    sidecarR = await caller('runaway', R_ID);
    tlsOfC = tlsOf('agent-c');
    sidecarC = await startSidecar({
      version: 1,
      sidecar: { spiffe_id: C_ID, outbound: '127.0.0.1:0', inbound: '127.0.0.1:0', agent: '127.0.0.1:9',
        tls: tlsOf('agent-c'), gateway: { address: `127.0.0.1:${gateway.port}`, spiffe_id: GATEWAY_ID } },
      limits: { rules: [
        { name: 'llm-tokens', match: { to: 'gateway' }, unit: 'total_tokens', limit: 200, window: '1h' },
      ] },
      telemetry: { service_name: 'agent-c', tracing: { sample_ratio: '1.0' },
        otlp: { endpoint: receiver.url, traces_interval: '100ms' } },
    });
  });
  after(async () => {
    for (const p of [sidecarA, sidecarB, sidecarC, sidecarR, gateway]) await p?.stop();
    await agentB?.close(); await mock?.close(); await receiver?.close();
    ca?.cleanup();
  });

  it('(a) the SDK\'s call reaches the gateway over mTLS as the agent\'s SPIFFE ID, not with the dummy key', async () => {
    const r = await sdk().chat.completions.create({ model: 'gpt-4o', max_tokens: 3,
      messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(r.object, 'chat.completion');
    assert.ok(r.choices[0].message.content.length > 0);
    assert.equal(r.usage.completion_tokens, 3);
    const line = await waitFor(() => accessLines().find((l) => l.route === '/v1/chat/completions'));
    assert.ok(line, 'an access line at the gateway');
    assert.equal(line.key_id, C_ID, 'the gateway knows the caller by its SPIFFE ID');
    assert.equal(line.peer_spiffe_id, C_ID);
    assert.equal(line.tenant, 'acme');
    assert.equal(line.agent, 'agent-c');
    // The SDK's dummy key never left the sidecar: the provider got the gateway's key, and no request carried it.
    assert.equal(mock.requests.at(-1).headers.authorization, 'Bearer sk-test-openai');
    assert.ok(mock.requests.every((q) => !JSON.stringify(q.headers).includes(DUMMY_KEY)));
  });

  it('(a) a streamed answer passes through event by event, attributed to the agent, its usage read by the sidecar', async () => {
    const started = Date.now();
    const stream = await sdk().chat.completions.create({ model: 'gpt-4o', stream: true, max_tokens: 6,
      messages: [{ role: 'user', content: 'stream please' }] }, { headers: { 'x-mock-scenario': 'slow-stream:150' } });
    const arrivals = [];
    let text = '';
    for await (const chunk of stream) {
      arrivals.push(Date.now() - started);
      assert.ok(!chunk.usage, 'the usage chunk the sidecar asked for is not passed on to the agent');
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    assert.ok(text.length > 0);
    assert.ok(arrivals.length >= 6, `${arrivals.length} chunks`);
    // Unbuffered: the first chunk arrived long before the last (the mock waits 150 ms between events).
    assert.ok(arrivals.at(-1) - arrivals[0] >= 600, `chunks arrived at ${arrivals.join(', ')} ms`);
    const usage = await sidecarC.waitForLog((o) => o?.msg === 'usage' && o.stream === true);
    assert.equal(usage.usage_known, true);
    assert.equal(usage.output_tokens, 6);
    assert.equal(usage.include_usage_added, true);
    const line = await waitFor(() => accessLines().find((l) => l.route === '/v1/chat/completions' && l.stream === true));
    assert.ok(line, 'an access line for the stream');
    assert.equal(line.key_id, C_ID);
  });

  it('(a) a gateway whose certificate carries another SPIFFE ID than sidecar.gateway names is never sent the call', async () => {
    const impostor = await startSidecar({
      version: 1,
      sidecar: { spiffe_id: C_ID, outbound: '127.0.0.1:0', inbound: '127.0.0.1:0', agent: '127.0.0.1:9',
        tls: tlsOfC, gateway: { address: `127.0.0.1:${gateway.port}`, spiffe_id: id('another-gateway') } },
    });
    try {
      const before = mock.requests.length;
      const client = new OpenAI({ apiKey: DUMMY_KEY, maxRetries: 0,
        baseURL: `http://127.0.0.1:${portOf(impostor.ready.listeners.outbound)}/v1` });
      await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
        (e) => e.status === 502);
      assert.equal(mock.requests.length, before);
    } finally {
      await impostor.stop();
    }
  });

  it('(b) a runaway agent trips its local limit at the peer while another agent calling the same peer goes on', async () => {
    const outR = portOf(sidecarR.ready.listeners.outbound);
    const outA = portOf(sidecarA.ready.listeners.outbound);
    for (let i = 0; i < 3; i += 1) assert.equal((await viaProxy(outR, 'http://agent-b/work')).status, 200);
    const denied = await viaProxy(outR, 'http://agent-b/work');
    assert.equal(denied.status, 429, denied.text);
    assert.equal(denied.json.error.code, 'rate_limit_exceeded');
    assert.match(denied.json.error.message, /calls-per-caller/);
    assert.ok(Number(denied.headers['retry-after']) >= 1, `retry-after ${denied.headers['retry-after']}`);
    const callsBefore = agentB.calls.length;
    for (let i = 0; i < 3; i += 1) {
      const ok = await viaProxy(outA, 'http://agent-b/work');
      assert.equal(ok.status, 200, ok.text);
    }
    assert.equal(agentB.calls.length, callsBefore + 3);
    assert.equal(agentB.calls.filter((c) => c === R_ID).length, 3, 'the runaway\'s refused call never reached B');
    const log = await sidecarB.waitForLog((o) => o?.msg === 'limit decision' && o.decision === 'deny');
    assert.equal(log.rule, 'calls-per-caller');
    assert.equal(log.source_spiffe_id, R_ID);
    assert.equal(log.destination_spiffe_id, B_ID);
    const metrics = (await getText(`${sidecarB.adminUrl}/metrics`)).text;
    assert.equal(metricValue(metrics, 'tollway_sidecar_limit_denials_total', { rule: 'calls-per-caller' }), 1);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    if (!promtool.error) assert.equal(promtool.status, 0, promtool.stderr);
  });

  it('(c) a token limit on gateway traffic counts the usage the gateway reported, and trips on it', async () => {
    const client = sdk();
    const ask = (max) => client.chat.completions.create({ model: 'gpt-4o', max_tokens: max,
      messages: [{ role: 'user', content: 'hello' }] });
    // (a) used about 12 tokens of the 200. Each call reserves its prompt (counted, ~8) + max_tokens, and is
    // settled to what the gateway reported: 1 prompt token + min(max_tokens, 64) (the mock's usage).
    const seen = [await ask(170)];  // reserves ~178, settled to 65
    // Counted by their estimates, the first two calls alone (~226) would exceed the limit: settled, there is room.
    seen.push(await ask(40));
    let denial = null;
    for (let i = 0; i < 8 && !denial; i += 1) {
      try { seen.push(await ask(40)); } catch (e) { denial = e; }
    }
    assert.ok(denial, 'a call was refused');
    assert.equal(denial.status, 429);
    assert.equal(denial.code, 'rate_limit_exceeded');
    assert.match(denial.message, /llm-tokens/);
    assert.deepEqual(seen.map((r) => r.usage.total_tokens), [65, 41, 41]);
    const metrics = (await getText(`${sidecarC.adminUrl}/metrics`)).text;
    assert.equal(metricValue(metrics, 'tollway_sidecar_limit_denials_total', { rule: 'llm-tokens' }), 1);
    // Refused before it was routed, the call's span still names the gateway as its peer (advise counts it
    // north-south).
    const refused = await waitFor(() => allSpans(receiver.requests).find((x) => attrs(x.attributes)['tollway.decision.rule']
      === 'llm-tokens'), { timeoutMs: 5000 });
    assert.ok(refused, 'the refused call\'s span was exported');
    assert.equal(attrs(refused.attributes)['http.response.status_code'], 429);
    assert.equal(attrs(refused.attributes)['tollway.peer'], 'gateway');
    assert.equal(attrs(refused.attributes)['tollway.destination.spiffe_id'], GATEWAY_ID);
  });
});
