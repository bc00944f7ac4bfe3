// Tracing and runaway protection across three agents, each behind its own sidecar (mTLS on every hop): one trace
// A -> B -> C at an OTLP receiver with a CLIENT span per outbound call and a SERVER span per inbound one, linked
// parent to child; an agent that drops trace headers makes an orphan (logged, then repaired after a reload with
// `orphans: repair`); a loop A -> B -> A stopped by max_hops with 508; tollway-fanout members verified per hop
// (forged and expired refused) and a tree an upstream reported spent refused without a call.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { makeCA, toYaml, getText, metricValue, waitFor, unusedPort, startSidecar } from '../../lib/harness.mjs';
import { startOtlpReceiver, allSpans, attrs } from '../../mock/otlp_receiver.mjs';

const TD = 'example.org';
const ID = { a: `spiffe://${TD}/ns/prod/sa/agent-a`, b: `spiffe://${TD}/ns/prod/sa/agent-b`, c: `spiffe://${TD}/ns/prod/sa/agent-c` };
const SERVER = 2;
const CLIENT = 3;
const MAX_HOPS = 4;
const SECRET = 'fanout-secret-for-the-trace-test-0123456789';

// A request through a sidecar's outbound listener, as an HTTP_PROXY client sends it.
function viaProxy(port, url, headers = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'GET', path: url, headers: { host: u.host, ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text, json: (() => { try { return JSON.parse(text); } catch { return null; } })() }));
    });
    req.on('error', reject);
    req.end();
  });
}

const TRACE_HEADERS = ['traceparent', 'tracestate', 'baggage'];

// An agent written for the test. GET /call?next=agent-x,agent-y[&drop=1]: calls the first of `next` through its
// sidecar with the rest, passing its trace headers on (none with drop=1); GET /loop calls `loopPeer`'s /loop;
// GET /spent answers 429 fanout_budget_exceeded like the gateway. Every answer says what reached the agent.
function startAgent(name, { loopPeer } = {}) {
  return new Promise((resolve) => {
    const agent = { name, calls: 0, seen: [], proxyPort: 0 };
    const server = http.createServer(async (req, res) => {
      agent.calls += 1;
      agent.seen.push({ url: req.url, headers: req.headers });
      const u = new URL(req.url, 'http://x');
      const reply = (status, body) => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
      const forward = {};
      if (u.searchParams.get('drop') !== '1') for (const h of TRACE_HEADERS) if (req.headers[h]) forward[h] = req.headers[h];
      if (req.headers['x-tollway-hops']) forward['x-tollway-hops'] = '0';  // an agent trying to reset the count
      try {
        if (u.pathname === '/spent') return reply(429, { error: { message: 'tree spent', type: 'rate_limit_error', code: 'fanout_budget_exceeded' } });
        if (u.pathname === '/loop') {
          const down = await viaProxy(agent.proxyPort, `http://${loopPeer}/loop`, forward);
          return reply(200, { agent: name, headers: req.headers, downstream: { status: down.status, body: down.json } });
        }
        const next = (u.searchParams.get('next') ?? '').split(',').filter(Boolean);
        if (next.length === 0) return reply(200, { agent: name, headers: req.headers });
        const rest = new URLSearchParams({ next: next.slice(1).join(',') });
        const down = await viaProxy(agent.proxyPort, `http://${next[0]}/call?${rest}`, forward);
        return reply(200, { agent: name, headers: req.headers, downstream: { status: down.status, body: down.json } });
      } catch (e) {
        return reply(500, { agent: name, error: String(e) });
      }
    });
    server.listen(0, '127.0.0.1', () => resolve(Object.assign(agent, {
      port: server.address().port, close: () => new Promise((r) => server.close(r)) })));
  });
}

function sidecarDocument({ id, svid, ca, agentPort, inboundPort, peers, receiver, extra = {} }) {
  return {
    version: 1,
    sidecar: { spiffe_id: id, outbound: '127.0.0.1:0', inbound: `127.0.0.1:${inboundPort}`, agent: `127.0.0.1:${agentPort}`,
      tls: { cert_file: svid.certFile, key_file: svid.keyFile, bundle_file: ca.caFile } },
    peers,
    telemetry: { service_name: id.split('/').pop(), tracing: { sample_ratio: '1.0' },
      otlp: { endpoint: receiver.url, traces_interval: '100ms' } },
    max_hops: MAX_HOPS,
    fanout: { secret: SECRET },
    ...extra,
  };
}

const portOf = (address) => Number(String(address).split(':').pop());
const newTrace = () => crypto.randomBytes(16).toString('hex');
const newSpan = () => crypto.randomBytes(8).toString('hex');
const parentOf = (traceparent) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(traceparent ?? '');

