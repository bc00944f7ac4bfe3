// Money through the real gateway: a model without a price under a USD budget is refused (pricing.unpriced: deny,
// the default) and admitted with `unpriced: allow`; `tollway validate` warns (file:line) for routed models
// without a price; a fallback to another model settles, and after a restart replays, the counters admit reserved
// (the original model's); the 429 of a request without max_tokens names where its reservation came from; a
// malformed JSON body's 400 names the byte, line and column.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startMock, startGateway, testConfig, postJson, getText, metricValue, assertOpenAIError, tempDir, removeTempDir,
  runTollway, toYaml,
} from '../../lib/harness.mjs';

const chat = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra });
const PRICES = { models: [{ match: 'gpt-4o-mini*', input: '0.15', output: '0.60', max_output_tokens: 16384 }] };

describe('money: unpriced models under a USD budget', () => {
  let mock; let deny; let allow;
  const config = (pricing) => testConfig({ openaiUrl: mock.url, over: {
    pricing,
    limits: { budgets: [{ name: 'usd-day', unit: 'cost_usd', limit: '10.00', period: 'day' }] },
  } });
  before(async () => {
    mock = await startMock();
    deny = await startGateway({ config: config(PRICES) });
    allow = await startGateway({ config: config({ ...PRICES, unpriced: 'allow' }) });
  });
  after(async () => { await deny?.stop(); await allow?.stop(); await mock?.close(); });

  it('refuses a model without a price, naming the model and the price table, and counts it', async () => {
    const before = mock.requests.length;
    const r = await postJson(`${deny.url}/v1/chat/completions`, chat('gpt-4.1', { max_tokens: 5 }));
    assert.equal(r.status, 403, r.text);
    assertOpenAIError(r.json, { code: 'model_not_priced' });
    assert.match(r.json.error.message, /Model "gpt-4\.1" has no price in the gateway config's pricing\.models/);
    assert.equal(mock.requests.length, before, 'nothing forwarded');
    const m = (await getText(`${deny.adminUrl}/metrics`)).text;
    assert.equal(metricValue(m, 'tollway_limits_unpriced_model_total', { action: 'denied' }), 1);
    // A priced model passes.
    assert.equal((await postJson(`${deny.url}/v1/chat/completions`, chat('gpt-4o-mini', { max_tokens: 5 }))).status, 200);
  });

  it('admits it with pricing.unpriced: allow', async () => {
    const r = await postJson(`${allow.url}/v1/chat/completions`, chat('gpt-4.1', { max_tokens: 5 }));
    assert.equal(r.status, 200, r.text);
    const m = (await getText(`${allow.adminUrl}/metrics`)).text;
    assert.equal(metricValue(m, 'tollway_limits_unpriced_model_total', { action: 'allowed' }), 1);
  });
});

describe('money: tollway validate warns for routed models without a price', () => {
  const dir = tempDir('tollway-money-validate-');
  after(() => removeTempDir(dir));
  it('prints FILE:LINE warnings on stderr and still exits 0', async () => {
    const file = path.join(dir, 'gateway.yaml');
    fs.writeFileSync(file, `version: 1
providers:
  openai: {api: openai, base_url: "https://api.openai.com"}
models:
  - {match: gpt-4o-mini, provider: openai}
  - {match: gpt-4.1, provider: openai}
routes:
  - {path: /v1/chat/completions, api: openai, provider: openai}
pricing:
  models:
    - {match: "gpt-4o-mini*", input: "0.15", output: "0.60"}
`);
    const r = await runTollway(['validate', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`warning: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6: models\\[1\\]\\.match: model "gpt-4\\.1" has no price`));
    assert.doesNotMatch(r.stderr, /"gpt-4o-mini" has no price/);
  });
});

describe('money: a fallback settles, and a restart replays, the counters admit reserved', () => {
  let mock; let gw; let dir;
  const config = () => testConfig({ openaiUrl: mock.url, over: {
    limits: {
      spend_log: { path: path.join(dir, 'spend.db'), flush_interval: '10ms' },
      budgets: [{ name: 'mini-day', match: { model: 'gpt-4o-mini' }, unit: 'requests', limit: 1, period: 'day' }],
    },
    routes: [{ path: '/v1/chat/completions', api: 'openai', provider: 'openai', retries: { attempts: 0 },
      fallback: [{ provider: 'openai', model: 'gpt-4o' }] }],
  } });
  before(async () => {
    dir = tempDir('tollway-money-fallback-');
    mock = await startMock();
    gw = await startGateway({ config: config() });
  });
  after(async () => { await gw?.stop(); await mock?.close(); removeTempDir(dir); });

  it('charges model A for a call served by model B, also after a restart', async () => {
    mock.failNext(1, 500);
    const first = await postJson(`${gw.url}/v1/chat/completions`, chat('gpt-4o-mini', { max_tokens: 5 }));
    assert.equal(first.status, 200, first.text);
    assert.equal(JSON.parse(mock.requests.at(-1).body).model, 'gpt-4o', 'served by the fallback model');
    const again = await postJson(`${gw.url}/v1/chat/completions`, chat('gpt-4o-mini', { max_tokens: 5 }));
    assert.equal(again.status, 429, again.text);
    await gw.stop();
    gw = await startGateway({ config: config() });
    const afterRestart = await postJson(`${gw.url}/v1/chat/completions`, chat('gpt-4o-mini', { max_tokens: 5 }));
    assert.equal(afterRestart.status, 429, afterRestart.text);
    assertOpenAIError(afterRestart.json, { code: 'budget_exceeded' });
    assert.match(afterRestart.json.error.message, /mini-day/);
    // Model B's own traffic was never charged to A's budget, nor A's to B.
    assert.equal((await postJson(`${gw.url}/v1/chat/completions`, chat('gpt-4o', { max_tokens: 5 }))).status, 200);
  });
});

describe('money: the reservation of a request without max_tokens', () => {
  let mock; let gw;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url, over: {
      pricing: PRICES,
      limits: { default_max_tokens: 4096, budgets: [{ name: 'tokens-day', unit: 'total_tokens', limit: 10000, period: 'day' }] },
    } }) });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  it("comes from the model's max_output_tokens, else limits.default_max_tokens, and the 429 says which", async () => {
    const priced = await postJson(`${gw.url}/v1/chat/completions`, chat('gpt-4o-mini'));
    assert.equal(priced.status, 429, priced.text);
    assert.match(priced.json.error.message, /sets no max_tokens, so 16384 output tokens were reserved \(the max_output_tokens of "gpt-4o-mini"/);
    const other = await postJson(`${gw.url}/v1/chat/completions`, chat('gpt-4.1', { messages: [{ role: 'user', content: Array.from({ length: 3000 }, (_, i) => `w${i}`).join(' ') }] }));
    assert.equal(other.status, 429, other.text);
    assert.match(other.json.error.message, /4096 output tokens were reserved \(limits\.default_max_tokens\)/);
  });

  it("a malformed JSON body's 400 names byte, line and column", async () => {
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: '{"model": "gpt-4o-mini",\n "messages": [}' });
    assert.equal(r.status, 400);
    const json = await r.json();
    assertOpenAIError(json, { code: 'invalid_json' });
    assert.match(json.error.message, /at byte 39 \(line 2, column 15\): expected a JSON value/);
  });
});
