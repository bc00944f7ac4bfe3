// Resilience through the real gateway: a provider 500 then success is retried once and charged once; a 429's
// retry-after is honoured (or, when too long, passed through untouched); nothing is retried once the response
// started; an unreachable primary falls back to another provider (with that provider's key and model); an
// endpoint that keeps failing is ejected (no request reaches it) and restored by a successful probe; several
// endpoints share the load by round robin and least-in-flight; the metrics pass promtool.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import {
  startMock, startGateway, testConfig, postJson, getText, metricValue, waitFor, sleep,
} from '../../lib/harness.mjs';

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one two three' }], max_tokens: 4 };
const chat = (gw, headers = {}, body = CHAT) => postJson(`${gw.url}/v1/chat/completions`, body, headers);
const metrics = async (gw) => (await getText(`${gw.adminUrl}/metrics`)).text;

/** A port nothing listens on (bound, then closed). */
async function closedPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** testConfig with the chat route replaced by `route` (other routes kept) and no model rules for gpt-*. */
function configWith({ providers, route, modelsToRoute = true }) {
  const base = testConfig({ openaiUrl: 'http://127.0.0.1:9' });
  base.providers = providers;
  base.models = modelsToRoute ? [] : base.models;
  base.routes = [{ path: '/v1/chat/completions', api: 'openai', ...route }];
  return base;
}

const logsOf = (gw, msg, requestId) => gw.logs.filter((o) => o.msg === msg && (!requestId || o.request_id === requestId));

describe('retries on one provider', () => {
  let mock; let gw;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: configWith({
      providers: { openai: { api: 'openai', base_url: mock.url, api_key: 'sk-test-openai' } },
      route: { provider: 'openai', retries: { attempts: 2, backoff_base: '20ms', backoff_max: '2s' } },
    }) });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  it('provider 500 then success: exactly one retry, the client sees 200, usage counted once', async () => {
    mock.reset();
    const before = await metrics(gw);
    mock.failNext(1, 500);
    const r = await chat(gw);
    assert.equal(r.status, 200);
    assert.equal(r.json.object, 'chat.completion');
    assert.equal(mock.requests.length, 2, 'one failed try and one retry');
    assert.equal(mock.requests[0].bodyText, mock.requests[1].bodyText, 'the same body is sent again');
    const id = r.headers.get('x-request-id');
    await gw.waitForLog((o) => o && o.msg === 'usage' && o.request_id === id);
    await sleep(100);
    assert.equal(logsOf(gw, 'usage', id).length, 1, 'one usage line');
    assert.equal(logsOf(gw, 'usage', id)[0].status, 200);
    assert.equal(logsOf(gw, 'usage', id)[0].output_tokens, 4);
    const attempts = logsOf(gw, 'upstream attempt failed', id);
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0].failure, '5xx');
    assert.equal(attempts[0].next, 'retry');
    const after = await metrics(gw);
    const delta = (name, labels) => metricValue(after, name, labels) - metricValue(before, name, labels);
    assert.equal(delta('tollway_upstream_retries_total', { provider: 'openai', reason: '5xx' }), 1);
    assert.equal(delta('tollway_usage_calls_total', { provider: 'openai', usage: 'reported' }), 1);
    assert.equal(delta('tollway_usage_tokens_total', { provider: 'openai', kind: 'output' }), 4, 'charged once');
    assert.equal(delta('tollway_requests_total', { provider: 'openai', status_class: '2xx' }), 1);
  });

  it('429 with retry-after: waits that long, then retries', async () => {
    mock.reset();
    mock.failNext(1, 429, { retryAfter: '1' });
    const r = await chat(gw);
    assert.equal(r.status, 200);
    assert.equal(mock.requests.length, 2);
    const waited = mock.requests[1].receivedAt - mock.requests[0].receivedAt;
    assert.ok(waited >= 950, `waited ${waited} ms`);
    const a = logsOf(gw, 'upstream attempt failed', r.headers.get('x-request-id'));
    assert.equal(a[0].failure, '429');
    assert.equal(a[0].retry_after_ms, 1000);
  });

  it('retry-after-ms wins over retry-after', async () => {
    mock.reset();
    mock.failNext(1, 429, { retryAfter: '30', retryAfterMs: '150' });
    const started = Date.now();
    const r = await chat(gw);
    assert.equal(r.status, 200);
    assert.equal(mock.requests.length, 2);
    assert.ok(Date.now() - started < 2000);
    assert.ok(mock.requests[1].receivedAt - mock.requests[0].receivedAt >= 140);
  });

  it('429 whose retry-after exceeds backoff_max: no retry, the provider answer reaches the client unchanged', async () => {
    mock.reset();
    mock.failNext(1, 429, { retryAfter: '30' });
    const r = await chat(gw);
    assert.equal(r.status, 429);
    assert.equal(mock.requests.length, 1);
    assert.equal(r.headers.get('retry-after'), '30');
    assert.equal(r.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.equal(r.json.error.code, 'rate_limit_exceeded');
    assert.match(r.json.error.message, /Rate limit reached/);
  });

  it('a provider failing every time: 1 + attempts tries, then its own 500 reaches the client', async () => {
    mock.reset();
    mock.failNext(5, 500);
    const r = await chat(gw);
    assert.equal(r.status, 500);
    assert.equal(mock.requests.length, 3);
    assert.equal(r.json.error.type, 'server_error');
    assert.match(r.json.error.message, /The server had an error/);
    mock.failNext(0);
  });

  it('4xx other than 429 is never retried', async () => {
    mock.reset();
    const r = await chat(gw, { 'x-mock-scenario': 'fail:400' });
    assert.equal(r.status, 400);
    assert.equal(mock.requests.length, 1);
  });

  it('no retry once the response started: a stream cut mid-body is not sent again', async () => {
    mock.reset();
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST',
      headers: { 'content-type': 'application/json', 'x-mock-scenario': 'cut' },
      body: JSON.stringify({ ...CHAT, stream: true }) });
    assert.equal(r.status, 200);
    await r.text().catch(() => '');
    await sleep(100);
    assert.equal(mock.requests.length, 1);
  });
});

