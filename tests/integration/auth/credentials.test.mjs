// Provider credentials: a key file replaced while streams run (zero failed requests; new requests carry the new
// key), weighted keys with a 401 from the provider taking one out of rotation (counted), HashiCorp Vault KV v2
// as a source (changes picked up by the refresh), and without `auth:` the caller's own key header never
// leaks when a credential is configured.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startMock, startGateway, testConfig, postJson, getText, metricValue, tempDir, sleep, waitFor } from '../../lib/harness.mjs';

describe('provider credentials', () => {
  let mock;
  before(async () => { mock = await startMock(); });
  after(async () => { await mock?.close(); });

  it('key file replaced under streaming load: zero failures, new requests use the new key', async () => {
    const dir = tempDir('tollway-cred-');
    const keyFile = path.join(dir, 'openai-key');
    fs.writeFileSync(keyFile, 'sk-file-old\n');
    const gw = await startGateway({ workers: 2, config: testConfig({ openaiUrl: mock.url, over: {
      credentials: { file_poll: '100ms', providers: { openai: [{ file: keyFile }] } } } }) });
    try {
      let stop = false; let failures = 0; let done = 0;
      const worker = async () => {
        while (!stop) {
          const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json',
            'x-mock-scenario': 'slow-stream:5' }, body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, max_tokens: 12,
            messages: [{ role: 'user', content: 'stream please' }] }) });
          const text = await r.text();
          if (r.status !== 200 || !text.includes('[DONE]')) failures++;
          done++;
        }
      };
      const workers = Array.from({ length: 8 }, worker);
      await sleep(400);
      const tmp = `${keyFile}.tmp`;
      fs.writeFileSync(tmp, 'sk-file-new\n');
      fs.renameSync(tmp, keyFile);  // the Kubernetes-secret way: a new file swapped in atomically
      const swappedAt = Date.now();
      await sleep(2000);
      stop = true;
      await Promise.all(workers);
      assert.equal(failures, 0, `${failures} of ${done} requests failed`);
      // A second after the swap (polls every 100 ms; the margin absorbs a loaded test machine's scheduling).
      const late = mock.requests.filter((r) => r.receivedAt > swappedAt + 1000);
      assert.ok(late.length > 0);
      for (const r of late) assert.equal(r.headers.authorization, 'Bearer sk-file-new');
      assert.ok(mock.requests.some((r) => r.headers.authorization === 'Bearer sk-file-old'));
      assert.ok(!gw.stderrLines.join('\n').includes('sk-file-'), 'key values are never logged');
    } finally { await gw.stop(); }
  });

  it('weighted keys; a key the provider answers 401 for leaves the rotation and is counted', async () => {
    const gw = await startGateway({ workers: 1, env: { TW_KEY_A: 'sk-env-a', TW_KEY_B: 'sk-env-b' },
      config: testConfig({ openaiUrl: mock.url, over: { credentials: { providers: {
        openai: [{ env: 'TW_KEY_A', weight: 3 }, { env: 'TW_KEY_B', weight: 1 }] } } } }) });
    try {
      const start = mock.requests.length;
      for (let i = 0; i < 40; i++) await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [] });
      const seen = mock.requests.slice(start).map((r) => r.headers.authorization);
      const a = seen.filter((h) => h === 'Bearer sk-env-a').length;
      assert.ok(a > 20 && a < 40, `weight 3:1 gave ${a} of 40 to key A`);
      const failed = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [] },
        { 'x-mock-scenario': 'fail:401' });
      assert.equal(failed.status, 401);
      const ejected = mock.requests.at(-1).headers.authorization;
      const after = mock.requests.length;
      for (let i = 0; i < 10; i++) await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [] });
      for (const r of mock.requests.slice(after)) assert.notEqual(r.headers.authorization, ejected);
      const metrics = (await getText(`${gw.adminUrl}/metrics`)).text;
      assert.equal(metricValue(metrics, 'tollway_provider_key_ejections_total', { provider: 'openai' }), 1);
      assert.equal(metricValue(metrics, 'tollway_provider_keys', { provider: 'openai', state: 'ejected' }), 1);
      assert.ok(!metrics.includes('sk-env-'));
    } finally { await gw.stop(); }
  });

  it('HashiCorp Vault KV v2: the secret is injected and a change is picked up by the refresh', async () => {
    let secret = 'sk-vault-1';
    const tokens = [];
    const vault = http.createServer((req, res) => {
      tokens.push(req.headers['x-vault-token']);
      if (req.url !== '/v1/secret/data/llm/openai' || req.headers['x-vault-token'] !== 'vault-token-test') {
        res.writeHead(403); res.end('{"errors":["permission denied"]}'); return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: { data: { api_key: secret }, metadata: { version: 1 } } }));
    });
    await new Promise((r) => vault.listen(0, '127.0.0.1', r));
    const gw = await startGateway({ workers: 1, config: testConfig({ openaiUrl: mock.url, over: { credentials: {
      vault: { address: `http://127.0.0.1:${vault.address().port}`, token: 'vault-token-test', refresh: '200ms' },
      providers: { openai: [{ vault: 'llm/openai', field: 'api_key' }] } } } }) });
    try {
      const sent = await waitFor(async () => {
        const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [] });
        return r.status === 200 && mock.requests.at(-1).headers.authorization === 'Bearer sk-vault-1';
      });
      assert.ok(sent);
      secret = 'sk-vault-2';
      assert.ok(await waitFor(async () => {
        await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [] });
        return mock.requests.at(-1).headers.authorization === 'Bearer sk-vault-2';
      }));
      assert.ok(tokens.every((t) => t === 'vault-token-test'));
      assert.ok(!gw.stderrLines.join('\n').includes('vault-token-test'));
    } finally { await gw.stop(); await new Promise((r) => vault.close(r)); }
  });

  it('a Vault outage keeps the last key and is counted', async () => {
    let up = true;
    const vault = http.createServer((req, res) => {
      if (!up) { res.writeHead(503); res.end('{"errors":["sealed"]}'); return; }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: { data: { api_key: 'sk-vault-kept' } } }));
    });
    await new Promise((r) => vault.listen(0, '127.0.0.1', r));
    const gw = await startGateway({ workers: 1, config: testConfig({ openaiUrl: mock.url, over: { credentials: {
      vault: { address: `http://127.0.0.1:${vault.address().port}`, token: 'vault-token-test', refresh: '100ms' },
      providers: { openai: [{ vault: 'llm/openai' }] } } } }) });
    try {
      assert.ok(await waitFor(async () => (await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [] })).status === 200));
      up = false;
      await sleep(400);
      const r = await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', messages: [] });
      assert.equal(r.status, 200);
      assert.equal(mock.requests.at(-1).headers.authorization, 'Bearer sk-vault-kept');
      const metrics = (await getText(`${gw.adminUrl}/metrics`)).text;
      assert.ok(metricValue(metrics, 'tollway_credential_refreshes_total', { kind: 'vault', result: 'failure' }) >= 1);
    } finally { await gw.stop(); await new Promise((r) => vault.close(r)); }
  });
});

