// Access and decision logs, Prometheus families and label caps through the real gateway: an access line per
// request (request id, trace id, tenant, agent, session, model, tokens, cost, status, latency split), a decision
// line for every denial (401 and 403, with the policy version and the rule), no secret in any log line or span
// (provider key, virtual key, JWT), the `usage` line replaced by the access line, the GenAI and tollway_* families
// passing `promtool check metrics`, and the tenant / session caps reporting "_overflow" and counting it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { startMock, startGateway, testConfig, postJson, getText, metricValue, waitFor, tempDir, sleep } from '../../lib/harness.mjs';
import { startOtlpReceiver } from '../../mock/otlp_receiver.mjs';

const ADMIN = 'admin-token-telemetry-0123456789ab';
const PROVIDER_KEY = 'sk-test-openai-telemetry-secret';

describe('access log, decision log and metrics', () => {
  let mock; let receiver; let gw; let dir; let accessPath; let key; let otherKey;
  const admin = async (method, p, body) => {
    const r = await fetch(`${gw.adminUrl}${p}`, { method, headers: { authorization: `Bearer ${ADMIN}` },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : undefined };
  };
  const chat = (k, body = {}, headers = {}) => postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini',
    max_tokens: 8, messages: [{ role: 'user', content: 'hello there' }], ...body }, { authorization: `Bearer ${k}`, ...headers });
  const accessLines = () => (fs.existsSync(accessPath) ? fs.readFileSync(accessPath, 'utf8') : '').split('\n')
    .filter(Boolean).map((l) => JSON.parse(l));

  before(async () => {
    mock = await startMock();
    receiver = await startOtlpReceiver();
    dir = tempDir('tollway-telemetry-');
    accessPath = path.join(dir, 'access.log');
    const cfg = testConfig({ openaiUrl: mock.url });
    cfg.providers.openai.api_key = PROVIDER_KEY;
    cfg.pricing = { models: [{ match: 'gpt-4o-mini*', input: '150', output: '600' }] };  // large: visible cost per call
    cfg.auth = { admin_token: ADMIN, virtual_keys: { store: path.join(dir, 'keys.db') } };
    cfg.telemetry = {
      tracing: { trust_incoming: 'authenticated' },
      otlp: { endpoint: receiver.url, traces_interval: '50ms', metrics_interval: '1h' },
      metrics: { max_tenants: '2', max_sessions: '2' },
      access_log: accessPath,
      decision_log: 'stderr',
    };
    gw = await startGateway({ workers: 2, config: cfg });
    key = (await admin('POST', '/admin/keys', { name: 'bot', tenant: 'acme', agent: 'planner', models: ['gpt-4o*'] })).json.key;
    otherKey = (await admin('POST', '/admin/keys', { name: 'b2', tenant: 'globex', agent: 'coder' })).json.key;
    assert.ok(key && otherKey);
  });
  after(async () => { await gw?.stop(); await mock?.close(); await receiver?.close(); });

  it('one access line per request with ids, caller, session, usage, cost and the latency split', async () => {
    const r = await chat(key, {}, { 'x-session-id': 'sess-1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    assert.equal(r.status, 200);
    const id = r.headers.get('x-request-id');
    const line = await waitFor(() => accessLines().find((l) => l.request_id === id));
    assert.ok(line, 'access line written');
    assert.equal(line.type, 'access');
    assert.equal(line.trace_id, '4bf92f3577b34da6a3ce929d0e0e4736', 'an authenticated caller is trusted');
    assert.match(line.span_id, /^[0-9a-f]{16}$/);
    assert.equal(line.tenant, 'acme');
    assert.equal(line.agent, 'planner');
    assert.equal(line.session, 'sess-1');
    assert.equal(line.model, 'gpt-4o-mini');
    assert.equal(line.provider, 'openai');
    assert.equal(line.status, 200);
    assert.equal(line.usage, 'reported');
    assert.ok(line.input_tokens > 0 && line.output_tokens > 0);
    assert.ok(line.cost_usd > 0);
    for (const k of ['total', 'tollway', 'upstream_ttfb', 'stream']) assert.equal(typeof line.latency_ms[k], 'number', k);
    assert.ok(line.latency_ms.tollway <= line.latency_ms.total);
    assert.ok(line.latency_ms.upstream_ttfb <= line.latency_ms.total);
    assert.match(line.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // The OpenAI `user` field is the session when there is no x-session-id.
    const u = await chat(key, { user: 'end-user-7' });
    const ul = await waitFor(() => accessLines().find((l) => l.request_id === u.headers.get('x-request-id')));
    assert.equal(ul.session, 'end-user-7');
    // Requests answered before the pipeline (unknown route) are logged too; an odd session id is not copied.
    const nf = await postJson(`${gw.url}/v1/nowhere`, {}, { 'x-session-id': 'has a space' });
    assert.equal(nf.status, 404);
    const nl = await waitFor(() => accessLines().find((l) => l.request_id === nf.headers.get('x-request-id')));
    assert.equal(nl.status, 404);
    assert.equal(nl.route, '');
    assert.equal(nl.session, '_invalid');
    // The access log replaces the `usage` line: nothing said twice.
    await sleep(100);
    assert.equal(gw.logs.filter((o) => o.msg === 'usage').length, 0);
  });

  it('SIGUSR1 reopens the access log after rotation: old lines stay in the moved file, new ones go to a new file', async () => {
    const before = await chat(key);
    const beforeId = before.headers.get('x-request-id');
    assert.ok(await waitFor(() => accessLines().find((l) => l.request_id === beforeId)));
    const rotated = `${accessPath}.1`;
    fs.renameSync(accessPath, rotated);
    const stillOld = await chat(key);  // written to the moved file until the reopen
    const stillOldId = stillOld.headers.get('x-request-id');
    const readLines = (p) => fs.readFileSync(p, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.ok(await waitFor(() => readLines(rotated).find((l) => l.request_id === stillOldId)));
    gw.proc.kill('SIGUSR1');
    await gw.waitForLog((o) => o && o.msg === 'reopening the telemetry log files');
    const reopened = await waitFor(async () => {
      const m = (await getText(`${gw.adminUrl}/metrics`)).text;
      return metricValue(m, 'tollway_telemetry_log_reopens_total') >= 1 ? m : null;
    });
    assert.ok(reopened, 'the reopen is counted');
    const after = await chat(key);
    const afterId = after.headers.get('x-request-id');
    const line = await waitFor(() => fs.existsSync(accessPath) && accessLines().find((l) => l.request_id === afterId));
    assert.ok(line, 'the new file holds the line of a request made after SIGUSR1');
    assert.ok(!accessLines().some((l) => l.request_id === beforeId || l.request_id === stillOldId));
    assert.ok(readLines(rotated).some((l) => l.request_id === beforeId));
    assert.equal(gw.proc.exitCode, null, 'SIGUSR1 does not stop the gateway');
  });

  it('a decision line for every denial: 401 (authentication) and 403 (authorization), with rule and policy version', async () => {
    const unauth = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [] },
      { authorization: 'Bearer tw-not-a-real-key-000000000000000000000000000' });
    assert.equal(unauth.status, 401);
    const forbidden = await chat(key, { model: 'gpt-3.5-turbo' });
    assert.equal(forbidden.status, 403);
    const cfgVersion = (await getText(`${gw.adminUrl}/config`)).json.version;
    const d401 = await gw.waitForLog((o) => o && o.type === 'decision' && o.request_id === unauth.headers.get('x-request-id'));
    assert.equal(d401.status, 401);
    assert.equal(d401.decision.filter, 'caller_auth');
    assert.equal(d401.decision.rule, 'unknown_key');
    assert.equal(d401.policy_version, cfgVersion);
    assert.equal(d401.policy_generation, 1);
    const d403 = await gw.waitForLog((o) => o && o.type === 'decision' && o.request_id === forbidden.headers.get('x-request-id'));
    assert.equal(d403.decision.filter, 'policy_authz');
    assert.equal(d403.decision.rule, 'model_not_allowed');
    assert.equal(d403.tenant, 'acme');
    assert.match(d403.decision.reason, /gpt-3\.5-turbo/);
    assert.equal(d403.model, 'gpt-3.5-turbo', 'the decision line names the model asked for, though none was served');
    const a403 = await waitFor(() => accessLines().find((l) => l.request_id === forbidden.headers.get('x-request-id')));
    assert.equal(a403.decision.rule, 'model_not_allowed', 'the access line carries the decision too');
    const m = (await getText(`${gw.adminUrl}/metrics`)).text;
    assert.equal(metricValue(m, 'tollway_denials_total', { filter: 'caller_auth', rule: 'unknown_key' }), 1);
    assert.equal(metricValue(m, 'tollway_denials_total', { filter: 'policy_authz', rule: 'model_not_allowed' }), 1);
  });

  it('GenAI and tollway_* families pass promtool; tenant and session caps report _overflow and count it', async () => {
    const third = (await admin('POST', '/admin/keys', { name: 'b3', tenant: 'initech', agent: 'x' })).json.key;
    await chat(otherKey, {}, { 'x-session-id': 'sess-2' });
    await chat(third, {}, { 'x-session-id': 'sess-3' });  // third tenant, third session: both past their cap of 2
    await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', stream: true, max_tokens: 8,
      messages: [{ role: 'user', content: 'stream' }] }, { authorization: `Bearer ${key}` });
    // Two failed calls: the provider's 400, and a stream the provider cuts after its 200 head.
    assert.equal((await chat(key, {}, { 'x-mock-scenario': 'fail:400' })).status, 400);
    await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', stream: true, max_tokens: 8,
      messages: [{ role: 'user', content: 'stream' }] }, { authorization: `Bearer ${key}`, 'x-mock-scenario': 'cut' })
      .catch(() => { /* the body ends early: that is the point */ });
    await waitFor(async () => (await getText(`${gw.adminUrl}/metrics`)).text.includes('error_type="response_cut"'));
    const m = (await getText(`${gw.adminUrl}/metrics`)).text;
    const p = spawnSync('promtool', ['check', 'metrics'], { input: m, encoding: 'utf8' });
    assert.ifError(p.error);
    assert.equal(p.status, 0, `promtool:\n${p.stdout}${p.stderr}\n---\n${m}`);
    for (const family of ['gen_ai_client_token_usage', 'gen_ai_server_request_duration_seconds',
      'gen_ai_server_time_to_first_token_seconds', 'gen_ai_server_time_per_output_token_seconds', 'tollway_cost_usd_total',
      'tollway_denials_total', 'tollway_gateway_overhead_seconds', 'tollway_upstream_retries_total', 'tollway_otlp_spans_total']) {
      assert.match(m, new RegExp(`^# TYPE ${family} `, 'm'), family);
    }
    assert.ok(metricValue(m, 'gen_ai_client_token_usage_count', { gen_ai_token_type: 'input', gen_ai_request_model: 'gpt-4o-mini' }) >= 4);
    assert.ok(metricValue(m, 'gen_ai_server_time_to_first_token_seconds_count', { gen_ai_operation_name: 'chat' }) >= 1);
    // error_type (OTel error.type) only on the duration of failed calls, from the bounded set.
    const durations = [...m.matchAll(/^gen_ai_server_request_duration_seconds_count\{([^}]*)\} (\S+)$/gm)]
      .map(([, labels, n]) => ({ labels, n: Number(n), errorType: /error_type="([^"]*)"/.exec(labels)?.[1] }));
    const byType = Object.fromEntries(durations.filter((d) => d.errorType).map((d) => [d.errorType, d.n]));
    assert.deepEqual(byType, { 400: 1, response_cut: 1 }, JSON.stringify(durations));
    assert.ok(durations.some((d) => !d.errorType && d.n >= 4), 'successful calls have a series without error_type');
    assert.ok(!/error_type=""/.test(m));
    assert.doesNotMatch(m, /^gen_ai_client_token_usage[^\n]*error_type/m, 'only the duration carries error_type');
    assert.ok(metricValue(m, 'tollway_cost_usd_total', { tenant: 'acme', agent: 'planner', model: 'gpt-4o-mini' }) > 0);
    assert.ok(metricValue(m, 'tollway_cost_usd_total', { tenant: '_overflow' }) > 0, 'the third tenant is past the cap');
    assert.equal(metricValue(m, 'tollway_cost_usd_total', { tenant: 'initech' }), 0);
    assert.ok(metricValue(m, 'tollway_metric_label_overflow_total', { label: 'tenant' }) >= 1);
    assert.ok(metricValue(m, 'tollway_metric_label_overflow_total', { label: 'session' }) >= 1);
    assert.ok(metricValue(m, 'tollway_session_cost_usd_total', { session: '_overflow' }) > 0);
  });

  it('no secret in the access log, the decision log, stderr or the exported spans', async () => {
    await sleep(300);
    const everything = [fs.readFileSync(accessPath, 'utf8'), gw.stderrLines.join('\n'),
      ...receiver.requests.map((r) => JSON.stringify(r.payload))].join('\n');
    for (const secret of [PROVIDER_KEY, key, otherKey, ADMIN, 'tw-not-a-real-key'])
      assert.ok(!everything.includes(secret), `a secret leaked: ${secret.slice(0, 8)}...`);
    assert.ok(!/authorization/i.test(fs.readFileSync(accessPath, 'utf8')), 'no header dump in the access log');
  });
});

