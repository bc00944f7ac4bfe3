// Dependency faults, the provider: the mock provider behind tests/lib/fault_proxy.mjs. A provider that hangs before
// the response head ends in 504 upstream_timeout after timeouts.upstream_first_byte (a timeout is not retried by
// default); one that hangs mid-stream is cut at timeouts.upstream_total and one that resets mid-stream is cut at
// once, the client's connection closed without the last chunk, and the text delivered is charged as an estimate
// (usage line, spend log); one that resets every connection is retried as the route's retries say, then 502
// upstream_unavailable. With timeouts.upstream_idle below both, a provider silent mid-stream is cut once it has
// been silent that long (the same cut, estimate and counts), and one silent before its head gets a 504 in the
// caller's API format. docs/operations.md, "Failure behaviour" and "Resilience".
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import {
  startMock, startGateway, testConfig, getText, metricValue, waitFor, assertOpenAIError, assertAnthropicError, tempDir,
} from '../../lib/harness.mjs';
import { startFaultProxy } from '../../lib/fault_proxy.mjs';

const FIRST_BYTE_MS = 500;
const TOTAL_MS = 2000;

/** POSTs JSON and reads the answer as it comes: {status, body, complete (the response ended properly), ms, id}. */
function exchange(url, body) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      answered = true;
      const chunks = [];
      let complete = false;
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => { complete = true; });
      res.on('close', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'),
        complete: complete && res.complete, ms: Date.now() - started, id: res.headers['x-request-id'] }));
      res.on('error', () => {});
    });
    req.on('error', (e) => { if (!answered) reject(e); });  // after the head, a cut shows as complete: false
    req.end(JSON.stringify(body));
  });
}

const chat = (extra = {}) => ({ model: 'gpt-4o-mini', max_tokens: 60, messages: [{ role: 'user', content: 'tell me a story' }], ...extra });
const sqlite = (file, query) => spawnSync('sqlite3', [file, query], { encoding: 'utf8' }).stdout.trim();

