// Virtual keys end to end: the admin API (admin token required), keys bound to tenant / agent / routes /
// models / max_tokens (403 in the caller's format naming what is not allowed), revocation seen by the next
// request on every worker, rotation with a grace period, persistence across a restart, token exchange
// (POST /v1/token -> short-lived JWT verifiable with /.well-known/jwks.json, dead once its key is revoked), and
// no secret in logs, /metrics or error bodies.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as jose from 'jose';
import { startMock, startGateway, testConfig, postJson, getText, tempDir, assertOpenAIError,
  assertAnthropicError, sleep, rawRequest, httpBytes } from '../../lib/harness.mjs';

const ADMIN = 'admin-token-keys-0123456789abcdef';

describe('virtual keys', () => {
  let mock; let gw; let dir; let storePath;
  const errorBodies = [];
  const config = () => testConfig({
    openaiUrl: mock.url,
    over: { auth: { admin_token: ADMIN, virtual_keys: { store: storePath }, token_exchange: { ttl: '10m' } } },
  });
  const admin = async (method, p, body) => {
    const r = await fetch(`${gw.adminUrl}${p}`, { method, headers: { authorization: `Bearer ${ADMIN}` },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    return { status: r.status, text, json: text ? JSON.parse(text) : undefined };
  };
  // Each request on a fresh connection, so SO_REUSEPORT spreads them over the workers.
  const chat = async (key, body = {}, headers = {}) => {
    const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }], ...body }, { authorization: `Bearer ${key}`, connection: 'close', ...headers });
    if (r.status >= 400) errorBodies.push(r.text);
    return r;
  };

  before(async () => {
    mock = await startMock();
    dir = tempDir('tollway-keys-');
    storePath = path.join(dir, 'keys.db');
    gw = await startGateway({ workers: 4, config: config() });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  it('the admin API needs the admin token', async () => {
    const r = await fetch(`${gw.adminUrl}/admin/keys`);
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate'), /Bearer/);
    const wrong = await fetch(`${gw.adminUrl}/admin/keys`, { headers: { authorization: 'Bearer not-the-admin-token' } });
    assert.equal(wrong.status, 401);
    assert.equal((await admin('POST', '/admin/keys', { agent: 'no-tenant' })).status, 400);
  });

  it('the admin API reads chunked request bodies, split anywhere, and keeps the connection', async () => {
    const json = JSON.stringify({ name: 'chunked', tenant: 'acme' });
    const head = httpBytes('POST', '/admin/keys', { authorization: `Bearer ${ADMIN}`, 'transfer-encoding': 'chunked',
      'content-type': 'application/json' });
    const chunked = `5;ext=1\r\n${json.slice(0, 5)}\r\n${(json.length - 5).toString(16)}\r\n${json.slice(5)}\r\n` +
      '0\r\nx-trailer: ignored\r\n\r\n';
    const list = httpBytes('GET', '/admin/keys', { authorization: `Bearer ${ADMIN}` });
    // The head, the body in pieces that cut a chunk size and its data, then a second request on the connection.
    const r = await rawRequest(gw.adminPort, [head, chunked.slice(0, 3), chunked.slice(3, 20), chunked.slice(20), list],
      { gapMs: 20, untilResponses: 2 });
    assert.equal(r.responses.length, 2, r.text);
    assert.equal(r.responses[0].status, 201, r.text);
    assert.equal(JSON.parse(r.responses[0].body.toString()).name, 'chunked');
    assert.equal(r.responses[1].status, 200, r.text);
    assert.match(r.responses[1].body.toString(), /"chunked"/);
    const malformed = await rawRequest(gw.adminPort, [head, 'zz\r\n{}\r\n0\r\n\r\n']);
    assert.equal(malformed.responses[0]?.status, 400, malformed.text);
    assert.match(malformed.responses[0].body.toString(), /chunk size must start with a hex digit/);
  });

  it('a key works for what it allows and gets 403 naming the rest', async () => {
    const created = await admin('POST', '/admin/keys', { name: 'bot', tenant: 'acme', agent: 'bot-1', agent_group: 'ops',
      routes: ['/v1/chat/*', '/v1/messages'], models: ['gpt-4o*', 'claude-*'], max_tokens: 100 });
    assert.equal(created.status, 201, created.text);
    const key = created.json.key;
    assert.match(key, /^tw-[A-Za-z0-9_-]{43}$/);
    const before = mock.requests.length;
    assert.equal((await chat(key)).status, 200);
    assert.equal(mock.requests.at(-1).headers.authorization, 'Bearer sk-test-openai');
    assert.ok(!JSON.stringify(mock.requests.at(-1).headers).includes(key), 'the virtual key never reaches the provider');
    const model = await chat(key, { model: 'gpt-3.5-turbo' });
    assert.equal(model.status, 403);
    assertOpenAIError(model.json, { code: 'model_not_allowed' });
    assert.match(model.json.error.message, /gpt-3\.5-turbo/);
    const cap = await chat(key, { max_tokens: 101 });
    assert.equal(cap.status, 403);
    assertOpenAIError(cap.json, { code: 'max_tokens_exceeded' });
    const noCap = await chat(key, { max_tokens: undefined });
    assertOpenAIError(noCap.json, { code: 'max_tokens_required' });
    const route = await postJson(`${gw.url}/v1/embeddings`, { model: 'gpt-4o', input: 'x' }, { authorization: `Bearer ${key}` });
    assert.equal(route.status, 403);
    assertOpenAIError(route.json, { code: 'route_not_allowed' });
    const tenant = await chat(key, {}, { 'x-tollway-tenant': 'other' });
    assertOpenAIError(tenant.json, { code: 'tenant_mismatch' });
    const anthropic = await postJson(`${gw.url}/v1/messages`, { model: 'claude-3-5-haiku', max_tokens: 500, messages: [] },
      { 'x-api-key': key, 'anthropic-version': '2023-06-01' });
    assert.equal(anthropic.status, 403);
    assertAnthropicError(anthropic.json, { type: 'permission_error' });
    assert.equal(mock.requests.length, before + 1, 'denied requests never reach the provider');
    const viaHeader = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o', max_tokens: 5, messages: [] },
      { 'api-key': key });
    assert.equal(viaHeader.status, 200);
  });

  it('revocation: the next request is 401 on every worker', async () => {
    const { json: k } = await admin('POST', '/admin/keys', { tenant: 'acme' });
    for (let i = 0; i < 12; i++) assert.equal((await chat(k.key)).status, 200);
    const revoked = await admin('DELETE', `/admin/keys/${k.id}`);
    assert.equal(revoked.status, 200);
    assert.ok(revoked.json.revoked_at > 0);
    const results = await Promise.all(Array.from({ length: 24 }, () => chat(k.key)));
    assert.deepEqual(results.map((r) => r.status), Array(24).fill(401));
    assertOpenAIError(results[0].json, { code: 'invalid_credential' });
  });

  it('rotation: old and new key both work during the grace period, then only the new one', async () => {
    const { json: k } = await admin('POST', '/admin/keys', { tenant: 'acme' });
    const rotated = await admin('POST', `/admin/keys/${k.id}/rotate`, { grace: 2 });
    assert.equal(rotated.status, 200, rotated.text);
    assert.notEqual(rotated.json.key, k.key);
    assert.equal((await chat(k.key)).status, 200);
    assert.equal((await chat(rotated.json.key)).status, 200);
    await sleep(2200);
    assert.equal((await chat(k.key)).status, 401);
    assert.equal((await chat(rotated.json.key)).status, 200);
  });

  it('token exchange: a short-lived JWT for a virtual key, verifiable with the published JWKS', async () => {
    const { json: k } = await admin('POST', '/admin/keys', { tenant: 'acme', agent: 'agent-x', models: ['gpt-4o*'] });
    const t = await postJson(`${gw.url}/v1/token`, {}, { authorization: `Bearer ${k.key}` });
    assert.equal(t.status, 200, t.text);
    assert.equal(t.json.token_type, 'Bearer');
    assert.equal(t.json.expires_in, 600);
    const jwks = jose.createLocalJWKSet(JSON.parse((await getText(`${gw.url}/.well-known/jwks.json`)).text));
    const { payload, protectedHeader } = await jose.jwtVerify(t.json.access_token, jwks, { issuer: 'tollway', audience: 'tollway' });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.tenant, 'acme');
    assert.equal(payload.agent, 'agent-x');
    assert.ok(payload.exp - payload.iat === 600);
    assert.equal((await chat(t.json.access_token)).status, 200);
    assert.equal((await chat(t.json.access_token, { model: 'gpt-3.5-turbo' })).status, 403, 'the key policy applies');
    assert.equal((await postJson(`${gw.url}/v1/token`, {}, { authorization: 'Bearer tw-not-a-key' })).status, 401);
    await admin('POST', `/admin/keys/${k.id}/revoke`);
    assert.equal((await chat(t.json.access_token)).status, 401, 'a token dies with the key it was issued for');
  });

  it('keys survive a restart (SQLite)', async () => {
    const { json: k } = await admin('POST', '/admin/keys', { tenant: 'persist' });
    const listed = await admin('GET', '/admin/keys?tenant=persist');
    assert.equal(listed.json.keys.length, 1);
    assert.ok(!listed.text.includes(k.key), 'listings never show the secret');
    await gw.stop();
    gw = await startGateway({ workers: 2, config: config() });
    assert.equal((await chat(k.key)).status, 200);
  });

  it('no secret appears in logs, /metrics or error bodies', async () => {
    const { json: k } = await admin('POST', '/admin/keys', { tenant: 'acme', models: ['gpt-4o*'] });
    const t = (await postJson(`${gw.url}/v1/token`, {}, { 'x-api-key': k.key })).json.access_token;
    await chat(k.key);
    await chat(k.key, { model: 'nope' });
    await chat(t, { model: 'nope' });
    await chat(`${k.key}x`);
    await chat(`${t}x`);
    await admin('DELETE', `/admin/keys/${k.id}`);
    await chat(k.key);
    const metrics = (await getText(`${gw.adminUrl}/metrics`)).text;
    assert.ok(metrics.includes('tollway_auth_requests_total'));
    const haystacks = { logs: gw.stderrLines.join('\n'), metrics, errors: errorBodies.join('\n') };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const secret of [k.key, k.key.slice(3), t, ADMIN, 'sk-test-openai']) {
        assert.ok(!text.includes(secret), `a secret appears in ${where}`);
      }
    }
  });
});
