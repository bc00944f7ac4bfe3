// Gateway lifecycle and admin: /healthz, /readyz, /config, /metrics (passes `promtool check metrics`); config
// reload on SIGHUP and on file change (a valid change takes effect and bumps version and generation; a changed
// price file alone changes the version; an invalid one keeps the old snapshot serving and is counted as a
// failure); SIGTERM drains an in-flight stream to its end and exits 0.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  startMock, startGateway, testConfig, toYaml, postJson, getText, metricValue, waitFor, sleep, parseSse,
  parseResponses, httpBytes, runTollway,
} from '../../lib/harness.mjs';

function promtool(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, error: r.error };
}

describe('admin listener', () => {
  let mock; let gw;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url }) });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  it('ready line on stderr carries listen, admin, workers, config_version; all stderr lines are JSON', async () => {
    assert.match(gw.ready.listen, /^127\.0\.0\.1:\d+$/);
    assert.match(gw.ready.admin, /^127\.0\.0\.1:\d+$/);
    assert.equal(gw.ready.workers, 1);
    assert.equal(gw.ready.level, 'info');
    assert.ok(gw.ready.ts);
    assert.ok(gw.ready.config_version);
    for (const line of gw.stderrLines) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
  });

  it('/healthz and /readyz are 200; /config reports the version', async () => {
    assert.equal((await getText(`${gw.adminUrl}/healthz`)).status, 200);
    assert.equal((await getText(`${gw.adminUrl}/readyz`)).status, 200);
    const c = await getText(`${gw.adminUrl}/config`);
    assert.equal(c.status, 200);
    assert.equal(c.json.version, gw.ready.config_version);
    assert.equal(typeof c.json.loaded_at, 'string');
    assert.ok(Number.isInteger(c.json.generation));
  });

  it('/metrics after traffic passes promtool check metrics and counts requests', async () => {
    await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] },
      { 'x-mock-scenario': 'fail:429' });
    await postJson(`${gw.url}/v1/nowhere`, {});
    await postJson(`${gw.url}/v1/messages`, { model: 'claude-x', max_tokens: 3, stream: true, messages: [{ role: 'user', content: 'x' }] });
    const m = await getText(`${gw.adminUrl}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
    const p = promtool(m.text);
    assert.ifError(p.error);
    assert.equal(p.code, 0, `promtool check metrics:\n${p.out}\n---\n${m.text}`);
    assert.ok(metricValue(m.text, 'tollway_requests_total') >= 4, m.text);
  });

  it('a second gateway on a held port exits 1 naming the listener and address; the first keeps every connection', async () => {
    const cfg = path.join(gw.dir, 'gateway.yaml');
    for (const [flags, listener, port] of [
      [['--listen', `127.0.0.1:${gw.port}`, '--admin', '127.0.0.1:0'], 'api listener', gw.port],
      [['--listen', '127.0.0.1:0', '--admin', `127.0.0.1:${gw.adminPort}`], 'admin listener', gw.adminPort],
      // a wildcard address overlaps the held loopback one
      [['--listen', `0.0.0.0:${gw.port}`, '--admin', '127.0.0.1:0'], 'api listener', gw.port],
    ]) {
      const r = await runTollway(['gateway', '--config', cfg, '--workers', '2', ...flags]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`cannot listen on [0-9.]+:${port} \\(${listener}\\): address already in use by another process`));
      assert.doesNotMatch(r.stderr, /boost|\.hpp|gateway ready/i);
    }
    // Every new connection still reaches the first gateway (none was routed to a second process).
    for (let i = 0; i < 20; i++) assert.equal((await getText(`${gw.url}/nope`)).status, 404);
  });

  it('admin: unknown path is 404', async () => {
    assert.equal((await getText(`${gw.adminUrl}/nope`)).status, 404);
  });
});

describe('config reload', () => {
  let mock; let gw; let base;
  before(async () => {
    mock = await startMock();
    base = testConfig({ openaiUrl: mock.url });
    gw = await startGateway({ config: base });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  const cfgVersion = async () => (await getText(`${gw.adminUrl}/config`)).json;
  // A prefix route '/<name>/' to openai: the mock serves '/<name>/v1/chat/completions' like '/v1/chat/completions'.
  const extraRoute = (name) => ({ ...base, routes: [...base.routes, { prefix: `/${name}/`, api: 'openai', provider: 'openai' }] });
  const chatAt = (name) => postJson(`${gw.url}/${name}/v1/chat/completions`, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });

  it('SIGHUP: a valid change takes effect; version and generation change', async () => {
    const before = await cfgVersion();
    const n = mock.requests.length;
    assert.equal((await chatAt('extra-one')).status, 404);
    assert.equal(mock.requests.length, n, 'unknown route answered by the gateway');
    gw.writeConfig(extraRoute('extra-one'));
    gw.proc.kill('SIGHUP');
    const now = await waitFor(async () => { const c = await cfgVersion(); return c.version !== before.version && c; }, { timeoutMs: 3000 });
    assert.ok(now, 'version changed after SIGHUP');
    assert.ok(now.generation > before.generation);
    const r = await chatAt('extra-one');
    assert.equal(r.status, 200, r.text);
    assert.equal(mock.requests[mock.requests.length - 1].url, '/extra-one/v1/chat/completions');
    const m = await getText(`${gw.adminUrl}/metrics`);
    assert.ok(metricValue(m.text, 'tollway_config_reloads_total', { result: 'success' }) >= 1, m.text);
  });

  it('file change without a signal is picked up (polled)', async () => {
    const before = await cfgVersion();
    gw.writeConfig(extraRoute('extra-two'));
    const now = await waitFor(async () => { const c = await cfgVersion(); return c.version !== before.version && c; }, { timeoutMs: 4000, intervalMs: 100 });
    assert.ok(now, 'version changed after the file changed');
    const r = await chatAt('extra-two');
    assert.equal(r.status, 200, r.text);
    assert.equal(mock.requests[mock.requests.length - 1].url, '/extra-two/v1/chat/completions');
  });

  it('the version covers the resolved config: a price file edit alone gives a new version after SIGHUP', async () => {
    const prices = path.join(gw.dir, 'prices.yaml');
    const priceTable = (output) => 'version: "t1"\nmodels:\n  - { match: "gpt-4o*", input: "2.50", output: "' + output + '" }\n';
    fs.writeFileSync(prices, priceTable('10.00'));
    const before = await cfgVersion();
    gw.writeConfig({ ...extraRoute('extra-two'), pricing: { file: 'prices.yaml' } });
    gw.proc.kill('SIGHUP');
    const priced = await waitFor(async () => { const c = await cfgVersion(); return c.version !== before.version && c; }, { timeoutMs: 4000 });
    assert.ok(priced, 'version changed after naming the price file');
    fs.writeFileSync(prices, priceTable('12.00'));  // the YAML stays byte for byte the same
    gw.proc.kill('SIGHUP');
    const repriced = await waitFor(async () => { const c = await cfgVersion(); return c.generation > priced.generation && c; }, { timeoutMs: 4000 });
    assert.ok(repriced, 'the reload was applied');
    assert.notEqual(repriced.version, priced.version, 'a new price file gives a new version');
    gw.writeConfig(extraRoute('extra-two'));  // back to the config the next tests start from
    gw.proc.kill('SIGHUP');
    assert.ok(await waitFor(async () => { const c = await cfgVersion(); return c.version === before.version && c; }, { timeoutMs: 4000 }),
      'the same resolved config gives the same version again');
  });

  it('an invalid change keeps the old snapshot serving and is counted as a failure', async () => {
    const before = await cfgVersion();
    const m0 = await getText(`${gw.adminUrl}/metrics`);
    const failures0 = metricValue(m0.text, 'tollway_config_reloads_total', { result: 'failure' });
    const bad = extraRoute('extra-two');
    bad.routes = [...bad.routes, { prefix: '/broken/', api: 'openai', provider: 'foo' }];
    gw.writeConfig(toYaml(bad));
    gw.proc.kill('SIGHUP');
    const m = await waitFor(async () => {
      const t = (await getText(`${gw.adminUrl}/metrics`)).text;
      return metricValue(t, 'tollway_config_reloads_total', { result: 'failure' }) > failures0 && t;
    }, { timeoutMs: 4000 });
    assert.ok(m, 'tollway_config_reloads_total{result="failure"} incremented');
    const after = await cfgVersion();
    assert.equal(after.version, before.version);
    assert.equal(after.generation, before.generation);
    assert.equal((await chatAt('extra-two')).status, 200);
    const n = mock.requests.length;
    assert.equal((await chatAt('broken')).status, 404);
    assert.equal(mock.requests.length, n);
    const log = await gw.waitForLog((o) => o && o.level !== 'info' && /foo/.test(JSON.stringify(o)), 2000);
    assert.match(JSON.stringify(log), /unknown provider/);
    // broken YAML syntax is rejected the same way
    gw.writeConfig('version: 1\nproviders: [unclosed\n');
    gw.proc.kill('SIGHUP');
    await sleep(1500);
    assert.equal((await cfgVersion()).version, before.version);
    assert.equal((await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o', messages: [] })).status, 200);
  });

  it('a reload that changes a restart-only key or fails late is refused whole, names why, and applies nothing', async () => {
    const before = await cfgVersion();
    const metricsBefore = (await getText(`${gw.adminUrl}/metrics`)).text;
    assert.doesNotMatch(metricsBefore, /^tollway_limits_/m);
    const badCa = path.join(gw.dir, 'not-a-ca.pem');
    fs.writeFileSync(badCa, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
    const attempts = [
      // limits first enabled on the strict ledger: a restart-only key (Redis is never contacted)
      [{ ...extraRoute('extra-three'), limits: { ledger: 'strict', redis: { url: 'redis://127.0.0.1:1' },
        budgets: [{ name: 'day', unit: 'requests', limit: 1, period: 'day' }] } }, /limits\.ledger: changes need a restart/],
      // a provider CA that OpenSSL cannot load, next to a valid new route
      [{ ...extraRoute('extra-three'), providers: { ...base.providers, openai: { ...base.providers.openai, ca_file: badCa,
        base_url: 'https://127.0.0.1:1' } } }, /ca_file|CA certificates/],
    ];
    for (const [config, why] of attempts) {
      const failures = metricValue((await getText(`${gw.adminUrl}/metrics`)).text, 'tollway_config_reloads_total', { result: 'failure' });
      gw.writeConfig(config);
      gw.proc.kill('SIGHUP');
      const now = await waitFor(async () => {
        const c = await cfgVersion();
        return c.reloads_failed > failures && c;
      }, { timeoutMs: 4000 });
      assert.ok(now, 'the reload was counted as rejected');
      assert.match(now.last_reload_error, why);
      assert.equal(now.version, before.version);
      assert.equal(now.generation, before.generation);
      const n = mock.requests.length;
      assert.equal((await chatAt('extra-three')).status, 404, 'the new route did not apply');
      assert.equal(mock.requests.length, n);
      assert.equal((await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o', messages: [] })).status, 200);
      assert.doesNotMatch((await getText(`${gw.adminUrl}/metrics`)).text, /^tollway_limits_/m, 'no limits state was made');
    }
  });
});

describe('SIGTERM drain', () => {
  it('an in-flight stream completes, new requests are refused, readyz goes 503, exit code 0', async () => {
    const mock = await startMock();
    const gw = await startGateway({ config: testConfig({ openaiUrl: mock.url }) });
    try {
      const sock = net.connect({ port: gw.port, host: '127.0.0.1' });
      let buf = Buffer.alloc(0);
      let firstData;
      const gotFirst = new Promise((r) => { firstData = r; });
      const closed = new Promise((r) => sock.on('close', r));
      sock.on('data', (c) => { buf = Buffer.concat([buf, c]); if (buf.includes('data:')) firstData(); });
      sock.on('error', () => {});
      await new Promise((r) => sock.on('connect', r));
      sock.write(httpBytes('POST', '/v1/chat/completions', { 'content-type': 'application/json', 'x-mock-scenario': 'slow-stream:150' },
        JSON.stringify({ model: 'gpt-4o', stream: true, max_tokens: 8, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'drain me' }] })));
      await gotFirst;
      const t0 = Date.now();
      gw.proc.kill('SIGTERM');
      await sleep(200);
      const ready = await getText(`${gw.adminUrl}/readyz`).catch((e) => ({ status: `error ${e.cause?.code ?? e}` }));
      assert.equal(ready.status, 503, 'readyz while draining');
      const exit = await gw.exitPromise;
      await closed;
      const tookMs = Date.now() - t0;
      const r = parseResponses(buf).responses[0];
      assert.ok(r, `complete response: ${buf.toString('latin1')}`);
      const evs = parseSse(r.text);
      assert.equal(evs[evs.length - 1].data, '[DONE]');
      assert.equal(JSON.parse(evs[evs.length - 2].data).usage.completion_tokens, 8);
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(tookMs >= 700, `exited ${tookMs} ms after SIGTERM, before the stream could finish`);
      const newConn = await fetch(`${gw.url}/v1/models`).then((x) => x.status, (e) => `refused (${e.cause?.code})`);
      assert.match(String(newConn), /refused/);
    } finally {
      await gw.stop('SIGKILL');
      await mock.close();
    }
  });

  it('SIGTERM with nothing in flight exits 0 promptly', async () => {
    const mock = await startMock();
    const gw = await startGateway({ config: testConfig({ openaiUrl: mock.url }) });
    try {
      await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o', messages: [] }); // leaves an idle keep-alive
      const t0 = Date.now();
      const exit = await gw.stop('SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
    } finally { await mock.close(); }
  });
});