describe('faults: provider hangs or resets', () => {
  let mock; let proxy; let gw; let dir; let spendDb;
  before(async () => {
    mock = await startMock();
    proxy = await startFaultProxy({ target: { port: mock.port } });
    dir = tempDir('tollway-faults-provider-');
    spendDb = `${dir}/spend.db`;
    gw = await startGateway({ config: testConfig({ openaiUrl: proxy.url('http'), over: {
      timeouts: { upstream_first_byte: `${FIRST_BYTE_MS}ms`, upstream_total: `${TOTAL_MS}ms` },
      limits: { spend_log: { path: spendDb, flush_interval: '20ms' },
        budgets: [{ name: 'day', unit: 'total_tokens', limit: 10000000, period: 'day' }] },
    } }) });
  });
  after(async () => { await gw?.stop(); await proxy?.close(); await mock?.close(); });

  const usageLine = (id) => gw.waitForLog((o) => o && o.msg === 'usage' && o.request_id === id);
  const spendRow = async (id) => {
    await waitFor(() => sqlite(spendDb, `SELECT count(*) FROM spend WHERE request_id = '${id}'`) === '1');
    const [input, output, estimated] = sqlite(spendDb,
      `SELECT input_tokens, output_tokens, estimated FROM spend WHERE request_id = '${id}'`).split('|').map(Number);
    return { input, output, estimated };
  };

  it('hangs before the head: 504 upstream_timeout after upstream_first_byte, not retried, then serves again', async (t) => {
    proxy.setMode({ kind: 'pass' });
    assert.equal((await exchange(`${gw.url}/v1/chat/completions`, chat())).status, 200);
    proxy.setMode({ kind: 'hang-before-head' });
    const accepted = proxy.stats.accepted;
    const attemptsBefore = mock.requests.length;
    const r = await exchange(`${gw.url}/v1/chat/completions`, chat());
    assert.equal(r.status, 504, r.body);
    assertOpenAIError(JSON.parse(r.body), { code: 'upstream_timeout' });
    assert.ok(r.ms >= FIRST_BYTE_MS - 50, `answered after ${r.ms} ms, the first-byte timeout is ${FIRST_BYTE_MS} ms`);
    assert.ok(r.ms < FIRST_BYTE_MS + 3000, `answered after ${r.ms} ms`);
    t.diagnostic(`504 after ${r.ms} ms (upstream_first_byte ${FIRST_BYTE_MS} ms)`);
    // The provider got the request once (timeouts are not in the default retries.on), on at most one new connection.
    assert.equal(mock.requests.length - attemptsBefore, 1);
    assert.ok(proxy.stats.accepted - accepted <= 1);
    assert.equal(gw.logs.filter((o) => o.msg === 'upstream attempt failed').length, 0);
    const m = (await getText(`${gw.adminUrl}/metrics`)).text;
    assert.ok(metricValue(m, 'gen_ai_server_request_duration_seconds_count', { error_type: 'timeout' }) >= 1);
    // The held connection is not reused: the next request is answered.
    proxy.setMode({ kind: 'pass' });
    assert.equal((await exchange(`${gw.url}/v1/chat/completions`, chat())).status, 200);
  });

  it('hangs mid-stream: cut at upstream_total, connection closed without the last chunk, delivered text charged as an estimate', async (t) => {
    proxy.setMode({ kind: 'pass' });
    const full = await exchange(`${gw.url}/v1/chat/completions`, chat({ stream: true }));
    assert.equal(full.status, 200);
    assert.ok(full.complete);
    const fullUsage = await usageLine(full.id);
    assert.equal(fullUsage.usage_known, true);

    // Head and a first part of the stream (about a sixth of what the provider sends), then nothing.
    proxy.setMode({ kind: 'hang-after', bytes: 3000 });
    const r = await exchange(`${gw.url}/v1/chat/completions`, chat({ stream: true }));
    assert.equal(r.status, 200, 'the head was relayed before the hang');
    assert.equal(r.complete, false, 'the client sees the response end without its last chunk');
    assert.ok(r.body.includes('data: {'), 'some events reached the client');
    assert.ok(!r.body.includes('data: [DONE]'), 'the end of the stream did not');
    assert.ok(r.ms >= TOTAL_MS - 100 && r.ms < TOTAL_MS + 3000, `cut after ${r.ms} ms; upstream_total is ${TOTAL_MS} ms`);
    const u = await usageLine(r.id);
    assert.equal(u.usage_known, false);
    assert.equal(u.usage_estimated, true);
    assert.ok(u.output_tokens > 0 && u.output_tokens < fullUsage.output_tokens,
      `estimated output ${u.output_tokens} of ${fullUsage.output_tokens}`);
    t.diagnostic(`cut after ${r.ms} ms (upstream_total ${TOTAL_MS} ms); ${u.output_tokens} of ${fullUsage.output_tokens} output tokens delivered and charged`);
    const row = await spendRow(r.id);
    assert.deepEqual(row, { input: u.input_tokens, output: u.output_tokens, estimated: 1 }, 'the spend log charges the estimate');
    const m = (await getText(`${gw.adminUrl}/metrics`)).text;
    assert.ok(metricValue(m, 'gen_ai_server_request_duration_seconds_count', { error_type: 'timeout' }) >= 2);
    assert.equal(metricValue(m, 'tollway_limits_reservations_open'), 0, 'the reservation was settled');
    proxy.setMode({ kind: 'pass' });
  });

  it('resets mid-stream: cut at once, delivered text charged as an estimate', async (t) => {
    proxy.setMode({ kind: 'reset', afterBytes: 3000 });
    const r = await exchange(`${gw.url}/v1/chat/completions`, chat({ stream: true }));
    assert.equal(r.status, 200);
    assert.equal(r.complete, false);
    assert.ok(r.ms < TOTAL_MS, `cut after ${r.ms} ms, without waiting for upstream_total`);
    const u = await usageLine(r.id);
    assert.equal(u.usage_estimated, true);
    assert.ok(u.output_tokens > 0, JSON.stringify(u));
    t.diagnostic(`cut after ${r.ms} ms; ${u.output_tokens} output tokens charged as an estimate`);
    const row = await spendRow(r.id);
    assert.deepEqual(row, { input: u.input_tokens, output: u.output_tokens, estimated: 1 });
    const m = (await getText(`${gw.adminUrl}/metrics`)).text;
    assert.ok(metricValue(m, 'gen_ai_server_request_duration_seconds_count', { error_type: 'response_cut' }) >= 1);
    proxy.setMode({ kind: 'pass' });
  });

  it('resets every connection before answering: retried (retries.attempts 2 by default), then 502 upstream_unavailable', async (t) => {
    proxy.setMode({ kind: 'reset', afterBytes: 0 });
    const resets = proxy.stats.resets;
    const failedBefore = gw.logs.filter((o) => o.msg === 'upstream attempt failed').length;
    const r = await exchange(`${gw.url}/v1/chat/completions`, chat());
    assert.equal(r.status, 502, r.body);
    assertOpenAIError(JSON.parse(r.body), { code: 'upstream_unavailable' });
    // Three attempts: the first and two retries (a reused pooled connection found dead may add one more, which
    // the docs say is not counted as a retry).
    const attempts = proxy.stats.resets - resets;
    assert.ok(attempts >= 3 && attempts <= 4, `${attempts} connections reset`);
    t.diagnostic(`502 after ${r.ms} ms, ${attempts} connections reset`);
    const failed = gw.logs.filter((o) => o.msg === 'upstream attempt failed').slice(failedBefore);
    assert.equal(failed.length, 2, JSON.stringify(failed));
    assert.deepEqual(failed.map((o) => o.next), ['retry', 'retry']);
    // Nothing was charged: no answer, no usage.
    const u = await usageLine(r.id);
    assert.equal(u.output_tokens, 0);
    proxy.setMode({ kind: 'pass' });
    assert.equal((await exchange(`${gw.url}/v1/chat/completions`, chat())).status, 200);
  });
});