describe('fallback chains', () => {
  let backup; let gw; let deadPort;
  before(async () => {
    backup = await startMock();
    deadPort = await closedPort();
    gw = await startGateway({ config: configWith({
      providers: {
        primary: { api: 'openai', base_url: `http://127.0.0.1:${deadPort}`, api_key: 'sk-primary-key' },
        backup: { api: 'openai', base_url: backup.url, api_key: 'sk-backup-key' },
      },
      route: { provider: 'primary', retries: { attempts: 1, backoff_base: '10ms', backoff_max: '100ms' },
        fallback: [{ provider: 'backup', model: 'gpt-4o-backup' }] },
    }) });
  });
  after(async () => { await gw?.stop(); await backup?.close(); });

  it('primary unreachable: the fallback serves, with its own key and model', async () => {
    backup.reset();
    const r = await chat(gw);
    assert.equal(r.status, 200);
    assert.equal(backup.requests.length, 1);
    const req = backup.requests[0];
    assert.equal(req.headers.authorization, 'Bearer sk-backup-key');
    assert.equal(req.json.model, 'gpt-4o-backup');
    assert.equal(r.json.model, 'gpt-4o-backup');
    for (const q of backup.requests) assert.ok(!JSON.stringify(q.headers).includes('sk-primary-key'));
    const id = r.headers.get('x-request-id');
    const failed = logsOf(gw, 'upstream attempt failed', id);
    assert.deepEqual(failed.map((o) => [o.provider, o.failure, o.next]),
      [['primary', 'connect', 'retry'], ['primary', 'connect', 'fallback']]);
    const usage = await gw.waitForLog((o) => o && o.msg === 'usage' && o.request_id === id);
    assert.equal(usage.provider, 'backup');
    assert.equal(usage.model, 'gpt-4o-backup');
    const m = await metrics(gw);
    assert.ok(metricValue(m, 'tollway_upstream_fallbacks_total', { provider: 'primary', reason: 'connect' }) >= 1);
    assert.ok(metricValue(m, 'tollway_upstream_retries_total', { provider: 'primary', reason: 'connect' }) >= 1);
  });

  it('the last fallback failing too: the client gets that failure', async () => {
    backup.reset();
    backup.failNext(5, 503);
    const r = await chat(gw);
    assert.equal(r.status, 503);
    assert.equal(backup.requests.length, 2, 'the fallback gets its own retries');
    backup.failNext(0);
  });
});

