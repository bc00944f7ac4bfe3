// Gemini and Azure OpenAI through the real gateway and the mock provider (tests/mock/recorded/gemini_*): a Gemini
// generateContent call, a streamGenerateContent?alt=sse stream and Azure OpenAI calls (deployment URL with
// api-version, and the /openai/v1 form) are charged exactly the usage the provider reported (spend API and
// metrics); the provider key is injected as x-goog-api-key / api-key and the caller's own key (header or `key=`
// query parameter) never reaches the provider; a key limited to one model is refused another Gemini model named
// in the URL, in Gemini's error envelope; the GenAI provider names are gcp.gemini and azure.ai.openai.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startMock, startGateway, testConfig, postJson, tempDir, metricValue } from '../../lib/harness.mjs';
import { recordedStream } from '../../mock/provider.mjs';

const ADMIN = 'admin-token-gemini-azure-0123456789';
const PRICES = {
  'gemini-2.0-flash': { input: 0.10, output: 0.40 },
  'gemini-2.5-flash': { input: 0.30, cached_input: 0.075, output: 2.50 },
  'gpt-4o': { input: 2.50, output: 10.00 },
  'gpt-4.1': { input: 2.00, output: 8.00 },
};
/** Micro-dollars of one call, rounded once half up (as the gateway prices). */
const cost = (model, input, output, cached = 0) => {
  const p = PRICES[model];
  return Math.round((input - cached) * p.input + cached * (p.cached_input ?? p.input) + output * p.output);
};

