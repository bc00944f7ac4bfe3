// Policies that depend on body fields see those fields whatever the Content-Type claims (issue 12, item 1): a
// virtual key or JWT issuer limited to gpt-4o-mini / max_tokens 64 cannot reach the provider with gpt-4o by
// calling the body octet-stream, multipart, text or nothing — the gateway answers 415, or reads the body as JSON
// and refuses it, and the mock provider receives nothing. A route declared `body: raw` forwards uploads unread to
// unrestricted callers and refuses restricted ones; `tollway validate` refuses an issuer policy that would need
// such a route's body, and limits count only requests there. Also: invalid JSON is 400 under a restricted key too, a JWT without `sub` is 401, an empty
// Bearer is a missing credential, and a token minted from an expired key says so.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as jose from 'jose';
import { startMock, startGateway, testConfig, postJson, runTollway, tempDir, removeTempDir, sleep,
  assertOpenAIError, assertAnthropicError } from '../../lib/harness.mjs';

const ADMIN = 'admin-token-body-0123456789abcdef';
const ISS = 'https://idp.body.test';
const SECRET = crypto.randomBytes(32);
const RESTRICTED = { models: ['gpt-4o-mini'], max_tokens: 64 };
const SMUGGLED = { model: 'gpt-4o', max_tokens: 100000 };
// The content types a caller may claim for a JSON body that should have been checked; null: no header at all.
const CONTENT_TYPES = ['application/octet-stream', 'multipart/form-data; boundary=x', 'text/plain', null];

