// Gateway routing and header handling: route by path (exact and prefix) and by the body's model (first match
// wins, else the route's provider), base_url path prefix, provider key injection and client-key removal,
// pass-through of the caller's key when api_key is empty, anthropic-version default, x-request-id kept or
// generated, hop-by-hop headers dropped both ways, chunked request bodies forwarded with Content-Length.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startMock, startGateway, testConfig, postJson, rawRequest, httpBytes,
} from '../../lib/harness.mjs';

describe('gateway routing and headers', () => {
  let a; let b; let c; let gw;
  before(async () => {
    a = await startMock(); // openai + passthru
    b = await startMock(); // anthropic
    c = await startMock(); // alt, behind a base_url path
    const cfg = testConfig({
      openaiUrl: a.url, anthropicUrl: b.url,
      over: {
        providers: {
          alt: { api: 'openai', base_url: `${c.url}/base`, api_key: 'sk-test-alt' },
          passthru: { api: 'openai', base_url: `${a.url}/passthru`, api_key: '' },
        },
        models: [
          { match: 'gpt-alt-*', provider: 'alt' },
          { match: 'gpt-*', provider: 'openai' },
          { match: 'free-*', provider: 'passthru' },
          { match: 'claude-*', provider: 'anthropic' },
        ],
      },
    });
    cfg.routes.push({ prefix: '/custom/', api: 'openai', provider: 'alt' });
    gw = await startGateway({ config: cfg });
  });
  after(async () => {
    await gw?.stop();
    await Promise.all([a, b, c].map((m) => m?.close()));
  });

  const last = (m) => m.requests[m.requests.length - 1];
  const chat = (model, headers = {}) => postJson(`${gw.url}/v1/chat/completions`,
    { model, max_tokens: 2, messages: [{ role: 'user', content: 'hi there' }] }, headers);

  it('routes by model: gpt-* to openai with its key injected; client credentials removed', async () => {
    const n = a.requests.length;
    const r = await chat('gpt-4o', { authorization: 'Bearer sk-client', 'x-api-key': 'client-x', 'api-key': 'client-azure' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'chat.completion');
    assert.equal(a.requests.length, n + 1);
    const req = last(a);
    assert.equal(req.url, '/v1/chat/completions');
    assert.equal(req.method, 'POST');
    assert.equal(req.headers.authorization, 'Bearer sk-test-openai');
    assert.equal(req.headers['x-api-key'], undefined);
    assert.equal(req.headers['api-key'], undefined);
    assert.equal(req.json.model, 'gpt-4o');
    assert.equal(req.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'authorization').length, 1);
  });

  it('first matching model rule wins; base_url path is prefixed to the target', async () => {
    const nA = a.requests.length; const nC = c.requests.length;
    const r = await chat('gpt-alt-1');
    assert.equal(r.status, 200, r.text);
    assert.equal(c.requests.length, nC + 1);
    assert.equal(a.requests.length, nA);
    assert.equal(last(c).url, '/base/v1/chat/completions');
    assert.equal(last(c).headers.authorization, 'Bearer sk-test-alt');
    // 'gpt-altitude' does not match 'gpt-alt-*' and falls to 'gpt-*'
    const r2 = await chat('gpt-altitude');
    assert.equal(r2.status, 200);
    assert.equal(a.requests.length, nA + 1);
    assert.equal(last(a).json.model, 'gpt-altitude');
  });

  it("a model no rule matches goes to the route's provider", async () => {
    const n = a.requests.length;
    const r = await chat('mystery-model-7');
    assert.equal(r.status, 200, r.text);
    assert.equal(a.requests.length, n + 1);
    assert.equal(last(a).json.model, 'mystery-model-7');
  });

  it("a request without a body uses the route's provider; GET /v1/models is the gateway's own catalogue", async () => {
    const n = a.requests.length;
    const catalogue = await fetch(`${gw.url}/v1/models`);
    assert.equal(catalogue.status, 200);
    assert.deepEqual(await catalogue.json(), { object: 'list', data: [] }, 'no model rule names one model');
    assert.equal(a.requests.length, n, 'the catalogue never asks a provider');
    const res = await fetch(`${gw.url}/v1/responses/resp_123`);
    await res.arrayBuffer();
    assert.equal(last(a).url, '/v1/responses/resp_123');
    assert.equal(last(a).method, 'GET');
  });

  it('prefix routes keep the full target, query included', async () => {
    const res = await fetch(`${gw.url}/custom/v1/models?limit=2&after=x%20y`);
    await res.arrayBuffer();
    assert.equal(last(c).url, '/base/custom/v1/models?limit=2&after=x%20y');
    assert.equal(last(c).headers.authorization, 'Bearer sk-test-alt');
  });

  it('anthropic: x-api-key injected, caller Authorization removed, anthropic-version added only when absent', async () => {
    const body = { model: 'claude-sonnet-4-6', max_tokens: 3, messages: [{ role: 'user', content: 'a b c' }] };
    let r = await postJson(`${gw.url}/v1/messages`, body, { authorization: 'Bearer sk-ant-client' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.type, 'message');
    assert.equal(r.json.usage.input_tokens, 3);
    let req = last(b);
    assert.equal(req.headers['x-api-key'], 'sk-ant-test-anthropic');
    assert.equal(req.headers.authorization, undefined);
    assert.equal(req.headers['anthropic-version'], '2023-06-01');
    r = await postJson(`${gw.url}/v1/messages`, body, { 'x-api-key': 'client', 'anthropic-version': '2024-10-22' });
    assert.equal(r.status, 200);
    req = last(b);
    assert.equal(req.headers['x-api-key'], 'sk-ant-test-anthropic');
    assert.equal(req.headers['anthropic-version'], '2024-10-22');
    assert.equal(req.rawHeaders.filter((h, i) => i % 2 === 0 && h.toLowerCase() === 'anthropic-version').length, 1);
  });

  it("empty api_key forwards the caller's credential headers unchanged", async () => {
    const r = await chat('free-1', { authorization: 'Bearer sk-callers-own', 'x-api-key': 'callers-x' });
    assert.equal(r.status, 200, r.text);
    const req = last(a);
    assert.equal(req.url, '/passthru/v1/chat/completions');
    assert.equal(req.headers.authorization, 'Bearer sk-callers-own');
    assert.equal(req.headers['x-api-key'], 'callers-x');
  });

  it('x-request-id: kept when the client sends one, returned on the response', async () => {
    const r = await chat('gpt-4o', { 'x-request-id': 'client-req-12345' });
    assert.equal(r.status, 200);
    assert.equal(last(a).headers['x-request-id'], 'client-req-12345');
    assert.equal(r.headers.get('x-request-id'), 'client-req-12345');
  });

  it('x-request-id: generated when absent, the same value upstream and on the response', async () => {
    const r1 = await chat('gpt-4o');
    const up1 = last(a).headers['x-request-id'];
    const r2 = await chat('gpt-4o');
    const up2 = last(a).headers['x-request-id'];
    assert.match(up1 ?? '', /^[A-Za-z0-9._-]{8,}$/);
    assert.notEqual(up1, up2);
    assert.equal(r1.headers.get('x-request-id'), up1);
    assert.equal(r2.headers.get('x-request-id'), up2);
  });

  it('hop-by-hop request headers are not forwarded; end-to-end ones are', async () => {
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    const res = await rawRequest(gw.port, httpBytes('POST', '/v1/chat/completions', {
      'content-type': 'application/json', connection: 'keep-alive, x-drop-me', 'x-drop-me': '1',
      'keep-alive': 'timeout=5', 'proxy-connection': 'keep-alive', te: 'trailers',
      'proxy-authorization': 'Basic dXNlcjpwYXNz', 'x-custom-e2e': 'kept', 'user-agent': 'raw-test/1',
    }, body), { untilResponses: 1 });
    assert.equal(res.responses[0]?.status, 200, res.text);
    const h = last(a).headers;
    for (const k of ['x-drop-me', 'keep-alive', 'proxy-connection', 'te', 'proxy-authorization', 'transfer-encoding']) {
      assert.equal(h[k], undefined, `${k} reached the provider`);
    }
    assert.equal(h['x-custom-e2e'], 'kept');
    assert.equal(h['user-agent'], 'raw-test/1');
    assert.equal(h['content-length'], String(Buffer.byteLength(body)));
    assert.equal(h['content-type'], 'application/json');
  });

  it('hop-by-hop response headers are not passed back to the client', async () => {
    const res = await rawRequest(gw.port, httpBytes('POST', '/v1/chat/completions',
      { 'content-type': 'application/json', 'x-mock-scenario': 'hop-by-hop' },
      JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })), { untilResponses: 1 });
    const r = res.responses[0];
    assert.equal(r?.status, 200, res.text);
    assert.equal(r.headers['x-hop'], undefined);
    assert.equal(r.headers['proxy-connection'], undefined);
    assert.notEqual(r.headers['keep-alive'], 'timeout=5, max=100');
    assert.equal(r.headers['x-end-to-end'], 'kept');
    assert.equal(JSON.parse(r.text).object, 'chat.completion');
  });

  it('a chunked request body is buffered and forwarded with Content-Length', async () => {
    const json = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'chunked body words' }] });
    const p1 = json.slice(0, 20); const p2 = json.slice(20);
    const chunked = `${p1.length.toString(16)}\r\n${p1}\r\n${p2.length.toString(16)}\r\n${p2}\r\n0\r\n\r\n`;
    const res = await rawRequest(gw.port, httpBytes('POST', '/v1/chat/completions',
      { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, chunked), { untilResponses: 1 });
    assert.equal(res.responses[0]?.status, 200, res.text);
    const req = last(a);
    assert.equal(req.headers['transfer-encoding'], undefined);
    assert.equal(req.headers['content-length'], String(Buffer.byteLength(json)));
    assert.equal(req.bodyText, json);
    assert.equal(JSON.parse(res.responses[0].text).usage.prompt_tokens, 3);
  });
});