describe('fallback to a provider of the other API', () => {
  let claude; let gw;
  before(async () => {
    claude = await startMock();
    const deadPort = await closedPort();
    gw = await startGateway({ config: configWith({
      providers: {
        primary: { api: 'openai', base_url: `http://127.0.0.1:${deadPort}`, api_key: 'sk-primary-key' },
        claude: { api: 'anthropic', base_url: claude.url, api_key: 'sk-ant-fallback', anthropic_version: '2023-06-01' },
      },
      route: { provider: 'primary', retries: { attempts: 0 }, fallback: [{ provider: 'claude', model: 'claude-sonnet-4-5' }] },
    }) });
  });
  after(async () => { await gw?.stop(); await claude?.close(); });

  it('an OpenAI request falls back to an Anthropic model: translated, with the Anthropic key', async () => {
    const r = await chat(gw);
    assert.equal(r.status, 200);
    assert.equal(r.json.object, 'chat.completion');
    assert.equal(claude.requests.length, 1);
    const req = claude.requests[0];
    assert.equal(req.url, '/v1/messages');
    assert.equal(req.headers['x-api-key'], 'sk-ant-fallback');
    assert.equal(req.headers.authorization, undefined);
    assert.equal(req.json.model, 'claude-sonnet-4-5');
    const usage = await gw.waitForLog((o) => o && o.msg === 'usage' && o.request_id === r.headers.get('x-request-id'));
    assert.equal(usage.provider, 'claude');
  });
});

describe('circuit breaker', () => {
  let primary; let backup; let gw;
  before(async () => {
    primary = await startMock();
    backup = await startMock();
    gw = await startGateway({ config: configWith({
      providers: {
        primary: { api: 'openai', base_url: primary.url, api_key: 'sk-primary-key',
          breaker: { failures: 3, base_ejection: '1s', max_ejection: '10s' } },
        backup: { api: 'openai', base_url: backup.url, api_key: 'sk-backup-key' },
      },
      route: { provider: 'primary', retries: { attempts: 0 }, fallback: [{ provider: 'backup' }] },
    }) });
  });
  after(async () => { await gw?.stop(); await primary?.close(); await backup?.close(); });

  const stateOf = async (state) => metricValue(await metrics(gw), 'tollway_upstream_endpoint_state',
    { provider: 'primary', state });

  it('opens after N failures (no request reaches the ejected endpoint) and closes after a successful probe', async () => {
    assert.equal(await stateOf('closed'), 1);
    primary.setScenario('fail:500');
    for (let i = 0; i < 3; i++) assert.equal((await chat(gw)).status, 200);
    assert.equal(primary.requests.length, 3);
    assert.equal(backup.requests.length, 3);
    assert.equal(await stateOf('open'), 1);
    assert.ok(gw.logs.some((o) => o.msg === 'upstream endpoint ejected' && o.provider === 'primary'));
    for (let i = 0; i < 4; i++) assert.equal((await chat(gw)).status, 200);
    assert.equal(primary.requests.length, 3, 'nothing reaches an ejected endpoint');
    assert.equal(backup.requests.length, 7);
    const m = await metrics(gw);
    assert.equal(metricValue(m, 'tollway_upstream_fallbacks_total', { provider: 'primary', reason: 'circuit_open' }), 4);
    assert.equal(metricValue(m, 'tollway_upstream_endpoint_ejections_total', { provider: 'primary' }), 1);

    primary.setScenario('');
    await sleep(1100);
    const probe = await chat(gw);
    assert.equal(probe.status, 200);
    assert.equal(primary.requests.length, 4, 'the probe went to the primary');
    assert.equal(await stateOf('closed'), 1);
    assert.ok(gw.logs.some((o) => o.msg === 'upstream endpoint restored' && o.provider === 'primary'));
    assert.equal((await chat(gw)).status, 200);
    assert.equal(primary.requests.length, 5);
    assert.equal(backup.requests.length, 7);
  });

  it('a failed probe ejects again, for longer', async () => {
    primary.setScenario('fail:500');
    for (let i = 0; i < 3; i++) await chat(gw);
    assert.equal(await stateOf('open'), 1);
    const ejected = gw.logs.filter((o) => o.msg === 'upstream endpoint ejected' && o.provider === 'primary').at(-1);
    assert.ok(ejected.ejected_for_ms > 1000 && ejected.ejected_for_ms <= 2000, 'second ejection: 2 x base');
    await sleep(2100);
    const before = primary.requests.length;
    assert.equal((await chat(gw)).status, 200);  // the probe fails, the fallback serves
    assert.equal(primary.requests.length, before + 1);
    const again = await gw.waitForLog((o) => o && o.msg === 'upstream endpoint probe failed; ejected again');
    assert.ok(again.ejected_for_ms > 2000 && again.ejected_for_ms <= 3000, `third ejection: 3 x base (${again.ejected_for_ms})`);
    assert.equal(await stateOf('open'), 1);
    primary.setScenario('');
  });

  it('/metrics passes promtool check metrics', async () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: await metrics(gw), encoding: 'utf8' });
    assert.equal(r.error, undefined, 'promtool must be installed');
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });
});