describe('faults: provider silent for timeouts.upstream_idle', () => {
  const IDLE_MS = 400;
  const LONG_MS = 20000;  // upstream_first_byte and upstream_total: far beyond every wait here
  let mock; let proxy; let gw; let dir; let spendDb;
  before(async () => {
    mock = await startMock();
    proxy = await startFaultProxy({ target: { port: mock.port } });
    dir = tempDir('tollway-faults-idle-');
    spendDb = `${dir}/spend.db`;
    gw = await startGateway({ config: testConfig({ openaiUrl: proxy.url('http'), anthropicUrl: proxy.url('http'), over: {
      timeouts: { upstream_first_byte: `${LONG_MS}ms`, upstream_idle: `${IDLE_MS}ms`, upstream_total: `${LONG_MS}ms` },
      limits: { spend_log: { path: spendDb, flush_interval: '20ms' },
        budgets: [{ name: 'day', unit: 'total_tokens', limit: 10000000, period: 'day' }] },
    } }) });
  });
  after(async () => { await gw?.stop(); await proxy?.close(); await mock?.close(); });

  it('silent mid-stream: cut after upstream_idle of silence, charged as an estimate, counted as a timeout', async (t) => {
    proxy.setMode({ kind: 'pass' });
    const full = await exchange(`${gw.url}/v1/chat/completions`, chat({ stream: true }));
    assert.equal(full.status, 200);
    assert.ok(full.complete);
    const fullUsage = await gw.waitForLog((o) => o && o.msg === 'usage' && o.request_id === full.id);
    const before = metricValue((await getText(`${gw.adminUrl}/metrics`)).text, 'gen_ai_server_request_duration_seconds_count',
      { error_type: 'timeout' }) ?? 0;

    proxy.setMode({ kind: 'hang-after', bytes: 3000 });
    const r = await exchange(`${gw.url}/v1/chat/completions`, chat({ stream: true }));
    assert.equal(r.status, 200, 'the head was relayed before the silence');
    assert.equal(r.complete, false, 'the client sees the response end without its last chunk');
    assert.ok(r.body.includes('data: {') && !r.body.includes('data: [DONE]'));
    assert.ok(r.ms >= IDLE_MS - 50 && r.ms < IDLE_MS + 3000, `cut after ${r.ms} ms; upstream_idle is ${IDLE_MS} ms`);
    const u = await gw.waitForLog((o) => o && o.msg === 'usage' && o.request_id === r.id);
    assert.equal(u.usage_known, false);
    assert.equal(u.usage_estimated, true);
    assert.ok(u.output_tokens > 0 && u.output_tokens < fullUsage.output_tokens, JSON.stringify(u));
    await waitFor(() => sqlite(spendDb, `SELECT count(*) FROM spend WHERE request_id = '${r.id}'`) === '1');
    assert.equal(sqlite(spendDb, `SELECT output_tokens, estimated FROM spend WHERE request_id = '${r.id}'`), `${u.output_tokens}|1`);
    const m = (await getText(`${gw.adminUrl}/metrics`)).text;
    assert.equal(metricValue(m, 'gen_ai_server_request_duration_seconds_count', { error_type: 'timeout' }), before + 1);
    assert.ok(metricValue(m, 'tollway_upstream_errors_total', { provider: 'openai', kind: 'timeout' }) >= 1);
    assert.equal(metricValue(m, 'tollway_limits_reservations_open'), 0);
    t.diagnostic(`cut after ${r.ms} ms (upstream_idle ${IDLE_MS} ms, upstream_total ${LONG_MS} ms); ` +
      `${u.output_tokens} of ${fullUsage.output_tokens} output tokens charged as an estimate`);
    proxy.setMode({ kind: 'pass' });
  });

  it('silent before the head: 504 upstream_timeout in the caller\'s format after upstream_idle', async (t) => {
    proxy.setMode({ kind: 'hang-before-head' });
    const openai = await exchange(`${gw.url}/v1/chat/completions`, chat());
    assert.equal(openai.status, 504, openai.body);
    assertOpenAIError(JSON.parse(openai.body), { code: 'upstream_timeout' });
    assert.match(JSON.parse(openai.body).error.message, /timeouts\.upstream_idle/);
    assert.ok(openai.ms >= IDLE_MS - 50 && openai.ms < IDLE_MS + 3000, `504 after ${openai.ms} ms`);
    const anthropic = await exchange(`${gw.url}/v1/messages`,
      { model: 'claude-3-5-haiku-latest', max_tokens: 30, messages: [{ role: 'user', content: 'hello' }] });
    assert.equal(anthropic.status, 504, anthropic.body);
    assertAnthropicError(JSON.parse(anthropic.body), {});
    assert.ok(anthropic.ms < IDLE_MS + 3000, `504 after ${anthropic.ms} ms`);
    t.diagnostic(`504 after ${openai.ms} ms (OpenAI caller) and ${anthropic.ms} ms (Anthropic caller); upstream_idle ${IDLE_MS} ms, upstream_first_byte ${LONG_MS} ms`);
    proxy.setMode({ kind: 'pass' });
    assert.equal((await exchange(`${gw.url}/v1/chat/completions`, chat())).status, 200);
  });
});