describe('credentials.passthrough_caller_keys with auth on', () => {
  const ADMIN_TOKEN = 'passthrough-admin-token-0123456789';
  let mock; let closed; let open;
  const start = (passthrough) => startGateway({ config: testConfig({ openaiUrl: mock.url, over: {
    providers: { openai: { api: 'openai', base_url: mock.url } },
    auth: { admin_token: ADMIN_TOKEN, virtual_keys: { store: ':memory:' } },
    ...(passthrough === undefined ? {} : { credentials: { passthrough_caller_keys: passthrough } }),
  } }) });
  const keyFor = async (gw) => {
    const r = await fetch(`${gw.adminUrl}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ tenant: 'acme' }) });
    return (await r.json()).key;
  };
  before(async () => { mock = await startMock(); closed = await start(undefined); open = await start(true); });
  after(async () => { await closed?.stop(); await open?.stop(); await mock?.close(); });
  const chat = { model: 'gpt-4o-mini', max_tokens: 3, messages: [{ role: 'user', content: 'hi' }] };

  it('is off by default: a keyless provider is refused (503) and the start warns', async () => {
    const key = await keyFor(closed);
    const before = mock.requests.length;
    const r = await postJson(`${closed.url}/v1/chat/completions`, chat,
      { authorization: `Bearer ${key}`, 'x-tollway-provider-key': 'sk-caller-own' });
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.error.code, 'no_provider_credential');
    assert.equal(mock.requests.length, before);
    assert.ok(closed.stderrLines.some((l) => l.includes('providers.openai: no api_key')), 'warned at start');
  });

  it("with passthrough_caller_keys: true the caller's x-tollway-provider-key is injected as the provider's credential", async () => {
    const key = await keyFor(open);
    const r = await postJson(`${open.url}/v1/chat/completions`, chat,
      { authorization: `Bearer ${key}`, 'x-tollway-provider-key': 'sk-caller-own' });
    assert.equal(r.status, 200, r.text);
    const seen = mock.requests.at(-1).headers;
    assert.equal(seen.authorization, 'Bearer sk-caller-own');
    assert.equal(seen['x-tollway-provider-key'], undefined);
  });
});