describe('several endpoints per provider', () => {
  let a; let b;
  before(async () => { a = await startMock(); b = await startMock(); });
  after(async () => { await a?.close(); await b?.close(); });

  it('round robin alternates, and a failing endpoint is retried elsewhere and ejected', async () => {
    const gw = await startGateway({ config: configWith({
      providers: { openai: { api: 'openai', endpoints: [a.url, { url: b.url, weight: 1 }], api_key: 'sk-test-openai',
        load_balancing: 'round_robin', breaker: { failures: 1, base_ejection: '30s' } } },
      route: { provider: 'openai', retries: { attempts: 1, backoff_base: '10ms', backoff_max: '50ms' } },
    }) });
    try {
      a.reset(); b.reset();
      const order = [];
      for (let i = 0; i < 4; i++) {
        const before = [a.requests.length, b.requests.length];
        assert.equal((await chat(gw)).status, 200);
        order.push(a.requests.length > before[0] ? 'a' : 'b');
      }
      assert.equal(a.requests.length, 2);
      assert.equal(b.requests.length, 2);
      assert.notEqual(order[0], order[1]);
      assert.notEqual(order[1], order[2]);
      // a fails: the retry avoids it, then its breaker keeps it out
      a.setScenario('fail:502');
      a.reset(); b.reset();
      for (let i = 0; i < 4; i++) assert.equal((await chat(gw)).status, 200);
      assert.ok(a.requests.length <= 1, `a got ${a.requests.length}`);
      assert.equal(b.requests.length, 4);
      const m = await metrics(gw);
      assert.equal(metricValue(m, 'tollway_upstream_endpoint_state', { provider: 'openai', endpoint: a.url, state: 'open' }), 1);
      assert.equal(metricValue(m, 'tollway_upstream_endpoint_state', { provider: 'openai', endpoint: b.url, state: 'closed' }), 1);
      a.setScenario('');
    } finally {
      await gw.stop();
    }
  });

  it('least_in_flight sends new requests to the endpoint with fewer requests in flight', async () => {
    const gw = await startGateway({ config: configWith({
      providers: { openai: { api: 'openai', endpoints: [a.url, b.url], api_key: 'sk-test-openai',
        load_balancing: 'least_in_flight' } },
      route: { provider: 'openai' },
    }) });
    try {
      a.reset(); b.reset();
      const slow = chat(gw, { 'x-mock-scenario': 'slow-first-byte:700' });
      await waitFor(() => a.requests.length + b.requests.length === 1);
      const busy = a.requests.length === 1 ? a : b;
      const idle = busy === a ? b : a;
      for (let i = 0; i < 3; i++) assert.equal((await chat(gw)).status, 200);
      assert.equal(busy.requests.length, 1);
      assert.equal(idle.requests.length, 3);
      assert.equal((await slow).status, 200);
    } finally {
      await gw.stop();
    }
  });
});
