// JWT bearer tokens minted with npm jose against a JWKS served over HTTP: every supported algorithm family is
// accepted; every attack (alg none, HS256 keyed with the RSA public key, jku / x5u / jwk headers, unknown crit,
// duplicate JSON keys, malformed base64url, oversized) and every claim failure (expired, not yet valid, wrong aud,
// wrong iss, unknown kid) gets 401 in the caller's format and the mock provider receives nothing. An unknown kid
// causes one JWKS refresh, so a key published after start is picked up.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import * as jose from 'jose';
import { startMock, startGateway, testConfig, postJson, getText, metricValue, assertOpenAIError,
  assertAnthropicError } from '../../lib/harness.mjs';

const b64u = (x) => Buffer.from(x).toString('base64url');
const ISS = 'https://idp.test';
const AUD = 'tollway-test';

describe('JWT authentication', () => {
  let mock; let gw; let jwksServer; let jwksUrl; let jwksFetches = 0;
  const keys = {};
  let published = [];

  before(async () => {
    mock = await startMock();
    for (const [name, alg, opts] of [['rsa', 'RS256', { modulusLength: 2048 }], ['pss', 'PS384', { modulusLength: 2048 }],
      ['ec', 'ES256', {}], ['ec384', 'ES384', {}], ['ec521', 'ES512', {}], ['ed', 'EdDSA', { crv: 'Ed25519' }]]) {
      const pair = await jose.generateKeyPair(alg, { ...opts, extractable: true });
      const jwk = { ...(await jose.exportJWK(pair.publicKey)), kid: name, alg, use: 'sig' };
      keys[name] = { ...pair, alg, jwk };
      published.push(jwk);
    }
    keys.hmac = { secret: crypto.randomBytes(64), alg: 'HS512' };  // RFC 7518 §3.2: at least the hash size
    published.push({ kty: 'oct', kid: 'hmac', alg: 'HS512', k: b64u(keys.hmac.secret) });
    const late = await jose.generateKeyPair('ES256', { extractable: true });
    keys.late = { ...late, alg: 'ES256', jwk: { ...(await jose.exportJWK(late.publicKey)), kid: 'late', alg: 'ES256' } };
    jwksServer = http.createServer((req, res) => {
      jwksFetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise((r) => jwksServer.listen(0, '127.0.0.1', r));
    jwksUrl = `http://127.0.0.1:${jwksServer.address().port}/jwks.json`;
    gw = await startGateway({
      workers: 2,
      config: testConfig({
        openaiUrl: mock.url,
        over: {
          auth: {
            admin_token: 'admin-token-jwt-0123456789',
            virtual_keys: { store: ':memory:' },
            clock_skew: '30s',
            jwt: [{ issuer: ISS, audiences: [AUD], jwks_url: jwksUrl, jwks_refresh: '1h',
              claims: { tenant: 'org', agent: 'sub', group: 'team' } }],
          },
        },
      }),
    });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
    await new Promise((r) => jwksServer?.close(r));
  });

  async function mint(name, { claims = {}, header = {}, exp = '5m', iss = ISS, aud = AUD, nbf, iat } = {}) {
    const k = keys[name];
    let jwt = new jose.SignJWT({ org: 'acme', team: 'research', ...claims })
      .setProtectedHeader({ alg: k.alg, kid: name, ...header }).setSubject('agent-7');
    if (iss) jwt = jwt.setIssuer(iss);
    if (aud) jwt = jwt.setAudience(aud);
    if (exp !== null) jwt = jwt.setExpirationTime(exp);
    jwt = iat !== undefined ? jwt.setIssuedAt(iat) : jwt.setIssuedAt();
    if (nbf !== undefined) jwt = jwt.setNotBefore(nbf);
    return jwt.sign(name === 'hmac' ? k.secret : k.privateKey);
  }

  // A compact JWS built by hand (for shapes jose refuses to produce), signed with the RSA key.
  function rs256Raw(headerJson, claimsJson) {
    const input = `${b64u(headerJson)}.${b64u(claimsJson)}`;
    const sig = crypto.sign('sha256', Buffer.from(input), crypto.KeyObject.from(keys.rsa.privateKey));
    return `${input}.${b64u(sig)}`;
  }
  const now = () => Math.floor(Date.now() / 1000);
  const goodClaims = () => JSON.stringify({ iss: ISS, aud: AUD, sub: 'a', org: 'acme', exp: now() + 300 });

  const chat = (token, extra = {}) => postJson(`${gw.url}/v1/chat/completions`,
    { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, token ? { authorization: `Bearer ${token}`, ...extra } : extra);

  it('accepts every algorithm family and maps claims to the caller', async () => {
    for (const name of ['rsa', 'pss', 'ec', 'ec384', 'ec521', 'ed', 'hmac']) {
      const before = mock.requests.length;
      const r = await chat(await mint(name));
      assert.equal(r.status, 200, `${name}: ${r.text}`);
      assert.equal(mock.requests.length, before + 1);
      const up = mock.requests.at(-1).headers;
      assert.equal(up.authorization, 'Bearer sk-test-openai', 'the provider key replaces the caller token');
    }
    const metrics = (await getText(`${gw.adminUrl}/metrics`)).text;
    assert.ok(metricValue(metrics, 'tollway_auth_requests_total', { method: 'jwt', result: 'ok' }) >= 7);
  });

  it('a repeated token is served from the verification cache', async () => {
    const token = await mint('ec');
    for (let i = 0; i < 5; i++) assert.equal((await chat(token)).status, 200);
  });

  const attacks = {
    'alg none': async () => `${b64u('{"alg":"none","kid":"rsa"}')}.${b64u(goodClaims())}.`,
    'alg none with a signature': async () => `${b64u('{"alg":"none"}')}.${b64u(goodClaims())}.${b64u('x')}`,
    'HS256 keyed with the RSA public key': async () => {
      const pem = crypto.KeyObject.from(keys.rsa.publicKey).export({ type: 'spki', format: 'pem' });
      const input = `${b64u('{"alg":"HS256","kid":"rsa"}')}.${b64u(goodClaims())}`;
      return `${input}.${crypto.createHmac('sha256', pem).update(input).digest('base64url')}`;
    },
    'HS256 keyed with the RSA modulus': async () => {
      const input = `${b64u('{"alg":"HS256","kid":"rsa"}')}.${b64u(goodClaims())}`;
      return `${input}.${crypto.createHmac('sha256', Buffer.from(keys.rsa.jwk.n, 'base64url')).update(input).digest('base64url')}`;
    },
    'jku header': async () => mint('rsa', { header: { jku: 'https://evil.test/jwks.json' } }),
    'x5u header': async () => mint('rsa', { header: { x5u: 'https://evil.test/cert.pem' } }),
    'embedded jwk header': async () => {
      const evil = await jose.generateKeyPair('RS256', { extractable: true });
      return new jose.SignJWT({ org: 'acme' }).setProtectedHeader({ alg: 'RS256', jwk: await jose.exportJWK(evil.publicKey) })
        .setIssuer(ISS).setAudience(AUD).setExpirationTime('5m').sign(evil.privateKey);
    },
    'unknown crit': async () => new jose.CompactSign(new TextEncoder().encode(goodClaims()))
      .setProtectedHeader({ alg: 'RS256', kid: 'rsa', crit: ['x-tollway-test'], 'x-tollway-test': 1 })
      .sign(keys.rsa.privateKey, { crit: { 'x-tollway-test': true } }),
    'duplicate header key': async () => rs256Raw('{"alg":"RS256","kid":"rsa","kid":"rsa"}', goodClaims()),
    'duplicate claim key': async () => rs256Raw('{"alg":"RS256","kid":"rsa"}',
      `{"iss":"${ISS}","aud":"${AUD}","org":"acme","org":"other","exp":${now() + 300}}`),
    'malformed base64url (padding)': async () => `${await mint('rsa')}=`,
    'malformed base64url (standard alphabet)': async () => (await mint('rsa')).replace(/-/g, '+').replace(/_/g, '/') + '+/',
    'oversized token': async () => mint('rsa', { claims: { pad: 'x'.repeat(9000) } }),
    'expired': async () => mint('rsa', { exp: now() - 120 }),
    'not yet valid': async () => mint('rsa', { nbf: now() + 600 }),
    'issued in the future': async () => mint('rsa', { iat: now() + 600 }),
    'wrong audience': async () => mint('rsa', { aud: 'someone-else' }),
    'wrong issuer': async () => mint('rsa', { iss: 'https://evil.test' }),
    'no tenant claim': async () => mint('rsa', { claims: { org: undefined } }),
    'tampered payload': async () => {
      const [h, , s] = (await mint('rsa')).split('.');
      return `${h}.${b64u(JSON.stringify({ iss: ISS, aud: AUD, org: 'other-tenant', exp: now() + 300 }))}.${s}`;
    },
  };
  for (const [name, make] of Object.entries(attacks)) {
    it(`rejects: ${name} (401, nothing reaches the provider)`, async () => {
      const token = await make();
      const before = mock.requests.length;
      const r = await chat(token);
      assert.equal(r.status, 401, r.text);
      assertOpenAIError(r.json, { type: 'authentication_error' });
      assert.match(r.headers.get('www-authenticate'), /^Bearer realm="tollway"/);
      assert.ok(!r.text.includes(token), 'the error body never echoes the token');
      assert.equal(mock.requests.length, before, 'the provider received nothing');
    });
  }

  it('unknown kid: one JWKS refresh, then 401; a key published later is found by that refresh', async () => {
    await new Promise((res) => setTimeout(res, 5200));  // past the on-demand window of earlier refreshes
    const fetchesBefore = jwksFetches;
    const before = mock.requests.length;
    const r = await chat(await mint('late'));
    assert.equal(r.status, 401);
    assert.equal(mock.requests.length, before);
    assert.equal(jwksFetches, fetchesBefore + 1, 'exactly one refresh');
    published.push(keys.late.jwk);
    await new Promise((res) => setTimeout(res, 5200));  // on-demand refreshes are at most one per 5 s
    const ok = await chat(await mint('late'));
    assert.equal(ok.status, 200, ok.text);
  });

  it('Anthropic callers get 401 in the Anthropic format', async () => {
    const r = await postJson(`${gw.url}/v1/messages`, { model: 'claude-3-5-haiku', max_tokens: 5, messages: [] },
      { 'x-api-key': 'eyJhbGciOiJub25lIn0.e30.', 'anthropic-version': '2023-06-01' });
    assert.equal(r.status, 401);
    assertAnthropicError(r.json, { type: 'authentication_error' });
  });

  it('no credential and two different credentials are 401', async () => {
    const before = mock.requests.length;
    assert.equal((await chat(null)).status, 401);
    const r = await chat(await mint('ec'), { 'x-api-key': 'tw-something-else' });
    assert.equal(r.status, 401);
    assert.equal(mock.requests.length, before);
  });
});
