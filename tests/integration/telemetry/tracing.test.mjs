// Tracing end to end through the real gateway, decoded by an OTLP receiver written for the tests: a SERVER span
// per request and a CLIENT span per upstream attempt (a retried call shows two, the failed one in error), the
// upstream call carries our CLIENT span as its traceparent parent with our tracestate entry first, the trust
// boundary restarts an untrusted caller's trace (and drops its baggage; a trusted caller's goes up even alone), malformed / duplicated traceparents
// start a new trace, the OTLP JSON rules hold on every payload (gzip on), GenAI attributes are set and prompt
// content only appears when opted in; metrics arrive over OTLP too.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway, testConfig, postJson, getText, metricValue, waitFor, httpBytes, rawRequest, tempDir,
  removeTempDir } from '../../lib/harness.mjs';
import { startOtlpReceiver, checkTraceRequest, checkMetricsRequest, allSpans, attrs } from '../../mock/otlp_receiver.mjs';

const SERVER = 2;
const CLIENT = 3;
const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'secret prompt words' }], max_tokens: 4 };
const IN_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const IN_PARENT = '00f067aa0ba902b7';
const ADMIN = 'admin-token-tracing-0123456789abcdef';

function telemetryConfig(mock, receiver, telemetry = {}) {
  const cfg = testConfig({ openaiUrl: mock.url });
  cfg.routes = cfg.routes.map((r) => (r.path === '/v1/chat/completions'
    ? { ...r, retries: { attempts: 2, backoff_base: '10ms', backoff_max: '1s' } } : r));
  cfg.telemetry = {
    tracing: { sample_ratio: '1.0', trust_incoming: 'always' },
    otlp: { endpoint: receiver.url, gzip: true, traces_interval: '100ms', metrics_interval: '300ms' },
    ...telemetry,
  };
  return cfg;
}

async function spansOf(receiver, traceId, count) {
  return waitFor(() => {
    const s = allSpans(receiver.requests).filter((x) => x.traceId === traceId);
    return s.length >= count ? s : null;
  }, { timeoutMs: 5000 });
}

