// Limits and budgets through the real gateway with `ledger: local`: 200 concurrent requests (random max_tokens,
// streaming and not, some cut, some failing upstream) against one budget never charge more than the budget and
// leave no reservation open; GCRA rate limits with 429 + retry-after + x-ratelimit-* in each API's format;
// shadow mode; per-session budgets; the context-window guard; fan-out budgets in signed baggage; metrics pass
// promtool.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  startMock, startGateway, testConfig, postJson, getText, metricValue, waitFor, assertOpenAIError,
  assertAnthropicError,
} from '../../lib/harness.mjs';

function promtool(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool is required (scripts/install-deps.sh installs it): ${r.error.message}`);
  return r;
}

const chat = (content, extra = {}) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra });

async function metrics(gw) { return (await getText(`${gw.adminUrl}/metrics`)).text; }

describe('limits: one budget under 200 concurrent requests (local ledger)', () => {
  const LIMIT = 9000;
  let mock; let gw;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url, over: {
      limits: { default_max_tokens: 100, budgets: [{ name: 'all-day', unit: 'total_tokens', limit: LIMIT, period: 'day' }] },
    } }) });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  it('admitted + settled tokens never exceed the budget; every reservation is settled once', async () => {
    let seed = 7;
    const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    const jobs = [];
    for (let i = 0; i < 200; i++) {
      const stream = i % 2 === 1;
      const body = chat(`request ${i} asks for a short answer about limits number ${rand(1000)}`,
        { stream, ...(i % 10 === 3 ? {} : { max_tokens: 1 + rand(200) }) });
      const headers = {};
      if (i % 17 === 5) headers['x-mock-scenario'] = 'fail:500';          // no upstream answer: released
      else if (stream && i % 13 === 1) headers['x-mock-scenario'] = 'cut'; // stream cut: estimated, charged
      jobs.push((async () => {
        const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST',
          headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
        const text = await r.text().catch(() => '');
        return { status: r.status, headers: r.headers, text, id: r.headers.get('x-request-id') };
      })());
    }
    const results = await Promise.all(jobs);
    const ok = results.filter((r) => r.status === 200);
    const denied = results.filter((r) => r.status === 429);
    assert.ok(ok.length > 20, `some requests admitted (${ok.length})`);
    assert.ok(denied.length > 20, `some requests denied (${denied.length})`);
    for (const d of denied) {
      assertOpenAIError(JSON.parse(d.text), { type: 'rate_limit_error', code: 'budget_exceeded' });
      assert.ok(Number(d.headers.get('retry-after')) >= 1);
      assert.ok(d.headers.get('x-ratelimit-remaining-tokens') !== null);
    }
    for (const a of ok) assert.equal(a.headers.get('x-ratelimit-limit-tokens'), String(LIMIT));
    // Every reservation was settled exactly once.
    await waitFor(async () => metricValue(await metrics(gw), 'tollway_limits_reservations_open') === 0);
    const m = await metrics(gw);
    assert.equal(metricValue(m, 'tollway_limits_reservations_open'), 0);
    assert.equal(metricValue(m, 'tollway_limits_decisions_total', { result: 'denied' }), denied.length);
    // The budget's limit beside what is left: the share used is one PromQL division (deploy/prometheus/rules.yml).
    assert.match(m, new RegExp(`^tollway_limits_budget_limit\\{budget="all-day",unit="total_tokens",period="day"\\} ${LIMIT}$`, 'm'));
    // What the provider reported for the calls it answered in full (JSON and complete streams).
    let providerTokens = 0;
    for (const req of mock.requests) {
      const b = JSON.parse(req.body.toString());
      const scenario = req.headers['x-mock-scenario'] ?? '';
      if (scenario.includes('fail') || scenario.includes('cut')) continue;
      const words = b.messages[0].content.split(/\s+/).filter(Boolean).length;
      const max = b.max_tokens;
      providerTokens += words + (Number.isInteger(max) && max > 0 ? Math.min(max, 64) : 8);
    }
    // What the gateway charged (usage log lines: reported, or estimated for cut streams).
    let charged = 0;
    for (const r of ok) {
      const line = await gw.waitForLog((o) => o && o.msg === 'usage' && o.request_id === r.id);
      if (line.usage_known || line.usage_estimated) charged += line.input_tokens + line.output_tokens;
    }
    assert.ok(providerTokens <= LIMIT, `provider tokens ${providerTokens} <= ${LIMIT}`);
    assert.ok(charged <= LIMIT, `charged ${charged} <= ${LIMIT}`);
    // The ledger holds exactly what was charged: a request that cannot fit reports the remaining units.
    const probe = await postJson(`${gw.url}/v1/chat/completions`, chat('probe', { max_tokens: LIMIT }));
    assert.equal(probe.status, 429);
    assert.equal(Number(probe.headers.get('x-ratelimit-remaining-tokens')), LIMIT - charged);
    assert.equal(promtool(m).status, 0, promtool(m).stderr);
  });
});

describe('limits: rate limits, shadow, sessions, context guard, fan-out (local ledger)', () => {
  let mock; let gw;
  const SECRET = 'fanout-test-secret-0123456789abcdef';
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url, over: {
      limits: {
        default_max_tokens: 50,
        rules: [
          { name: 'rpm', match: { model: 'gpt-4o-mini' }, unit: 'requests', limit: 3, window: '1m' },
          { name: 'claude-rpm', match: { model: 'claude-*' }, unit: 'requests', limit: 1, window: '1h' },
          { name: 'shadow-rpm', match: { model: 'gpt-4.1*' }, unit: 'requests', limit: 1, window: '1h', mode: 'shadow' },
        ],
        budgets: [
          { name: 'per-session', match: { model: 'gpt-4.1-nano' }, per: ['session'], unit: 'total_tokens', limit: 200, period: 'day' },
          { name: 'fanout-models', match: { model: 'gpt-5*' }, unit: 'requests', limit: 1000, period: 'month', alerts: [50, 100] },
        ],
        sessions: { context_guard: 'reject', context_windows: { 'gpt-4o': 1000, 'gpt-4.1*': 100000 } },
        fanout: { secret: SECRET, unit: 'total_tokens', max_budget: 400, ttl: '10m' },
      },
    } }) });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  it('GCRA requests limit: 3 admitted with x-ratelimit headers, the 4th gets 429 + retry-after (OpenAI format)', async () => {
    const remaining = [];
    for (let i = 0; i < 3; i++) {
      const r = await postJson(`${gw.url}/v1/chat/completions`, chat('hi', { max_tokens: 5 }));
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-ratelimit-limit-requests'), '3');
      remaining.push(Number(r.headers.get('x-ratelimit-remaining-requests')));
      assert.match(r.headers.get('x-ratelimit-reset-requests'), /^\d+(ms|s)$|^\d+m\d+s$/);
    }
    assert.deepEqual(remaining, [2, 1, 0]);
    const seen = mock.requests.length;
    const r = await postJson(`${gw.url}/v1/chat/completions`, chat('hi', { max_tokens: 5 }));
    assert.equal(r.status, 429);
    const e = assertOpenAIError(r.json, { type: 'rate_limit_error', code: 'rate_limit_exceeded' });
    assert.match(e.message, /Rate limit "rpm" exceeded/);
    const retry = Number(r.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 20, `retry-after ${retry}`);  // one request leaks every 20 s
    assert.equal(r.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.equal(mock.requests.length, seen, 'a denied request never reaches the provider');
    assert.equal(metricValue(await metrics(gw), 'tollway_limits_denials_total', { rule: 'rpm' }), 1);
  });

  it('Anthropic callers get the 429 in Anthropic format', async () => {
    const body = { model: 'claude-3-5-haiku-latest', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] };
    const h = { 'anthropic-version': '2023-06-01' };
    assert.equal((await postJson(`${gw.url}/v1/messages`, body, h)).status, 200);
    const r = await postJson(`${gw.url}/v1/messages`, body, h);
    assert.equal(r.status, 429);
    assertAnthropicError(r.json, { type: 'rate_limit_error' });
    assert.ok(Number(r.headers.get('retry-after')) > 3000);
  });

  it('shadow mode reports would-be denials and denies nothing', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await postJson(`${gw.url}/v1/chat/completions`, { ...chat('hi', { max_tokens: 5 }), model: 'gpt-4.1-mini' });
      assert.equal(r.status, 200);
    }
    const m = await metrics(gw);
    assert.equal(metricValue(m, 'tollway_limits_shadow_denials_total', { rule: 'shadow-rpm' }), 2);
    assert.equal(metricValue(m, 'tollway_limits_denials_total', { rule: 'shadow-rpm' }), 0);
    await gw.waitForLog((o) => o && o.msg === 'limits shadow denial' && o.rule === 'shadow-rpm');
  });

  it('per-session budgets: x-session-id and OpenAI user key separate counters', async () => {
    const nano = (extra, content = 'hello there') => ({ ...chat(content, extra), model: 'gpt-4.1-nano' });
    // default_max_tokens 50 + a short prompt: ~60 tokens reserved each; the mock uses 8-50 of them.
    let admittedA = 0;
    for (let i = 0; i < 6; i++) {
      const r = await postJson(`${gw.url}/v1/chat/completions`, nano({ max_tokens: 50 }), { 'x-session-id': 'sess-A' });
      if (r.status === 200) admittedA++;
      else {
        assert.equal(r.status, 429);
        assertOpenAIError(r.json, { code: 'budget_exceeded' });
        assert.match(r.json.error.message, /Budget "per-session"/);
      }
    }
    assert.ok(admittedA >= 2 && admittedA < 6, `session A admitted ${admittedA}`);
    const b = await postJson(`${gw.url}/v1/chat/completions`, nano({ max_tokens: 50 }), { 'x-session-id': 'sess-B' });
    assert.equal(b.status, 200);
    const u = await postJson(`${gw.url}/v1/chat/completions`, nano({ max_tokens: 50, user: 'sess-A' }));
    assert.equal(u.status, 429, 'OpenAI `user` names the same session as x-session-id sess-A');
    // Without a session the per-session budget does not apply.
    for (let i = 0; i < 5; i++) assert.equal((await postJson(`${gw.url}/v1/chat/completions`, nano({ max_tokens: 50 }))).status, 200);
    const bad = await postJson(`${gw.url}/v1/chat/completions`, nano({}), { 'x-session-id': 'x'.repeat(129) });
    assert.equal(bad.status, 400);
    assertOpenAIError(bad.json, { code: 'invalid_session_id' });
  });

  it('context guard: prompt + max_tokens over the window is a 400 before anything is spent', async () => {
    const seen = mock.requests.length;
    const r = await postJson(`${gw.url}/v1/chat/completions`, { ...chat('a b c d e f'), model: 'gpt-4o', max_tokens: 995 });
    assert.equal(r.status, 400);
    const e = assertOpenAIError(r.json, { code: 'context_length_exceeded' });
    assert.match(e.message, /maximum context length is 1000 tokens\. However, you requested \d+ tokens \(\d+ in the messages, 995 in the completion\)/);
    assert.equal(mock.requests.length, seen);
    const fits = await postJson(`${gw.url}/v1/chat/completions`, { ...chat('a b c d e f'), model: 'gpt-4o', max_tokens: 100 });
    assert.equal(fits.status, 200);
    assert.equal(metricValue(await metrics(gw), 'tollway_limits_context_guard_total', { action: 'rejected' }), 1);
  });

  it('fan-out: a root request gets a signed budget; the tree is charged until it is spent; tampering is refused', async () => {
    const root = await postJson(`${gw.url}/v1/chat/completions`, { ...chat('plan the work'), model: 'gpt-5-mini', max_tokens: 40 },
      { 'x-tollway-fanout-budget': '400' });
    assert.equal(root.status, 200);
    const member = root.headers.get('x-tollway-fanout-baggage');
    assert.match(member, /^tollway-fanout=v1\.[0-9a-f]{32}\.tok\.400\.\d+\.[A-Za-z0-9_-]{43}$/);
    // Children carry it in baggage next to other members.
    const child = (max) => postJson(`${gw.url}/v1/chat/completions`, { ...chat('do one step'), model: 'gpt-5-mini', max_tokens: max },
      { baggage: `team=search, ${member}` });
    let admitted = 0; let denied = null;
    for (let i = 0; i < 12 && !denied; i++) {
      const r = await child(40);
      if (r.status === 200) { admitted++; assert.equal(r.headers.get('x-tollway-fanout-baggage'), null); } else denied = r;
    }
    assert.ok(admitted >= 3, `children admitted ${admitted}`);
    assert.ok(denied, 'the tree budget runs out');
    assert.equal(denied.status, 429);
    assertOpenAIError(denied.json, { code: 'fanout_budget_exceeded' });
    // Raising the budget breaks the signature.
    const forged = member.replace('.tok.400.', '.tok.4000.');
    const f = await postJson(`${gw.url}/v1/chat/completions`, { ...chat('x'), model: 'gpt-5-mini', max_tokens: 5 }, { baggage: forged });
    assert.equal(f.status, 403);
    assertOpenAIError(f.json, { code: 'invalid_fanout_budget' });
    const tooBig = await postJson(`${gw.url}/v1/chat/completions`, { ...chat('x'), model: 'gpt-5-mini', max_tokens: 5 },
      { 'x-tollway-fanout-budget': '401' });
    assert.equal(tooBig.status, 400);
    const m = await metrics(gw);
    assert.equal(metricValue(m, 'tollway_limits_denials_total', { rule: 'fanout' }), 1);
    assert.equal(metricValue(m, 'tollway_limits_reservations_open'), 0);
    const check = promtool(m);
    assert.equal(check.status, 0, check.stderr + check.stdout);
  });
});

describe('limits: budgets survive a SIGKILL through the spend log (local ledger)', () => {
  let mock;
  before(async () => { mock = await startMock(); });
  after(async () => { await mock?.close(); });

  it('a restarted gateway continues the day budget where the killed one stopped', async () => {
    const dir = (await import('../../lib/harness.mjs')).tempDir('tollway-spend-');
    const config = testConfig({ openaiUrl: mock.url, over: {
      limits: {
        spend_log: { path: `${dir}/spend.db`, flush_interval: '20ms', fsync: 'true' },
        budgets: [{ name: 'day-tokens', unit: 'total_tokens', limit: 2000, period: 'day' }],
      },
    } });
    const first = await startGateway({ config });
    let charged = 0;
    for (let i = 0; i < 5; i++) {
      const r = await postJson(`${first.url}/v1/chat/completions`, chat('count these words please', { max_tokens: 30 }));
      assert.equal(r.status, 200);
      charged += r.json.usage.total_tokens;
    }
    await waitFor(async () => metricValue(await metrics(first), 'tollway_limits_spend_records_total') === 5);
    assert.equal(metricValue(await metrics(first), 'tollway_limits_spend_records_total'), 5);
    const killed = await first.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    const second = await startGateway({ config });
    try {
      await second.waitForLog((o) => o && o.msg === 'budgets restored from the spend log' && o.records === 5);
      const probe = await postJson(`${second.url}/v1/chat/completions`, chat('probe', { max_tokens: 5000 }));
      assert.equal(probe.status, 429);
      assert.equal(Number(probe.headers.get('x-ratelimit-remaining-tokens')), 2000 - charged);
    } finally {
      await second.stop();
    }
  });
});

describe('limits: session sources and the context guard in warn mode', () => {
  let mock; let gw;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url, over: {
      limits: {
        budgets: [{ name: 'per-session', per: ['session'], unit: 'requests', limit: 1, period: 'day' }],
        sessions: { context_guard: 'warn', context_windows: { 'gpt-4o-mini': 50, 'claude-*': 50 } },
      },
    } }) });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  it('OpenAI metadata.session_id and Anthropic metadata.user_id name sessions', async () => {
    const openai = (sid) => postJson(`${gw.url}/v1/chat/completions`, chat('hi', { max_tokens: 5, metadata: { session_id: sid } }));
    assert.equal((await openai('m-1')).status, 200);
    assert.equal((await openai('m-1')).status, 429);
    assert.equal((await openai('m-2')).status, 200);
    const h = { 'anthropic-version': '2023-06-01' };
    const anthropic = (uid) => postJson(`${gw.url}/v1/messages`, { model: 'claude-3-5-haiku-latest', max_tokens: 5,
      metadata: { user_id: uid }, messages: [{ role: 'user', content: 'hi' }] }, h);
    assert.equal((await anthropic('a-1')).status, 200);
    const r = await anthropic('a-1');
    assert.equal(r.status, 429);
    assertAnthropicError(r.json, { type: 'rate_limit_error' });
    // x-session-id wins over the body.
    const hdr = await postJson(`${gw.url}/v1/chat/completions`, chat('hi', { max_tokens: 5, metadata: { session_id: 'm-1' } }),
      { 'x-session-id': 'h-1' });
    assert.equal(hdr.status, 200);
  });

  it('warn: the request goes on with x-tollway-context-warning', async () => {
    const seen = mock.requests.length;
    const r = await postJson(`${gw.url}/v1/chat/completions`, chat('hi', { max_tokens: 60 }));
    assert.equal(r.status, 200);
    assert.match(r.headers.get('x-tollway-context-warning'), /exceeds the context window 50 of gpt-4o-mini/);
    assert.equal(mock.requests.length, seen + 1);
    assert.equal(metricValue(await metrics(gw), 'tollway_limits_context_guard_total', { action: 'warned' }), 1);
  });
});

describe('limits: retries, failures and client disconnects settle exactly once', () => {
  const LIMIT = 100000;
  let mock; let gw;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url, over: {
      limits: { budgets: [{ name: 'day', unit: 'total_tokens', limit: LIMIT, period: 'day' }] },
    } }) });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  // What the ledger holds now: a request that cannot fit reports the remaining units.
  async function remaining() {
    const r = await postJson(`${gw.url}/v1/chat/completions`, chat('probe', { max_tokens: LIMIT }));
    assert.equal(r.status, 429);
    return Number(r.headers.get('x-ratelimit-remaining-tokens'));
  }

  it('a retried request is charged once, with the answer that reached the client', async () => {
    const before = await remaining();
    mock.failNext(1, 500);
    const r = await postJson(`${gw.url}/v1/chat/completions`, chat('one two three', { max_tokens: 7 }));
    assert.equal(r.status, 200);
    // Settling follows the last byte sent to the client: wait for it rather than race it.
    await waitFor(async () => metricValue(await metrics(gw), 'tollway_limits_reservations_open') === 0);
    assert.equal(await remaining(), before - r.json.usage.total_tokens);
  });

  it('a request no provider answered releases everything', async () => {
    const before = await remaining();
    const r = await postJson(`${gw.url}/v1/chat/completions`, chat('one two three', { max_tokens: 7 }),
      { 'x-mock-scenario': 'fail:503' });
    assert.equal(r.status, 503);
    // The release follows the answer's last byte (as settling does): wait for it rather than race it.
    await waitFor(async () => metricValue(await metrics(gw), 'tollway_limits_reservations_open') === 0);
    assert.equal(await remaining(), before);
  });

  it('a client that leaves mid-stream is charged what the provider reported', async () => {
    const before = await remaining();
    const body = chat('tell me a long story', { max_tokens: 40, stream: true });
    const ac = new AbortController();
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', signal: ac.signal,
      headers: { 'content-type': 'application/json', 'x-mock-scenario': 'slow-stream:20' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    await reader.read();
    ac.abort();
    const id = res.headers.get('x-request-id');
    const line = await gw.waitForLog((o) => o && o.msg === 'usage' && o.request_id === id, 10000);
    const words = body.messages[0].content.split(/\s+/).length;
    assert.equal(line.input_tokens + line.output_tokens, words + 40, 'the mock reports prompt words + min(max_tokens, 64)');
    await waitFor(async () => metricValue(await metrics(gw), 'tollway_limits_reservations_open') === 0);
    assert.equal(await remaining(), before - (words + 40));
  });
});
