// Gateway errors: upstream errors passed through unchanged (status, body, headers); gateway-generated errors in
// the caller's API format: 502 unreachable, 504 first-byte timeout, 413 body too large (global and per-route),
// 404 unknown route (OpenAI and Anthropic formats), 400 bad JSON, 400 model routed to the other API's provider;
// none of the gateway-generated ones reaches the provider. Also a provider cutting a stream mid-way.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startMock, startGateway, testConfig, postJson, rawRequest, httpBytes, unusedPort,
  assertOpenAIError, assertAnthropicError,
} from '../../lib/harness.mjs';

describe('gateway errors', () => {
  let mock; let gw; let deadPort;
  before(async () => {
    mock = await startMock();
    deadPort = await unusedPort();
    const cfg = testConfig({
      openaiUrl: mock.url,
      over: {
        limits: { max_body: '4KiB' },
        timeouts: { upstream_first_byte: '600ms', upstream_connect: '500ms' },
        providers: {
          dead: { api: 'openai', base_url: `http://127.0.0.1:${deadPort}`, api_key: 'sk-dead' },
          deadant: { api: 'anthropic', base_url: `http://127.0.0.1:${deadPort}`, api_key: 'sk-dead' },
        },
        models: [
          { match: 'gpt-dead', provider: 'dead' },
          { match: 'claude-dead', provider: 'deadant' },
          { match: 'gpt-*', provider: 'openai' },
          { match: 'text-embedding-*', provider: 'openai' },
          { match: 'claude-*', provider: 'anthropic' },
        ],
      },
    });
    cfg.routes.push({ path: '/v1/small', api: 'openai', provider: 'openai', max_body: '100B' });
    gw = await startGateway({ config: cfg });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  const chatBody = (model = 'gpt-4o') => ({ model, messages: [{ role: 'user', content: 'hello' }] });
  const msgBody = (model = 'claude-sonnet-4-6') => ({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hello' }] });

  for (const status of [429, 500, 503]) {
    it(`openai ${status} from the provider is passed through unchanged`, async () => {
      const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody(), { 'x-mock-scenario': `fail:${status}` });
      assert.equal(r.status, status);
      const want = await postJson(`${mock.url}/v1/chat/completions`, chatBody(), { 'x-mock-scenario': `fail:${status}` });
      assert.equal(r.text, want.text, 'body byte-identical to what the provider sends');
      if (status === 429) {
        assert.equal(r.headers.get('retry-after'), '20');
        assert.equal(r.headers.get('x-ratelimit-remaining-requests'), '0');
      }
    });
  }

  for (const status of [429, 529]) {
    it(`anthropic ${status} from the provider is passed through unchanged`, async () => {
      const r = await postJson(`${gw.url}/v1/messages`, msgBody(), { 'x-mock-scenario': `fail:${status}` });
      assert.equal(r.status, status);
      assert.equal(r.json.type, 'error');
      assert.equal(r.json.error.type, status === 429 ? 'rate_limit_error' : 'overloaded_error');
      assert.match(r.json.request_id, /^req_011/);
    });
  }

  it('502 in OpenAI format when the provider is unreachable', async () => {
    const t0 = Date.now();
    const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody('gpt-dead'));
    assert.equal(r.status, 502, r.text);
    assertOpenAIError(r.json, { type: 'server_error' });
    assert.ok(Date.now() - t0 < 2000);
  });

  it('502 in Anthropic format when the provider is unreachable', async () => {
    const r = await postJson(`${gw.url}/v1/messages`, msgBody('claude-dead'));
    assert.equal(r.status, 502, r.text);
    assertAnthropicError(r.json, { type: 'api_error' });
  });

  it('504 when the first byte takes longer than upstream_first_byte', async () => {
    const t0 = Date.now();
    const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody(), { 'x-mock-scenario': 'slow-first-byte:3000' });
    const took = Date.now() - t0;
    assert.equal(r.status, 504, r.text);
    assertOpenAIError(r.json, { type: 'server_error' });
    assert.ok(took >= 500 && took < 2000, `504 after ${took} ms (timeout 600ms)`);
    const ra = await postJson(`${gw.url}/v1/messages`, msgBody(), { 'x-mock-scenario': 'slow-first-byte:3000' });
    assert.equal(ra.status, 504);
    assertAnthropicError(ra.json, { type: 'timeout_error' });
  });

  it('a first byte within upstream_first_byte is not a timeout', async () => {
    const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody(), { 'x-mock-scenario': 'slow-first-byte:200' });
    assert.equal(r.status, 200, r.text);
  });

  it('504 on hang (provider never answers)', async () => {
    const r = await postJson(`${gw.url}/v1/chat/completions`, chatBody(), { 'x-mock-scenario': 'hang' });
    assert.equal(r.status, 504);
    assertOpenAIError(r.json);
  });

  it('413 when the body exceeds limits.max_body, and nothing reaches the provider', async () => {
    const n = mock.requests.length;
    const big = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(5000) }] });
    const r = await postJson(`${gw.url}/v1/chat/completions`, big);
    assert.equal(r.status, 413, r.text);
    assertOpenAIError(r.json);
    const ra = await postJson(`${gw.url}/v1/messages`, JSON.stringify({ ...msgBody(), pad: 'y'.repeat(5000) }));
    assert.equal(ra.status, 413);
    assertAnthropicError(ra.json, { type: 'request_too_large' });
    assert.equal(mock.requests.length, n);
  });

  it('413 for a chunked body that grows past the limit', async () => {
    const n = mock.requests.length;
    const chunk = 'a'.repeat(1000);
    const chunks = Array.from({ length: 6 }, () => `3e8\r\n${chunk}\r\n`).join('') + '0\r\n\r\n';
    const res = await rawRequest(gw.port, httpBytes('POST', '/v1/chat/completions',
      { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, chunks), { timeoutMs: 2000 });
    assert.equal(res.responses[0]?.status, 413, res.text);
    assert.equal(mock.requests.length, n);
  });

  it("413 against a route's own max_body", async () => {
    const r = await postJson(`${gw.url}/v1/small`, { model: 'gpt-4o', pad: 'z'.repeat(200) });
    assert.equal(r.status, 413, r.text);
    assertOpenAIError(r.json);
  });

  it('404 unknown route in OpenAI format', async () => {
    const n = mock.requests.length;
    const r = await postJson(`${gw.url}/v2/unknown`, chatBody());
    assert.equal(r.status, 404, r.text);
    assertOpenAIError(r.json, { type: 'invalid_request_error' });
    const g = await fetch(`${gw.url}/nope`);
    assert.equal(g.status, 404);
    assertOpenAIError(await g.json());
    assert.equal(mock.requests.length, n);
  });

  it('404 unknown route in Anthropic format for an Anthropic caller', async () => {
    const r = await postJson(`${gw.url}/v1/messages-typo`, msgBody(), { 'anthropic-version': '2023-06-01' });
    assert.equal(r.status, 404, r.text);
    assertAnthropicError(r.json, { type: 'not_found_error' });
  });

  it('400 on a body that is not JSON, in the route API format, and nothing reaches the provider', async () => {
    const n = mock.requests.length;
    const r = await postJson(`${gw.url}/v1/chat/completions`, '{"model": "gpt-4o", "messages": [');
    assert.equal(r.status, 400, r.text);
    assertOpenAIError(r.json, { type: 'invalid_request_error' });
    const ra = await postJson(`${gw.url}/v1/messages`, 'not json at all');
    assert.equal(ra.status, 400, ra.text);
    assertAnthropicError(ra.json, { type: 'invalid_request_error' });
    assert.equal(mock.requests.length, n);
  });

  // Chat completions <-> messages are translated (tests/integration/translation); other endpoints cannot be.
  it('400 when the model routes to a provider of the other API on an endpoint translation does not cover', async () => {
    const n = mock.requests.length;
    const r = await postJson(`${gw.url}/v1/embeddings`, { model: 'claude-sonnet-4-6', input: 'x' });
    assert.equal(r.status, 400, r.text);
    assertOpenAIError(r.json, { type: 'invalid_request_error', code: 'translation_unsupported' });
    const ra = await postJson(`${gw.url}/v1/messages/count_tokens`, msgBody('gpt-4o'));
    assert.equal(ra.status, 400, ra.text);
    assertAnthropicError(ra.json, { type: 'invalid_request_error' });
    assert.equal(mock.requests.length, n);
  });

  it('a provider closing mid-stream: the client sees a truncated stream, not a clean end', async () => {
    const res = await rawRequest(gw.port, httpBytes('POST', '/v1/chat/completions',
      { 'content-type': 'application/json', 'x-mock-scenario': 'cut' },
      JSON.stringify({ ...chatBody(), stream: true, max_tokens: 10 })), { timeoutMs: 3000 });
    assert.match(res.text, /^HTTP\/1\.1 200/);
    assert.ok(res.closed, 'the gateway closes the client connection');
    assert.ok(!res.text.includes('[DONE]'));
    // chunked to the client: a truncated stream must not end with the last-chunk marker
    assert.ok(!/\r\n0\r\n\r\n$/.test(res.text), 'no terminating zero-size chunk after a cut');
    const after = await postJson(`${gw.url}/v1/chat/completions`, chatBody());
    assert.equal(after.status, 200, 'the gateway keeps serving');
  });
});