describe('Gemini and Azure OpenAI providers', () => {
  let mock; let gw; let dir; let key; let narrowKey;
  const admin = async (method, p, body) => {
    const r = await fetch(`${gw.adminUrl}${p}`, { method, headers: { authorization: `Bearer ${ADMIN}` },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let json; try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: r.status, text, json };
  };
  const lastRequest = () => mock.requests[mock.requests.length - 1];
  const gemini = (model, method, query, headers, body = { contents: [{ role: 'user', parts: [{ text: 'hello' }] }] }) =>
    fetch(`${gw.url}/v1beta/models/${model}:${method}${query}`, { method: 'POST',
      headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  before(async () => {
    mock = await startMock();
    dir = tempDir('tollway-gemini-azure-');
    const base = testConfig({ openaiUrl: mock.url });
    gw = await startGateway({
      config: testConfig({
        openaiUrl: mock.url,
        over: {
          providers: {
            gemini: { api: 'gemini', base_url: mock.url, api_key: 'gm-provider-key' },
            azure: { api: 'openai', base_url: mock.url, api_key: 'az-provider-key',
              azure: { api_version: '2024-10-21', deployments: { 'gpt-4o': 'prod-4o' } } },
            azurev1: { api: 'openai', base_url: `${mock.url}/res`, api_key: 'az1-provider-key',
              azure: { url_form: 'v1', deployments: { 'gpt-4.1': 'dep-41' } } },
          },
          models: { rules: [{ match: 'gemini-*', provider: 'gemini' }, { match: 'gpt-4o', provider: 'azure' },
            { match: 'gpt-4.1', provider: 'azurev1' }, ...base.models], aliases: { smartest: ['gpt-4.1'] } },
          routes: [{ prefix: '/v1beta/models/', api: 'gemini', provider: 'gemini' }, ...base.routes],
          auth: { admin_token: ADMIN, virtual_keys: { store: path.join(dir, 'keys.db') } },
          limits: { spend_log: { path: path.join(dir, 'spend.db'), flush_interval: '20ms' } },
          pricing: { models: Object.entries(PRICES).map(([match, p]) => ({ match,
            ...Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)])) })) },
        },
      }),
    });
    key = (await admin('POST', '/admin/keys', { tenant: 'acme' })).json.key;
    narrowKey = (await admin('POST', '/admin/keys', { tenant: 'acme', models: ['gemini-2.0-flash'] })).json.key;
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  const start = Math.floor(Date.now() / 1000);
  const expected = {};  // model -> {requests, input, output, cost}
  const charge = (model, input, output, cached = 0) => {
    const e = expected[model] ??= { requests: 0, input: 0, output: 0, cost: 0 };
    e.requests += 1; e.input += input; e.output += output; e.cost += cost(model, input, output, cached);
  };

  it('Gemini generateContent: the provider key injected, the caller key and key= stripped', async () => {
    const r = await gemini('gemini-2.0-flash', 'generateContent', '?key=caller-query-secret', { 'x-goog-api-key': key });
    const body = await r.json();
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.deepEqual(body.usageMetadata.promptTokenCount, 9);
    const up = lastRequest();
    assert.equal(up.url, '/v1beta/models/gemini-2.0-flash:generateContent');
    assert.equal(up.headers['x-goog-api-key'], 'gm-provider-key');
    assert.ok(!up.rawHeaders.join('\n').includes(key) && !up.url.includes('secret'));
    charge('gemini-2.0-flash', 9, 12);
  });

  it('Gemini streamGenerateContent?alt=sse: the recorded stream byte for byte', async () => {
    const r = await gemini('gemini-2.5-flash', 'streamGenerateContent', '?alt=sse&key=caller-query-secret',
      { authorization: `Bearer ${key}` });
    const bytes = Buffer.from(await r.arrayBuffer());
    assert.equal(r.status, 200);
    assert.deepEqual(bytes, recordedStream('gemini_stream_generate_content'));
    assert.equal(lastRequest().url, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    assert.equal(lastRequest().headers.authorization, undefined);
    charge('gemini-2.5-flash', 1204, 41 + 161, 1024);
  });

  it('Azure deployment URL: api-version added, api-key injected, usage charged', async () => {
    const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o', max_tokens: 6,
      messages: [{ role: 'user', content: 'one two three' }] }, { authorization: `Bearer ${key}` });
    assert.equal(r.status, 200, r.text);
    const up = lastRequest();
    assert.equal(up.url, '/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21');
    assert.equal(up.headers['api-key'], 'az-provider-key');
    assert.equal(up.headers.authorization, undefined);
    assert.equal(up.json.model, 'gpt-4o');
    charge('gpt-4o', r.json.usage.prompt_tokens, r.json.usage.completion_tokens);
  });

  it('Azure behind translation: an Anthropic Messages request reaches the deployment URL', async () => {
    const r = await postJson(`${gw.url}/v1/messages`, { model: 'gpt-4o', max_tokens: 5,
      messages: [{ role: 'user', content: 'seven eight' }] }, { 'x-api-key': key, 'anthropic-version': '2023-06-01' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.type, 'message');
    assert.equal(lastRequest().url, '/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21');
    charge('gpt-4o', r.json.usage.input_tokens, r.json.usage.output_tokens);
  });

  it('Azure /openai/v1 form: the body names the deployment', async () => {
    const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4.1', max_tokens: 4,
      messages: [{ role: 'user', content: 'four five' }] }, { authorization: `Bearer ${key}` });
    assert.equal(r.status, 200, r.text);
    const up = lastRequest();
    assert.equal(up.url, '/res/openai/v1/chat/completions');
    assert.equal(up.json.model, 'dep-41');
    assert.equal(up.headers['api-key'], 'az1-provider-key');
    charge('gpt-4.1', r.json.usage.prompt_tokens, r.json.usage.completion_tokens);
  });

  it('Azure /openai/v1 form behind an alias: the alias becomes the deployment, every other byte intact', async () => {
    const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'smartest', max_tokens: 4,
      messages: [{ role: 'user', content: 'six seven' }], user: 'u-1' }, { authorization: `Bearer ${key}` });
    assert.equal(r.status, 200, r.text);
    const up = lastRequest();
    assert.equal(up.url, '/res/openai/v1/chat/completions');
    assert.deepEqual(up.json, { model: 'dep-41', max_tokens: 4, messages: [{ role: 'user', content: 'six seven' }], user: 'u-1' });
    charge('gpt-4.1', r.json.usage.prompt_tokens, r.json.usage.completion_tokens);
  });

  it('the URL model is the request model: a key limited to one model is refused another, in Gemini\'s envelope', async () => {
    const before = mock.requests.length;
    const refused = await gemini('gemini-2.5-flash', 'generateContent', '', { 'x-goog-api-key': narrowKey });
    const body = await refused.json();
    assert.equal(refused.status, 403);
    assert.equal(body.error.code, 403);
    assert.equal(body.error.status, 'PERMISSION_DENIED');
    assert.match(body.error.message, /gemini-2\.5-flash/);
    assert.equal(mock.requests.length, before);
    const allowed = await gemini('gemini-2.0-flash', 'generateContent', '', { 'x-goog-api-key': narrowKey });
    assert.equal(allowed.status, 200);
    charge('gemini-2.0-flash', 9, 12);
    // A body naming another model than the path is ambiguous: refused before any policy or provider.
    const conflicting = await gemini('gemini-2.0-flash', 'generateContent', '', { 'x-goog-api-key': key },
      { model: 'gemini-2.5-flash', contents: [] });
    const conflictBody = await conflicting.json();
    assert.equal(conflicting.status, 400);
    assert.equal(conflictBody.error.status, 'INVALID_ARGUMENT');
  });

  it('charged exactly the reported usage: spend API per model, metrics per provider name', async () => {
    const to = Math.floor(Date.now() / 1000) + 1;
    const calls = Object.values(expected).reduce((n, e) => n + e.requests, 0);
    assert.equal(calls, 7);
    let report;
    for (let i = 0; i < 50; i++) {  // the spend log is flushed every 20 ms
      report = await admin('GET', `/admin/spend?group_by=model&from=${start}&to=${to}`);
      if (report.json?.total?.requests === calls) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(report.status, 200, report.text);
    assert.equal(report.json.groups.length, Object.keys(expected).length, report.text);
    for (const g of report.json.groups) {
      const e = expected[g.model];
      assert.ok(e, `unexpected model ${g.model}`);
      assert.deepEqual([g.requests, g.input_tokens, g.output_tokens, g.cost_micro_usd], [e.requests, e.input, e.output, e.cost],
        g.model);
    }
    const metrics = (await admin('GET', '/metrics')).text;
    const tokens = (provider, type) => metricValue(metrics, 'gen_ai_client_token_usage_sum',
      { gen_ai_provider_name: provider, gen_ai_token_type: type });
    assert.equal(tokens('gcp.gemini', 'input'), 9 + 1204 + 9);
    assert.equal(tokens('gcp.gemini', 'output'), 12 + 202 + 12);
    assert.equal(tokens('azure.ai.openai', 'input'), expected['gpt-4o'].input + expected['gpt-4.1'].input);
    assert.match(metrics, /gen_ai_operation_name="generate_content"/);
  });
});
