// TLS upstream: a provider behind https with a private CA given as the provider's ca_file works (key injected,
// streaming intact); the same provider checked against a different CA fails with 502 and a clear message,
// and no request bytes reach it past the handshake.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway, testConfig, postJson, makeCA, parseSse, assertOpenAIError } from '../../lib/harness.mjs';

describe('gateway TLS upstream', () => {
  let ca; let wrongCa; let mock; let gw;
  before(async () => {
    ca = makeCA({ name: 'tollway-test-ca' });
    wrongCa = makeCA({ name: 'some-other-ca' });
    mock = await startMock({ tls: { key: ca.key, cert: ca.cert } });
    const cfg = testConfig({
      openaiUrl: mock.url,
      over: {
        providers: {
          openai: { api: 'openai', base_url: mock.url, api_key: 'sk-test-openai', ca_file: ca.caFile },
          wrongca: { api: 'openai', base_url: mock.url, api_key: 'sk-test-wrong', ca_file: wrongCa.caFile },
          anthropic: { api: 'anthropic', base_url: mock.url, api_key: 'sk-ant-test-anthropic', ca_file: ca.caFile },
        },
        models: [
          { match: 'gpt-wrong', provider: 'wrongca' },
          { match: 'gpt-*', provider: 'openai' },
          { match: 'claude-*', provider: 'anthropic' },
        ],
      },
    });
    gw = await startGateway({ config: cfg });
  });
  after(async () => {
    await gw?.stop(); await mock?.close();
    ca?.cleanup(); wrongCa?.cleanup();
  });

  it('https provider verified with ca_file: request and key reach it', async () => {
    assert.match(mock.url, /^https:\/\/127\.0\.0\.1:/);
    const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o', max_tokens: 3, messages: [{ role: 'user', content: 'over tls' }] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.usage.prompt_tokens, 2);
    const req = mock.requests[mock.requests.length - 1];
    assert.equal(req.headers.authorization, 'Bearer sk-test-openai');
    assert.equal(req.headers.host, `127.0.0.1:${mock.port}`);
  });

  it('SSE over a TLS upstream arrives complete', async () => {
    const r = await postJson(`${gw.url}/v1/messages`,
      { model: 'claude-sonnet-4-6', stream: true, max_tokens: 4, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.status, 200, r.text);
    const evs = parseSse(r.text);
    assert.equal(evs[evs.length - 1].event, 'message_stop');
    assert.equal(JSON.parse(evs[evs.length - 2].data).usage.output_tokens, 4);
  });

  it('a certificate from a CA other than ca_file: 502 with a clear message, no request reaches the provider', async () => {
    const n = mock.requests.length;
    const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-wrong', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.status, 502, r.text);
    const e = assertOpenAIError(r.json);
    assert.match(e.message, /certificate|verify|tls|handshake/i, `message: ${e.message}`);
    assert.equal(mock.requests.length, n);
  });
});