// A tollway-fanout member signed like the gateway's (limits/fanout_token.h).
function fanoutToken({ root = crypto.randomBytes(16).toString('hex'), budget = 1000, expires = Math.floor(Date.now() / 1000) + 600, secret = SECRET } = {}) {
  const payload = `v1.${root}.tok.${budget}.${expires}`;
  return { root, token: `${payload}.${crypto.createHmac('sha256', secret).update(payload).digest('base64url')}` };
}

describe('sidecar: a span per hop, orphan repair, hop limit, fan-out baggage', () => {
  let ca, receiver, agents = {}, sidecars = {}, docs = {};
  before(async () => {
    ca = makeCA({ name: 'agents-ca' });
    receiver = await startOtlpReceiver();
    agents.a = await startAgent('a', { loopPeer: 'agent-b' });
    agents.b = await startAgent('b', { loopPeer: 'agent-a' });
    agents.c = await startAgent('c');
    const inbound = { a: await unusedPort(), b: await unusedPort(), c: await unusedPort() };
    const peer = (k) => ({ address: `127.0.0.1:${inbound[k]}`, spiffe_id: ID[k] });
    const peersOf = { a: { 'agent-b': peer('b') }, b: { 'agent-a': peer('a'), 'agent-c': peer('c') }, c: {} };
    const authorization = { b: [{ action: 'deny', from: [ID.a], paths: ['/forbidden'] }] };
    for (const k of ['a', 'b', 'c']) {
      docs[k] = sidecarDocument({ id: ID[k], svid: ca.svid(`agent-${k}`, ID[k]), ca, agentPort: agents[k].port,
        inboundPort: inbound[k], peers: peersOf[k], receiver, extra: authorization[k] ? { authorization: authorization[k] } : {} });
      sidecars[k] = await startSidecar(docs[k]);
      agents[k].proxyPort = portOf(sidecars[k].ready.listeners.outbound);
    }
  });
  after(async () => {
    for (const s of Object.values(sidecars)) await s?.stop();
    for (const a of Object.values(agents)) await a?.close();
    await receiver?.close();
    ca?.cleanup();
  });

  const spansOf = (traceId, count) => waitFor(() => {
    const s = allSpans(receiver.requests).filter((x) => x.traceId === traceId);
    return s.length >= count ? s : null;
  }, { timeoutMs: 5000 });

  it('one trace A -> B -> C: CLIENT and SERVER spans per hop, linked, with both identities; hop count never reaches agents', async () => {
    const trace = newTrace();
    const caller = newSpan();
    const r = await viaProxy(agents.a.proxyPort, 'http://agent-b/call?next=agent-c', { traceparent: `00-${trace}-${caller}-01`, 'x-tollway-hops': '99' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.downstream.status, 200, r.text);
    const atC = r.json.downstream.body.headers;
    assert.equal(atC['x-tollway-hops'], undefined, 'the hop count is stripped before the agent');
    assert.equal(r.json.headers['x-tollway-hops'], undefined);
    const spans = await spansOf(trace, 4);
    const find = (kind, src, dst) => spans.find((s) => s.kind === kind && attrs(s.attributes)['tollway.source.spiffe_id'] === src && attrs(s.attributes)['tollway.destination.spiffe_id'] === dst);
    const aClient = find(CLIENT, ID.a, ID.b);
    const bServer = find(SERVER, ID.a, ID.b);
    const bClient = find(CLIENT, ID.b, ID.c);
    const cServer = find(SERVER, ID.b, ID.c);
    assert.ok(aClient && bServer && bClient && cServer, JSON.stringify(spans, null, 1));
    assert.equal(aClient.parentSpanId, caller, 'the outbound CLIENT span is the child of the agent\'s traceparent');
    assert.equal(bServer.parentSpanId, aClient.spanId);
    assert.equal(bClient.parentSpanId, bServer.spanId, 'B passed its context on: its call is a child of the SERVER span');
    assert.equal(cServer.parentSpanId, bClient.spanId);
    assert.equal(parentOf(atC.traceparent)[1], trace);
    assert.equal(parentOf(atC.traceparent)[2], cServer.spanId, 'the local agent\'s parent is the SERVER span');
    assert.equal(attrs(aClient.attributes)['tollway.peer'], 'agent-b');
    assert.equal(attrs(bServer.attributes)['tollway.peer'], 'agent-a');
    assert.equal(attrs(aClient.attributes)['http.request.method'], 'GET');
    assert.equal(attrs(aClient.attributes)['http.route'], '/call');
    assert.equal(attrs(aClient.attributes)['http.response.status_code'], 200);
    assert.equal(attrs(aClient.attributes)['tollway.hops'], 1, 'the agent\'s own x-tollway-hops is ignored');
    assert.equal(attrs(bServer.attributes)['tollway.hops'], 1);
    assert.equal(attrs(bClient.attributes)['tollway.hops'], 2);
    assert.equal(attrs(cServer.attributes)['tollway.hops'], 2);
    for (const s of [aClient, bServer, bClient, cServer]) assert.equal(attrs(s.attributes)['tollway.trace.repaired'], undefined);
  });

  it('a call refused by authorization still has its SERVER span in the caller\'s trace', async () => {
    const trace = newTrace();
    const r = await viaProxy(agents.a.proxyPort, 'http://agent-b/forbidden', { traceparent: `00-${trace}-${newSpan()}-01` });
    assert.equal(r.status, 403, r.text);
    const spans = await spansOf(trace, 2);
    const aClient = spans.find((s) => s.kind === CLIENT);
    const bServer = spans.find((s) => s.kind === SERVER);
    assert.ok(aClient && bServer, JSON.stringify(spans, null, 1));
    assert.equal(bServer.parentSpanId, aClient.spanId);
    assert.equal(attrs(bServer.attributes)['http.response.status_code'], 403);
    assert.equal(attrs(aClient.attributes)['http.response.status_code'], 403);
  });

  it('an agent that drops trace headers: the orphan is counted and logged with its likely parent', async () => {
    const trace = newTrace();
    const r = await viaProxy(agents.a.proxyPort, 'http://agent-b/call?next=agent-c&drop=1', { traceparent: `00-${trace}-${newSpan()}-01` });
    assert.equal(r.status, 200, r.text);
    const line = await sidecars.b.waitForLog((o) => o?.msg === 'orphan call' && o.likely_parent_trace_id === trace);
    assert.equal(line.action, 'logged');
    assert.equal(line.likely_parent_caller, ID.a);
    assert.equal(line.in_flight, 1);
    assert.equal(line.authority, 'agent-c');
    const atC = parentOf(r.json.downstream.body.headers.traceparent);
    assert.notEqual(atC[1], trace, 'logged only: C is in a new trace');
    const bServer = (await spansOf(trace, 2)).find((s) => s.kind === SERVER && attrs(s.attributes)['tollway.destination.spiffe_id'] === ID.b);
    assert.equal(line.likely_parent_span_id, bServer.spanId);
    const metrics = (await getText(`${sidecars.b.adminUrl}/metrics`)).text;
    assert.equal(metricValue(metrics, 'tollway_sidecar_orphan_calls_total', { action: 'logged' }), 1);
    assert.equal(metricValue(metrics, 'tollway_sidecar_orphan_calls_total', { action: 'repaired' }), 0);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    if (promtool.error) throw new Error(`promtool is required (scripts/install-deps.sh installs it): ${promtool.error.message}`);
    assert.equal(promtool.status, 0, promtool.stderr);
  });

  it('with orphans: repair and one inbound request in flight, the orphan call continues that trace', async () => {
    fs.writeFileSync(sidecars.b.configPath, toYaml({ ...docs.b, orphans: 'repair' }));
    sidecars.b.proc.kill('SIGHUP');
    await sidecars.b.waitForLog((o) => o?.msg === 'config reloaded');
    const trace = newTrace();
    const r = await viaProxy(agents.a.proxyPort, 'http://agent-b/call?next=agent-c&drop=1', { traceparent: `00-${trace}-${newSpan()}-01` });
    assert.equal(r.status, 200, r.text);
    const atC = parentOf(r.json.downstream.body.headers.traceparent);
    assert.equal(atC[1], trace, 'C is in the repaired trace');
    const spans = await spansOf(trace, 4);
    const bServer = spans.find((s) => s.kind === SERVER && attrs(s.attributes)['tollway.destination.spiffe_id'] === ID.b);
    const bClient = spans.find((s) => s.kind === CLIENT && attrs(s.attributes)['tollway.source.spiffe_id'] === ID.b);
    const cServer = spans.find((s) => s.kind === SERVER && attrs(s.attributes)['tollway.destination.spiffe_id'] === ID.c);
    assert.ok(bServer && bClient && cServer, JSON.stringify(spans, null, 1));
    assert.equal(bClient.parentSpanId, bServer.spanId);
    assert.equal(attrs(bClient.attributes)['tollway.trace.repaired'], true);
    assert.equal(cServer.parentSpanId, bClient.spanId);
    assert.equal(attrs(bClient.attributes)['tollway.hops'], 2, 'the repaired call counts the hops of the request it continues');
    const line = await sidecars.b.waitForLog((o) => o?.msg === 'orphan call' && o.likely_parent_trace_id === trace);
    assert.equal(line.action, 'repaired');
    const metrics = (await getText(`${sidecars.b.adminUrl}/metrics`)).text;
    assert.equal(metricValue(metrics, 'tollway_sidecar_orphan_calls_total', { action: 'repaired' }), 1);
  });

  it('a loop A -> B -> A is stopped by max_hops with 508 naming the count and the limit', async () => {
    const r = await viaProxy(agents.a.proxyPort, 'http://agent-b/loop', { traceparent: `00-${newTrace()}-${newSpan()}-01` });
    assert.equal(r.status, 200, r.text);
    let body = r.json;
    let statuses = [];
    while (body?.downstream) { statuses.push(body.downstream.status); if (body.downstream.status !== 200) break; body = body.downstream.body; }
    assert.equal(statuses.at(-1), 508, JSON.stringify(r.json));
    const error = body.downstream.body.error;
    assert.equal(error.code, 'loop_detected');
    assert.match(error.message, new RegExp(`hop ${MAX_HOPS + 1}\\b.*max_hops ${MAX_HOPS}`));
    assert.equal(statuses.length, MAX_HOPS, 'hops 1..max_hops reached an agent, the next was refused');
    const refusedBy = (MAX_HOPS + 1) % 2 === 1 ? sidecars.b : sidecars.a;
    const line = await refusedBy.waitForLog((o) => o?.msg === 'hop limit');
    assert.equal(line.hops, MAX_HOPS + 1);
    assert.equal(line.max_hops, MAX_HOPS);
    const metrics = (await getText(`${refusedBy.adminUrl}/metrics`)).text;
    assert.equal(metricValue(metrics, 'tollway_sidecar_hop_limit_total'), 1);
  });

  it('tollway-fanout: a valid member passes byte for byte; forged and expired members are refused at the first hop', async () => {
    const good = fanoutToken();
    const ok = await viaProxy(agents.a.proxyPort, 'http://agent-b/call', { baggage: `user.tier=gold,tollway-fanout=${good.token}` });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.headers.baggage, `user.tier=gold,tollway-fanout=${good.token}`);
    const before = agents.b.calls;
    const forged = good.token.replace('.tok.1000.', '.tok.999999.');
    const expired = fanoutToken({ expires: Math.floor(Date.now() / 1000) - 5 }).token;
    const wrongKey = fanoutToken({ secret: 'another-secret-another-secret-0123456789' }).token;
    for (const token of [forged, expired, wrongKey, 'v1.nonsense']) {
      const r = await viaProxy(agents.a.proxyPort, 'http://agent-b/call', { baggage: `tollway-fanout=${token}` });
      assert.equal(r.status, 403, `${token}: ${r.text}`);
      assert.equal(r.json.error.code, 'invalid_fanout_budget');
    }
    assert.equal(agents.b.calls, before, 'no refused call was forwarded');
    const metrics = (await getText(`${sidecars.a.adminUrl}/metrics`)).text;
    assert.equal(metricValue(metrics, 'tollway_sidecar_fanout_refusals_total', { reason: 'invalid' }), 4);
  });

  it('a tree an upstream reported spent (429 fanout_budget_exceeded) is refused at the sidecar until it expires', async () => {
    const tree = fanoutToken();
    const other = fanoutToken();
    const spent = await viaProxy(agents.a.proxyPort, 'http://agent-b/spent', { baggage: `tollway-fanout=${tree.token}` });
    assert.equal(spent.status, 429);
    const before = agents.b.calls;
    const again = await viaProxy(agents.a.proxyPort, 'http://agent-b/call', { baggage: `tollway-fanout=${tree.token}` });
    assert.equal(again.status, 429, again.text);
    assert.equal(again.json.error.code, 'fanout_budget_exceeded');
    assert.match(again.json.error.message, new RegExp(tree.root));
    assert.equal(agents.b.calls, before, 'refused without a call');
    const fine = await viaProxy(agents.a.proxyPort, 'http://agent-b/call', { baggage: `tollway-fanout=${other.token}` });
    assert.equal(fine.status, 200, 'another tree goes on');
    const metrics = (await getText(`${sidecars.a.adminUrl}/metrics`)).text;
    assert.equal(metricValue(metrics, 'tollway_sidecar_fanout_refusals_total', { reason: 'exhausted' }), 1);
    assert.equal(metricValue(metrics, 'tollway_sidecar_fanout_exhausted_roots'), 1);
  });
});