describe('decision log for limits denials', () => {
  let mock; let gw;
  before(async () => {
    mock = await startMock();
    const cfg = testConfig({ openaiUrl: mock.url });
    cfg.limits = { default_max_tokens: 50, rules: [{ name: 'two-rpm', match: { model: 'gpt-4o-mini' }, unit: 'requests', limit: 2, window: '1m' }] };
    cfg.telemetry = { access_log: 'stdout' };
    gw = await startGateway({ config: cfg });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  it('a 429 from the limits filter is a decision line naming the rule, and a tollway_denials_total sample', async () => {
    const send = () => postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', max_tokens: 5,
      messages: [{ role: 'user', content: 'x' }] }, { 'x-session-id': 'limit-session' });
    assert.equal((await send()).status, 200);
    assert.equal((await send()).status, 200);
    const denied = await send();
    assert.equal(denied.status, 429);
    const d = await gw.waitForLog((o) => o && o.type === 'decision' && o.request_id === denied.headers.get('x-request-id'));
    assert.equal(d.decision.filter, 'limits');
    assert.equal(d.decision.rule, 'two-rpm');
    assert.equal(d.session, 'limit-session');
    assert.ok(d.policy_version);
    const m = (await getText(`${gw.adminUrl}/metrics`)).text;
    assert.equal(metricValue(m, 'tollway_denials_total', { filter: 'limits', rule: 'two-rpm' }), 1);
    // access_log: stdout — one JSON line per request on stdout, the 429 with its decision.
    const lines = await waitFor(() => {
      const l = gw.stdout().split('\n').filter(Boolean).map((x) => JSON.parse(x));
      return l.length >= 3 ? l : null;
    });
    assert.deepEqual(lines.map((l) => l.status), [200, 200, 429]);
    assert.equal(lines[2].decision.rule, 'two-rpm');
  });
});

