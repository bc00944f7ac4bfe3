// A real Prometheus server (Debian's `prometheus`) scrapes a running gateway's admin /metrics: started on an
// ephemeral port with a generated config and a temporary storage directory, it must report the target up and
// hold tollway and GenAI series queried through its HTTP API. Killed at the end.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { startMock, startGateway, testConfig, postJson, waitFor, tempDir, removeTempDir, unusedPort } from '../../lib/harness.mjs';

describe('Prometheus scrapes the gateway', () => {
  let mock; let gw; let prom; let dir; let promUrl; const promLog = [];
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url }) });
    dir = tempDir('tollway-prom-');
    const port = await unusedPort();
    promUrl = `http://127.0.0.1:${port}`;
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: tollway',
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: ["127.0.0.1:${gw.adminPort}"]`,
      '',
    ].join('\n'));
    prom = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout.on('data', (c) => promLog.push(c.toString()));
    prom.stderr.on('data', (c) => promLog.push(c.toString()));
  });
  after(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom.on('exit', r));
      prom.kill('SIGKILL');
      await exited;
    }
    await gw?.stop(); await mock?.close();
    if (dir) removeTempDir(dir);
  });

  const query = async (q) => {
    try {
      const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
      if (r.status !== 200) return null;
      const j = await r.json();
      return j.status === 'success' ? j.data.result : null;
    } catch { return null; }
  };

  it('the target is up and tollway / gen_ai series are queryable', async () => {
    for (let i = 0; i < 3; i++)
      assert.equal((await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', max_tokens: 4,
        messages: [{ role: 'user', content: 'scrape me' }] })).status, 200);
    const up = await waitFor(async () => {
      const r = await query('up{job="tollway"}');
      return r && r.length === 1 && r[0].value[1] === '1' ? r : null;
    }, { timeoutMs: 20000, intervalMs: 250 });
    assert.ok(up, `target not up; prometheus said:\n${promLog.join('')}`);
    const requests = await waitFor(async () => {
      const r = await query('sum(tollway_requests_total{route="/v1/chat/completions"})');
      return r && r.length === 1 && Number(r[0].value[1]) >= 3 ? r : null;
    }, { timeoutMs: 20000, intervalMs: 250 });
    assert.ok(requests, 'tollway_requests_total scraped');
    const tokens = await query('sum by (gen_ai_token_type) (gen_ai_client_token_usage_count{gen_ai_request_model="gpt-4o-mini"})');
    assert.deepEqual(tokens.map((s) => s.metric.gen_ai_token_type).sort(), ['input', 'output']);
    // error_type on the duration of a failed call only: a series without it holds the three successes.
    assert.equal((await postJson(`${gw.url}/v1/chat/completions`, { model: 'gpt-4o-mini', max_tokens: 4,
      messages: [{ role: 'user', content: 'fail me' }] }, { 'x-mock-scenario': 'fail:429' })).status, 429);
    const failed = await waitFor(async () => {
      const r = await query('gen_ai_server_request_duration_seconds_count{error_type="429"}');
      return r && r.length === 1 && r[0].value[1] === '1' ? r : null;
    }, { timeoutMs: 20000, intervalMs: 250 });
    assert.ok(failed, 'the failed call\'s duration has error_type="429"');
    const ok = await query('gen_ai_server_request_duration_seconds_count{error_type=""}');
    assert.equal(ok.length, 1);
    assert.equal(ok[0].value[1], '3', 'the successes have no error_type label');
    assert.equal(ok[0].metric.error_type, undefined);
    const scrapeSamples = await query('scrape_samples_scraped{job="tollway"}');
    assert.ok(Number(scrapeSamples[0].value[1]) > 50);
  });
});
