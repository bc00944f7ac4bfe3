// The model catalogue through the real gateway: GET /v1/models and /v1/models/{id} answered from the config (model
// rules naming one model, aliases, fallback models, with their provider), per virtual key policy, in OpenAI's
// format or Anthropic's (anthropic-version / x-api-key), also through the official `openai` and
// `@anthropic-ai/sdk` clients' models.list(); an alias routes to its first model and falls back to the next.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startMock, startGateway, testConfig, postJson } from '../../lib/harness.mjs';

const ADMIN = 'catalogue-admin-token-0123456789';

describe('model catalogue and aliases', () => {
  let mock; let gw; let restricted; let open;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url, over: {
      models: {
        rules: [
          { match: 'gpt-4o-mini', provider: 'openai' },
          { match: 'claude-3-5-haiku', provider: 'anthropic' },
          { match: 'gpt-*', provider: 'openai' },
          { match: 'claude-*', provider: 'anthropic' },
        ],
        aliases: { fast: ['gpt-4o-mini', 'claude-3-5-haiku'] },
      },
      routes: [
        { path: '/v1/chat/completions', api: 'openai', provider: 'openai', retries: { attempts: 0 } },
        { path: '/v1/messages', api: 'anthropic', provider: 'anthropic' },
        { prefix: '/v1/models', api: 'openai', provider: 'openai' },
      ],
      auth: { admin_token: ADMIN, virtual_keys: { store: ':memory:' } },
    } }) });
    const admin = async (body) => {
      const r = await fetch(`${gw.adminUrl}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` },
        body: JSON.stringify(body) });
      assert.equal(r.status, 201);
      return (await r.json()).key;
    };
    restricted = await admin({ tenant: 'acme', agent: 'cheap', models: ['gpt-*'] });
    open = await admin({ tenant: 'acme', agent: 'all' });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  const list = async (headers) => {
    const r = await fetch(`${gw.url}/v1/models`, { headers });
    assert.equal(r.status, 200);
    return r.json();
  };

  it('lists configured models and aliases in OpenAI format, filtered by the key', async () => {
    const before = mock.requests.length;
    const all = await list({ authorization: `Bearer ${open}` });
    assert.equal(all.object, 'list');
    assert.deepEqual(all.data.map((m) => [m.id, m.owned_by]),
      [['gpt-4o-mini', 'openai'], ['claude-3-5-haiku', 'anthropic'], ['fast', 'openai']]);
    assert.equal(all.data[0].object, 'model');
    const some = await list({ authorization: `Bearer ${restricted}` });
    assert.deepEqual(some.data.map((m) => m.id), ['gpt-4o-mini']);
    assert.equal(mock.requests.length, before, 'never asks a provider');
    const hidden = await fetch(`${gw.url}/v1/models/claude-3-5-haiku`, { headers: { authorization: `Bearer ${restricted}` } });
    assert.equal(hidden.status, 404);
    assert.equal((await hidden.json()).error.code, 'model_not_found');
    const one = await fetch(`${gw.url}/v1/models/fast`, { headers: { authorization: `Bearer ${open}` } });
    assert.deepEqual(await one.json(), { id: 'fast', object: 'model', created: 0, owned_by: 'openai' });
    assert.equal((await fetch(`${gw.url}/v1/models`)).status, 401, 'the catalogue needs a credential when auth is on');
  });

  it("answers in Anthropic's format to a caller that speaks Anthropic's API", async () => {
    const body = await list({ 'x-api-key': open, 'anthropic-version': '2023-06-01' });
    assert.deepEqual(body.data.map((m) => m.type), ['model', 'model', 'model']);
    assert.equal(body.data[1].id, 'claude-3-5-haiku');
    assert.equal(body.data[1].display_name, 'claude-3-5-haiku');
    assert.equal(typeof body.data[1].created_at, 'string');
    assert.equal(body.has_more, false);
    assert.equal(body.first_id, 'gpt-4o-mini');
    assert.equal(body.last_id, 'fast');
  });

  it("the official SDKs' models.list() see the key's models", async () => {
    const openai = new OpenAI({ apiKey: restricted, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const ids = [];
    for await (const m of openai.models.list()) ids.push(m.id);
    assert.deepEqual(ids, ['gpt-4o-mini']);
    const anthropic = new Anthropic({ apiKey: open, baseURL: gw.url, maxRetries: 0 });
    const seen = [];
    for await (const m of anthropic.models.list()) seen.push([m.id, m.type]);
    assert.deepEqual(seen, [['gpt-4o-mini', 'model'], ['claude-3-5-haiku', 'model'], ['fast', 'model']]);
  });

  it('an alias routes to its first model and falls back to the next', async () => {
    const chat = { model: 'fast', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] };
    let r = await postJson(`${gw.url}/v1/chat/completions`, chat, { authorization: `Bearer ${open}` });
    assert.equal(r.status, 200, r.text);
    assert.equal(mock.requests.at(-1).url, '/v1/chat/completions');
    assert.equal(JSON.parse(mock.requests.at(-1).body).model, 'gpt-4o-mini');
    mock.failNext(1, 500);
    r = await postJson(`${gw.url}/v1/chat/completions`, chat, { authorization: `Bearer ${open}` });
    assert.equal(r.status, 200, r.text);
    assert.equal(mock.requests.at(-1).url, '/v1/messages', 'the second model, translated to its provider');
    assert.equal(JSON.parse(mock.requests.at(-1).body).model, 'claude-3-5-haiku');
  });
});