describe('body-dependent policy whatever the content type', () => {
  let mock; let gw; let dir; let restrictedKey; let openKey;

  before(async () => {
    mock = await startMock();
    dir = tempDir('tollway-body-');
    const jwksFile = path.join(dir, 'jwks.json');
    fs.writeFileSync(jwksFile, JSON.stringify({ keys: [{ kty: 'oct', kid: 'k1', alg: 'HS256', k: SECRET.toString('base64url') }] }));
    const config = testConfig({
      openaiUrl: mock.url,
      over: {
        auth: {
          admin_token: ADMIN,
          virtual_keys: { store: ':memory:' },
          jwt: [{ issuer: ISS, jwks_file: jwksFile, allow: { routes: ['/v1/chat/*', '/v1/messages'], ...RESTRICTED } }],
        },
      },
    });
    config.routes.push({ prefix: '/v1/audio/', api: 'openai', provider: 'openai', body: 'raw' });
    gw = await startGateway({ config });
    const create = async (policy) => {
      const r = await fetch(`${gw.adminUrl}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` },
        body: JSON.stringify({ tenant: 'acme', ...policy }) });
      assert.equal(r.status, 201);
      return (await r.json()).key;
    };
    restrictedKey = await create(RESTRICTED);
    openKey = await create({});
  });
  after(async () => { await gw?.stop(); await mock?.close(); removeTempDir(dir); });

  const jwt = (claims = {}, { subject = 'agent-7', exp = '5m' } = {}) => {
    let t = new jose.SignJWT({ tenant: 'acme', ...claims }).setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(ISS).setIssuedAt().setExpirationTime(exp);
    if (subject) t = t.setSubject(subject);
    return t.sign(SECRET);
  };
  // A POST whose bytes are a JSON body, sent under the given content type (none when null).
  const send = async (p, body, contentType, headers) => {
    const h = { ...headers };
    if (contentType !== null) h['content-type'] = contentType;
    const bytes = typeof body === 'string' ? body : JSON.stringify(body);
    const r = await fetch(`${gw.url}${p}`, { method: 'POST', headers: h, body: new TextEncoder().encode(bytes) });
    const text = await r.text();
    return { status: r.status, text, json: text ? JSON.parse(text) : undefined, headers: r.headers };
  };
  const chatBody = (over = {}) => ({ messages: [{ role: 'user', content: 'hi' }], ...over });

  // Each case: the mock provider must receive nothing, and the caller gets 415 (a content type that is not JSON) or
  // the policy's 403 (no content type: the body is read as JSON).
  async function assertRefusedWhateverTheContentType(p, headers, assertError) {
    for (const type of CONTENT_TYPES) {
      const before = mock.requests.length;
      const r = await send(p, chatBody(SMUGGLED), type, headers);
      assert.equal(mock.requests.length, before, `${type}: the provider received the request`);
      if (type === null) {
        assert.equal(r.status, 403, r.text);
        assertError(r.json, 403, 'model_not_allowed');
        assert.match(r.text, /gpt-4o/);
      } else {
        assert.equal(r.status, 415, `${type}: ${r.text}`);
        assertError(r.json, 415, 'unsupported_media_type');
        assert.ok(r.text.includes(p), `the error names the route: ${r.text}`);
        assert.ok(r.text.includes(type.split(';')[0]), `the error names the content type: ${r.text}`);
        assert.match(r.text, /application\/json/);
      }
    }
  }
  const openaiError = (json, status, code) =>
    assertOpenAIError(json, { type: status === 403 ? 'permission_error' : 'invalid_request_error', code });
  const anthropicError = (json, status) =>
    assertAnthropicError(json, { type: status === 403 ? 'permission_error' : 'invalid_request_error' });

  it('a restricted virtual key on /v1/chat/completions', async () => {
    await assertRefusedWhateverTheContentType('/v1/chat/completions', { authorization: `Bearer ${restrictedKey}` },
      openaiError);
  });

  it('a restricted virtual key on /v1/messages with x-api-key', async () => {
    await assertRefusedWhateverTheContentType('/v1/messages',
      { 'x-api-key': restrictedKey, 'anthropic-version': '2023-06-01' }, anthropicError);
  });

  it("a JWT issuer's allow on /v1/chat/completions", async () => {
    await assertRefusedWhateverTheContentType('/v1/chat/completions', { authorization: `Bearer ${await jwt()}` },
      openaiError);
  });

  it('JSON content types pass: application/json with parameters, */*+json, and no header', async () => {
    for (const type of ['application/json; charset=utf-8', 'application/vnd.api+json', null]) {
      const before = mock.requests.length;
      const r = await send('/v1/chat/completions', chatBody({ model: 'gpt-4o-mini', max_tokens: 64 }), type,
        { authorization: `Bearer ${restrictedKey}` });
      assert.equal(r.status, 200, `${type}: ${r.text}`);
      assert.equal(mock.requests.length, before + 1);
      assert.equal(mock.requests.at(-1).json.model, 'gpt-4o-mini');
    }
  });

  it('a body that is not one JSON object is 400 for a restricted caller too, and nothing is forwarded', async () => {
    const before = mock.requests.length;
    const auth = { authorization: `Bearer ${restrictedKey}` };
    for (const bytes of ['{"model":"gpt-4o-mini","model":"gpt-4o","max_tokens":8,"messages":[]}',
      '{"model":"gpt-4o-mini","max_tokens":"8","messages":[]}', '{"model":"gpt-4o-mini","max_tokens":8.5}',
      '["gpt-4o"]', '{"model":"gpt-4o-mini"} trailing']) {
      const r = await send('/v1/chat/completions', bytes, 'application/json', auth);
      assert.equal(r.status, 400, `${bytes}: ${r.text}`);
      assertOpenAIError(r.json, { type: 'invalid_request_error', code: 'invalid_json' });
    }
    for (const headers of [auth, { authorization: `Bearer ${openKey}` }]) {
      const empty = await send('/v1/chat/completions', '', 'application/json', headers);
      assert.equal(empty.status, 400, empty.text);
      assertOpenAIError(empty.json, { code: 'invalid_json' });
      assert.match(empty.json.error.message, /POST \/v1\/chat\/completions needs a JSON object body/);
    }
    const anthropic = await send('/v1/messages', '', null, { 'x-api-key': restrictedKey, 'anthropic-version': '2023-06-01' });
    assert.equal(anthropic.status, 400, anthropic.text);
    assertAnthropicError(anthropic.json, { type: 'invalid_request_error' });
    assert.equal(mock.requests.length, before);
  });

  it('a raw route forwards uploads unread for an unrestricted caller, and refuses a restricted one', async () => {
    const upload = '--x\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt-4o\r\n' +
      '--x\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF....\r\n--x--\r\n';
    const before = mock.requests.length;
    const ok = await send('/v1/audio/transcriptions', upload, 'multipart/form-data; boundary=x',
      { authorization: `Bearer ${openKey}` });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.text, 'mock transcription');
    assert.equal(mock.requests.length, before + 1);
    const got = mock.requests.at(-1);
    assert.equal(got.bodyText, upload, 'the upload reaches the provider byte for byte');
    assert.equal(got.headers['content-type'], 'multipart/form-data; boundary=x');
    assert.equal(got.headers.authorization, 'Bearer sk-test-openai');

    const denied = await send('/v1/audio/transcriptions', upload, 'multipart/form-data; boundary=x',
      { authorization: `Bearer ${restrictedKey}` });
    assert.equal(denied.status, 403, denied.text);
    assertOpenAIError(denied.json, { type: 'permission_error', code: 'policy_needs_json_body' });
    assert.match(denied.json.error.message, /\/v1\/audio\/transcriptions/);
    assert.equal(mock.requests.length, before + 1, 'the restricted caller reached the provider');
  });

  it('a JWT without sub is 401 in the caller\'s format; a token with one passes', async () => {
    const before = mock.requests.length;
    const noSub = await jwt({}, { subject: null });
    const r = await send('/v1/chat/completions', chatBody({ model: 'gpt-4o-mini', max_tokens: 8 }), 'application/json',
      { authorization: `Bearer ${noSub}` });
    assert.equal(r.status, 401, r.text);
    assertOpenAIError(r.json, { type: 'authentication_error', code: 'invalid_credential' });
    assert.match(r.json.error.message, /subject \(claim "sub"\)/);
    assert.match(r.headers.get('www-authenticate'), /error_description="missing_subject"/);
    const a = await send('/v1/messages', { model: 'claude-3-5-haiku', max_tokens: 8, messages: [] }, 'application/json',
      { 'x-api-key': noSub, 'anthropic-version': '2023-06-01' });
    assert.equal(a.status, 401, a.text);
    assertAnthropicError(a.json, { type: 'authentication_error' });
    assert.equal(mock.requests.length, before);
    const withSub = await send('/v1/chat/completions', chatBody({ model: 'gpt-4o-mini', max_tokens: 8 }),
      'application/json', { authorization: `Bearer ${await jwt()}` });
    assert.equal(withSub.status, 200, withSub.text);
  });

  it('an empty Bearer is a missing credential', async () => {
    const r = await send('/v1/chat/completions', chatBody({ model: 'gpt-4o-mini' }), 'application/json',
      { authorization: 'Bearer ' });
    assert.equal(r.status, 401, r.text);
    assertOpenAIError(r.json, { code: 'missing_credential' });
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="tollway"');
  });

  it('a token minted from a key that has since expired says key_expired', async () => {
    const created = await fetch(`${gw.adminUrl}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ tenant: 'acme', expires_in: 2 }) });
    const key = (await created.json()).key;
    const token = (await postJson(`${gw.url}/v1/token`, {}, { authorization: `Bearer ${key}` })).json.access_token;
    assert.ok(token);
    await sleep(2100);
    const r = await send('/v1/chat/completions', chatBody({ model: 'gpt-4o-mini' }), 'application/json',
      { authorization: `Bearer ${token}` });
    assert.equal(r.status, 401, r.text);
    assert.match(r.headers.get('www-authenticate'), /error_description="key_expired"/);
    assert.match(r.json.error.message, /expired/);
  });
});

describe('limits on a raw route count requests only', () => {
  let mock; let gw;
  before(async () => {
    mock = await startMock();
    const config = testConfig({
      openaiUrl: mock.url,
      over: {
        limits: { rules: [{ name: 'tokens', unit: 'total_tokens', limit: 10, window: '1h' },
          { name: 'uploads', unit: 'requests', limit: 2, window: '1h' }] },
      },
    });
    config.routes.push({ prefix: '/v1/audio/', api: 'openai', provider: 'openai', body: 'raw' });
    gw = await startGateway({ config });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  it('a token rule does not count uploads (their tokens are unknown); a requests rule does', async () => {
    const chat = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', max_tokens: 64, messages: [] });
    assert.equal(chat.status, 429, chat.text);
    assert.match(chat.json.error.message, /"tokens"/);
    const before = mock.requests.length;
    const upload = () => fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST',
      headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(4096) });
    assert.equal((await upload()).status, 200);
    assert.equal((await upload()).status, 200);
    const third = await upload();
    assert.equal(third.status, 429);
    assert.match((await third.json()).error.message, /"uploads"/);
    assert.equal(mock.requests.length, before + 2);
  });
});

describe('tollway validate: no body-dependent policy on a raw route', () => {
  const dir = tempDir('tollway-body-validate-');
  after(() => removeTempDir(dir));
  const config = (allow) => `version: 1
providers:
  openai: {api: openai, base_url: "https://api.openai.com"}
routes:
  - path: /v1/chat/completions
    api: openai
    provider: openai
  - prefix: /v1/audio/
    api: openai
    provider: openai
    body: raw
auth:
  jwt:
    - issuer: https://idp.example
      jwks_file: jwks.json
      allow:
${allow}`;

  it('refuses an issuer limited to models whose callers may call the raw route, with file:line', async () => {
    const f = path.join(dir, 'raw.yaml');
    fs.writeFileSync(f, config('        models: [gpt-4o-mini]\n'));
    const r = await runTollway(['validate', f]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr,
      /raw\.yaml:17: auth\.jwt\[0\]\.allow: limits models or max_tokens, .*prefix \/v1\/audio\/ \(line 8\)/);
  });

  it('accepts it once the issuer\'s routes leave the raw route out', async () => {
    const f = path.join(dir, 'ok.yaml');
    fs.writeFileSync(f, config('        routes: ["/v1/chat/*"]\n        max_tokens: 64\n'));
    const r = await runTollway(['validate', f]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });
});