describe('error_type on the request duration: timeouts and callers that leave', () => {
  let mock; let gw;
  const durationsByErrorType = async () => {
    const m = (await getText(`${gw.adminUrl}/metrics`)).text;
    const out = {};
    for (const [, labels, n] of m.matchAll(/^gen_ai_server_request_duration_seconds_count\{([^}]*)\} (\S+)$/gm))
      out[/error_type="([^"]*)"/.exec(labels)?.[1] ?? 'none'] = Number(n);
    return out;
  };
  const stream = (scenario, signal) => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', signal,
    headers: { 'content-type': 'application/json', 'x-mock-scenario': scenario },
    body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }) });
  before(async () => {
    mock = await startMock();
    const cfg = testConfig({ openaiUrl: mock.url, over: { timeouts: { upstream_first_byte: '1s', upstream_total: '3s' } } });
    gw = await startGateway({ config: cfg });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  it('timeout for the gateway\'s 504 and for a stream past upstream_total; client_closed for a caller that leaves', async () => {
    const late = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', max_tokens: 4,
      messages: [{ role: 'user', content: 'x' }] }, { 'x-mock-scenario': 'slow-first-byte:2500' });
    assert.equal(late.status, 504);
    // The head arrives at once, then one event every 2.5 s: upstream_total (3 s) ends it mid-body, 2 s before the
    // next event (at 1.5 s apart, a three-event stream ends at 3 s too: a race a loaded machine lost).
    const slow = await stream('slow-stream:2500');
    assert.equal(slow.status, 200);
    await slow.text().catch(() => { /* cut by the gateway */ });
    // The caller reads the head and the first event, then leaves.
    const leaving = new AbortController();
    const left = await stream('slow-stream:400', leaving.signal);
    assert.equal(left.status, 200);
    const reader = left.body.getReader();
    await reader.read();
    leaving.abort();
    await reader.read().catch(() => {});
    const byType = await waitFor(async () => {
      const d = await durationsByErrorType();
      return d.client_closed ? d : null;
    }, { timeoutMs: 5000 });
    assert.deepEqual(byType, { timeout: 2, client_closed: 1 }, JSON.stringify(byType));
    // A call that ends normally adds a series without error_type.
    assert.equal((await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', max_tokens: 4,
      messages: [{ role: 'user', content: 'x' }] })).status, 200);
    // The log phase (which records the metrics) runs after the response is sent: wait for it.
    const after = await waitFor(async () => {
      const d = await durationsByErrorType();
      return d.none ? d : null;
    }, { timeoutMs: 5000 });
    assert.deepEqual(after, { timeout: 2, client_closed: 1, none: 1 });
  });
});