describe('tracing through the gateway', () => {
  let mock; let receiver; let gw;
  before(async () => {
    mock = await startMock();
    receiver = await startOtlpReceiver();
    gw = await startGateway({ config: telemetryConfig(mock, receiver) });
  });
  after(async () => { await gw?.stop(); await mock?.close(); await receiver?.close(); });

  it('SERVER span continues the caller trace; CLIENT span is the upstream parent; tracestate has tollway= first', async () => {
    const r = await postJson(`${gw.url}/v1/chat/completions`, CHAT, {
      traceparent: `00-${IN_TRACE}-${IN_PARENT}-01`, tracestate: 'vendor=abc,other=1', baggage: 'user.tier=gold' });
    assert.equal(r.status, 200);
    const up = mock.requests.at(-1).headers;
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(up.traceparent);
    assert.ok(m, up.traceparent);
    assert.equal(m[1], IN_TRACE, 'same trace id upstream');
    assert.notEqual(m[2], IN_PARENT, 'the parent upstream is our span, not the caller\'s');
    assert.match(up.tracestate, /^tollway=[0-9a-f]{16},vendor=abc,other=1$/);
    assert.equal(up.baggage, 'user.tier=gold');
    const spans = await spansOf(receiver, IN_TRACE, 2);
    const server = spans.find((s) => s.kind === SERVER);
    const client = spans.find((s) => s.kind === CLIENT);
    assert.ok(server && client, JSON.stringify(spans));
    assert.equal(server.parentSpanId, IN_PARENT);
    assert.equal(client.parentSpanId, server.spanId);
    assert.equal(client.spanId, m[2], 'the CLIENT span is the traceparent parent sent upstream');
    const sa = attrs(server.attributes);
    assert.equal(sa['gen_ai.operation.name'], 'chat');
    assert.equal(sa['gen_ai.provider.name'], 'openai');
    assert.equal(sa['gen_ai.request.model'], 'gpt-4o-mini');
    assert.equal(sa['gen_ai.response.model'], 'gpt-4o-mini');
    assert.ok(sa['gen_ai.usage.input_tokens'] > 0);
    assert.ok(sa['gen_ai.usage.output_tokens'] > 0);
    assert.equal(sa['gen_ai.request.max_tokens'], 4);
    assert.equal(typeof sa['tollway.cost_usd'], 'number');
    assert.equal(sa['http.response.status_code'], 200);
    assert.equal(sa['tollway.request_id'], r.headers.get('x-request-id'));
    assert.equal(sa['gen_ai.input.messages'], undefined, 'no prompt content unless opted in');
    assert.ok(!JSON.stringify(spans).includes('secret prompt words'));
    const ca = attrs(client.attributes);
    assert.equal(ca['gen_ai.provider.name'], 'openai');
    assert.equal(ca['gen_ai.request.model'], 'gpt-4o-mini');
    assert.equal(ca['http.response.status_code'], 200);
    assert.equal(ca['gen_ai.usage.output_tokens'], sa['gen_ai.usage.output_tokens']);
    // Span flags: sampled, and (SERVER) the parent is remote.
    assert.equal(server.flags & 0xff, 1);
    assert.equal(server.flags & 0x300, 0x300);
  });

  it('every export request follows the OTLP JSON rules and was gzip-encoded', async () => {
    await waitFor(() => receiver.requests.some((x) => x.signal === 'metrics'), { timeoutMs: 3000 });
    assert.ok(receiver.requests.length > 0);
    for (const req of receiver.requests) {
      assert.equal(req.error, undefined, req.error);
      assert.equal(req.headers['content-encoding'], 'gzip');
      assert.equal(req.headers['content-type'], 'application/json');
      if (req.signal === 'traces') checkTraceRequest(req.payload);
      else if (req.signal === 'metrics') checkMetricsRequest(req.payload);
      else assert.fail(`unexpected path ${req.path}`);
    }
    const metrics = receiver.requests.filter((x) => x.signal === 'metrics').at(-1).payload;
    const names = metrics.resourceMetrics[0].scopeMetrics[0].metrics.map((m) => m.name);
    assert.ok(names.includes('gen_ai.client.token.usage'), names.join());
    assert.ok(names.includes('gen_ai.server.request.duration'), names.join());
  });

  it('a retried call shows one CLIENT span per attempt, the failed one in error, both under the SERVER span', async () => {
    const trace = 'aaaabbbbccccddddeeeeffff00001111';
    mock.failNext(1, 500);
    const r = await postJson(`${gw.url}/v1/chat/completions`, CHAT, { traceparent: `00-${trace}-${IN_PARENT}-01` });
    assert.equal(r.status, 200);
    const upstreamParents = mock.requests.slice(-2).map((q) => q.headers.traceparent.split('-')[2]);
    assert.notEqual(upstreamParents[0], upstreamParents[1], 'each attempt has its own CLIENT span');
    const spans = await spansOf(receiver, trace, 3);
    const server = spans.find((s) => s.kind === SERVER);
    const clients = spans.filter((s) => s.kind === CLIENT).sort((a, b) => attrs(a.attributes)['tollway.attempt'] - attrs(b.attributes)['tollway.attempt']);
    assert.equal(clients.length, 2);
    assert.deepEqual(clients.map((c) => c.spanId), upstreamParents);
    for (const c of clients) assert.equal(c.parentSpanId, server.spanId);
    assert.equal(clients[0].status.code, 2, 'the failed attempt is an error');
    assert.equal(attrs(clients[0].attributes)['http.response.status_code'], 500);
    assert.equal(attrs(clients[0].attributes)['error.type'], '5xx');
    assert.equal(clients[1].status?.code ?? 0, 0);
    assert.equal(attrs(server.attributes)['tollway.attempts'], 2);
  });

  it('malformed, uppercase, version ff, zero ids and duplicated traceparents start a new trace, and are counted', async () => {
    const before = (await getText(`${gw.adminUrl}/metrics`)).text;
    const bad = [
      `00-${IN_TRACE.toUpperCase()}-${IN_PARENT}-01`,
      `ff-${IN_TRACE}-${IN_PARENT}-01`,
      `00-${'0'.repeat(32)}-${IN_PARENT}-01`,
      `00-${IN_TRACE}-${'0'.repeat(16)}-01`,
      `00-${IN_TRACE}-${IN_PARENT}-01-extra`,
    ];
    for (const tp of bad) {
      const r = await postJson(`${gw.url}/v1/chat/completions`, CHAT, { traceparent: tp });
      assert.equal(r.status, 200);
      assert.ok(!mock.requests.at(-1).headers.traceparent.includes(IN_TRACE), tp);
    }
    // Two traceparent lines: ambiguous, restart.
    const raw = await rawRequest(gw.port, httpBytes('POST', '/v1/chat/completions', {
      'content-type': 'application/json', traceparent: [`00-${IN_TRACE}-${IN_PARENT}-01`, `00-${IN_TRACE}-${IN_PARENT}-01`],
    }, JSON.stringify(CHAT)), { untilResponses: 1 });
    assert.equal(raw.responses[0].status, 200);
    assert.ok(!mock.requests.at(-1).headers.traceparent.includes(IN_TRACE));
    await postJson(`${gw.url}/v1/chat/completions`, CHAT);  // no context at all
    const after = (await getText(`${gw.adminUrl}/metrics`)).text;
    const delta = (incoming) => metricValue(after, 'tollway_trace_context_requests_total', { incoming }) -
      metricValue(before, 'tollway_trace_context_requests_total', { incoming });
    assert.equal(delta('invalid'), bad.length);
    assert.equal(delta('duplicated'), 1);
    assert.equal(delta('absent'), 1);
  });

  it('a version cc traceparent is accepted by the forward-compatibility rule and answered with version 00', async () => {
    const trace = 'cccc2f3577b34da6a3ce929d0e0e4736';
    await postJson(`${gw.url}/v1/chat/completions`, CHAT, { traceparent: `cc-${trace}-${IN_PARENT}-01-future` });
    assert.match(mock.requests.at(-1).headers.traceparent, new RegExp(`^00-${trace}-[0-9a-f]{16}-01$`));
  });
});

describe('trust boundary and content capture', () => {
  let mock; let receiver;
  before(async () => { mock = await startMock(); receiver = await startOtlpReceiver(); });
  after(async () => { await mock?.close(); await receiver?.close(); });

  it('a trusted caller\'s baggage is forwarded without a traceparent; a non-UTF-8 escape becomes U+FFFD', async () => {
    const gw = await startGateway({ config: telemetryConfig(mock, receiver) });  // trust_incoming: always
    try {
      const r = await postJson(`${gw.url}/v1/chat/completions`, CHAT, { baggage: 'user.tier=gold,bad=%FFx' });
      assert.equal(r.status, 200);
      const up = mock.requests.at(-1).headers;
      assert.match(up.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      assert.equal(up.baggage, 'user.tier=gold,bad=%EF%BF%BDx');
    } finally { await gw.stop(); }
  });

  it('trust_incoming: never restarts the trace, drops baggage, and counts the restart', async () => {
    const gw = await startGateway({ config: telemetryConfig(mock, receiver, {
      tracing: { trust_incoming: 'never', sample_ratio: '1' } }) });
    try {
      await postJson(`${gw.url}/v1/chat/completions`, CHAT, { traceparent: `00-${IN_TRACE}-${IN_PARENT}-01`, baggage: 'a=b', tracestate: 'vendor=x' });
      const up = mock.requests.at(-1).headers;
      assert.ok(!up.traceparent.includes(IN_TRACE));
      assert.equal(up.baggage, undefined, 'an untrusted caller\'s baggage is not forwarded');
      assert.match(up.tracestate, /^tollway=[0-9a-f]{16}$/, 'the untrusted tracestate is not forwarded');
      const m = (await getText(`${gw.adminUrl}/metrics`)).text;
      assert.equal(metricValue(m, 'tollway_trace_context_requests_total', { incoming: 'valid', restarted: 'true' }), 1);
    } finally { await gw.stop(); }
  });

  it('trust_incoming: authenticated restarts an unauthenticated caller (auth not configured)', async () => {
    const gw = await startGateway({ config: telemetryConfig(mock, receiver, {
      tracing: { trust_incoming: 'authenticated' } }) });
    try {
      await postJson(`${gw.url}/v1/chat/completions`, CHAT, { traceparent: `00-${IN_TRACE}-${IN_PARENT}-01` });
      assert.ok(!mock.requests.at(-1).headers.traceparent.includes(IN_TRACE));
    } finally { await gw.stop(); }
  });

  // trust_incoming: {peers: [...]}: the TCP peer's address decides. The listener is dual-stack ([::]), so a
  // client on 127.0.0.1 arrives as the IPv4-mapped ::ffff:127.0.0.1 and one on ::1 as IPv6.
  const continued = async (url) => {
    const before = mock.requests.length;
    const r = await postJson(`${url}/v1/chat/completions`, CHAT, { traceparent: `00-${IN_TRACE}-${IN_PARENT}-01`, baggage: 'k=v' });
    assert.equal(r.status, 200);
    assert.equal(mock.requests.length, before + 1);
    const up = mock.requests.at(-1).headers;
    const yes = up.traceparent.includes(IN_TRACE);
    assert.equal(up.baggage, yes ? 'k=v' : undefined, 'baggage goes with the trust decision');
    return yes;
  };

  it('trust_incoming peers: an IPv4 network trusts IPv4-mapped peers and not ::1', async () => {
    const gw = await startGateway({ listen: '[::]:0', config: telemetryConfig(mock, receiver, {
      tracing: { trust_incoming: { peers: ['10.0.0.0/8', '127.0.0.0/8'] } } }) });
    try {
      assert.equal(await continued(gw.url), true, '::ffff:127.0.0.1 is in 127.0.0.0/8');
      assert.equal(await continued(`http://[::1]:${gw.port}`), false, '::1 is in no listed network');
      const m = (await getText(`${gw.adminUrl}/metrics`)).text;
      assert.equal(metricValue(m, 'tollway_trace_context_requests_total', { incoming: 'valid', restarted: 'false' }), 1);
      assert.equal(metricValue(m, 'tollway_trace_context_requests_total', { incoming: 'valid', restarted: 'true' }), 1);
    } finally { await gw.stop(); }
  });

  it('trust_incoming peers: an IPv6 network trusts ::1 and not IPv4 peers', async () => {
    const gw = await startGateway({ listen: '[::]:0', config: telemetryConfig(mock, receiver, {
      tracing: { trust_incoming: { peers: ['::1/128'] } } }) });
    try {
      assert.equal(await continued(`http://[::1]:${gw.port}`), true);
      assert.equal(await continued(gw.url), false, '::ffff:127.0.0.1 is an IPv4 peer: ::1/128 does not hold it');
    } finally { await gw.stop(); }
  });

  it('trust_incoming peers on an IPv4 listener; authenticated: true adds callers that passed auth', async () => {
    for (const authenticated of [true, false]) {
      const dir = tempDir('tollway-trust-');
      const cfg = telemetryConfig(mock, receiver, {
        tracing: { trust_incoming: { peers: ['192.0.2.0/24'], authenticated: String(authenticated) } } });
      cfg.auth = { admin_token: ADMIN, virtual_keys: { store: `${dir}/keys.db` } };
      const gw = await startGateway({ config: cfg });
      try {
        const created = await fetch(`${gw.adminUrl}/admin/keys`, { method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ name: 'traced', tenant: 'acme' }) });
        const { key } = await created.json();
        assert.ok(key);
        const before = mock.requests.length;
        const r = await postJson(`${gw.url}/v1/chat/completions`, CHAT,
          { authorization: `Bearer ${key}`, traceparent: `00-${IN_TRACE}-${IN_PARENT}-01` });
        assert.equal(r.status, 200);
        assert.equal(mock.requests.length, before + 1);
        assert.equal(mock.requests.at(-1).headers.traceparent.includes(IN_TRACE), authenticated,
          `authenticated: ${authenticated}, peer 127.0.0.1 outside 192.0.2.0/24`);
      } finally { await gw.stop(); removeTempDir(dir); }
    }
    const plain = await startGateway({ config: telemetryConfig(mock, receiver, {
      tracing: { trust_incoming: { peers: ['127.0.0.1'] } } }) });
    try {
      assert.equal(await continued(plain.url), true, '127.0.0.1 (a bare address) is 127.0.0.1/32');
    } finally { await plain.stop(); }
  });

  it('sample_ratio 0: an unsampled root is propagated with flags 00 and exports no span', async () => {
    receiver.reset();
    const gw = await startGateway({ config: telemetryConfig(mock, receiver, {
      tracing: { trust_incoming: 'always', sample_ratio: '0' } }) });
    try {
      await postJson(`${gw.url}/v1/chat/completions`, CHAT);
      assert.match(mock.requests.at(-1).headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      // A sampled parent still decides: parent-based sampling.
      await postJson(`${gw.url}/v1/chat/completions`, CHAT, { traceparent: `00-${IN_TRACE}-${IN_PARENT}-01` });
      assert.match(mock.requests.at(-1).headers.traceparent, /-01$/);
      const spans = await spansOf(receiver, IN_TRACE, 2);
      assert.equal(allSpans(receiver.requests).filter((s) => s.traceId !== IN_TRACE).length, 0);
      assert.equal(spans.length, 2);
    } finally { await gw.stop(); }
  });

  it('capture_content: true puts the prompt and the response on the SERVER span', async () => {
    receiver.reset();
    const gw = await startGateway({ config: telemetryConfig(mock, receiver, {
      tracing: { trust_incoming: 'always', capture_content: 'true' } }) });
    try {
      await postJson(`${gw.url}/v1/chat/completions`, CHAT, { traceparent: `00-${IN_TRACE}-${IN_PARENT}-01` });
      const spans = await spansOf(receiver, IN_TRACE, 2);
      const sa = attrs(spans.find((s) => s.kind === SERVER).attributes);
      assert.match(sa['gen_ai.input.messages'], /secret prompt words/);
      assert.match(sa['gen_ai.output.messages'], /chat\.completion/);
    } finally { await gw.stop(); }
  });
});
