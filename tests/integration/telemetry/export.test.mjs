// The OTLP exporter's rules against a receiver written for the tests: 429 (with Retry-After) and 503 are
// retried with the same payload; 400 is not; a 200 with partialSuccess is not retried (and the rejected spans
// are counted); with the collector down requests are answered as fast as before and the spans the bounded
// queue cannot hold are dropped and counted.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startGateway, testConfig, postJson, getText, metricValue, waitFor, sleep, unusedPort } from '../../lib/harness.mjs';
import { startOtlpReceiver, checkTraceRequest } from '../../mock/otlp_receiver.mjs';

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 };

function config(mock, endpoint, otlp = {}) {
  const cfg = testConfig({ openaiUrl: mock.url });
  cfg.telemetry = {
    tracing: { sample_ratio: '1', trust_incoming: 'always' },
    otlp: { endpoint, traces_interval: '50ms', metrics_interval: '1h', ...otlp },
  };
  return cfg;
}
const traceRequests = (receiver) => receiver.requests.filter((r) => r.signal === 'traces');
const metricsText = async (gw) => (await getText(`${gw.adminUrl}/metrics`)).text;

describe('OTLP export retries', () => {
  let mock; let receiver; let gw;
  before(async () => {
    mock = await startMock();
    receiver = await startOtlpReceiver();
    gw = await startGateway({ config: config(mock, receiver.url) });
  });
  after(async () => { await gw?.stop(); await mock?.close(); await receiver?.close(); });

  it('429 with Retry-After then 503: the same payload is sent again until it is accepted', async () => {
    receiver.reset();
    receiver.answerNext(1, 429, { headers: { 'retry-after': '1' } });
    receiver.answerNext(1, 503);
    await postJson(`${gw.url}/v1/chat/completions`, CHAT);
    const got = await waitFor(() => traceRequests(receiver).length >= 3, { timeoutMs: 8000 });
    assert.ok(got, `expected 3 export attempts, got ${traceRequests(receiver).length}`);
    const [a, b, c] = traceRequests(receiver);
    assert.deepEqual([a.answeredWith, b.answeredWith, c.answeredWith], [429, 503, 200]);
    assert.ok(a.raw.equals(b.raw) && b.raw.equals(c.raw), 'a retry sends the same bytes');
    checkTraceRequest(c.payload);
    assert.equal(receiver.connections, 1, 'the attempts share one kept connection');
    const m = await metricsText(gw);
    assert.ok(metricValue(m, 'tollway_otlp_export_requests_total', { signal: 'traces', result: 'retried' }) >= 2);
    assert.equal(metricValue(m, 'tollway_otlp_spans_total', { result: 'exported' }), 2);
  });

  it('400 is not retried: the batch is dropped and counted', async () => {
    receiver.reset();
    receiver.answerNext(1, 400, { body: '{"code":3,"message":"bad"}' });
    const before = await metricsText(gw);
    await postJson(`${gw.url}/v1/chat/completions`, CHAT);
    await waitFor(() => traceRequests(receiver).length >= 1);
    await sleep(1500);  // longer than the first backoff: a retry would have come
    assert.equal(traceRequests(receiver).length, 1);
    const after = await metricsText(gw);
    assert.equal(metricValue(after, 'tollway_otlp_spans_total', { result: 'failed' }) -
      metricValue(before, 'tollway_otlp_spans_total', { result: 'failed' }), 2);
  });

  it('partial success is not retried; the rejected count is logged and counted', async () => {
    receiver.reset();
    receiver.answerNext(1, 200, { body: '{"partialSuccess":{"rejectedSpans":"1","errorMessage":"span too old"}}' });
    await postJson(`${gw.url}/v1/chat/completions`, CHAT);
    await waitFor(() => traceRequests(receiver).length >= 1);
    const line = await gw.waitForLog((o) => o && o.msg === 'OTLP export partially rejected; not retried', 5000);
    assert.equal(line.rejected, 1);
    assert.equal(line.error_message, 'span too old');
    await sleep(1500);
    assert.equal(traceRequests(receiver).length, 1);
    const m = await metricsText(gw);
    assert.equal(metricValue(m, 'tollway_otlp_spans_total', { result: 'rejected' }), 1);
    assert.equal(metricValue(m, 'tollway_otlp_export_requests_total', { signal: 'traces', result: 'partial_success' }), 1);
  });
});

describe('collector down', () => {
  let mock;
  before(async () => { mock = await startMock(); });
  after(async () => { await mock?.close(); });

  it('requests are unaffected, and spans beyond the bounded queue are dropped and counted', async () => {
    const port = await unusedPort();
    const gw = await startGateway({ config: config(mock, `http://127.0.0.1:${port}`, { queue_size: '16', batch_size: '4' }) });
    try {
      const times = [];
      for (let i = 0; i < 60; i++) {
        const t = process.hrtime.bigint();
        const r = await postJson(`${gw.url}/v1/chat/completions`, CHAT);
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
        assert.equal(r.status, 200);
      }
      times.sort((a, b) => a - b);
      assert.ok(times[Math.floor(times.length / 2)] < 100, `median ${times[Math.floor(times.length / 2)]} ms`);
      const m = await waitFor(async () => {
        const t = await metricsText(gw);
        return metricValue(t, 'tollway_otlp_spans_total', { result: 'dropped' }) > 0 ? t : null;
      });
      assert.ok(m, 'spans were dropped and counted');
      assert.equal(metricValue(m, 'tollway_otlp_spans_total', { result: 'exported' }), 0);
      assert.ok(metricValue(m, 'tollway_otlp_export_requests_total', { signal: 'traces', result: 'retried' }) >= 1, m);
    } finally {
      const t = Date.now();
      await gw.stop();
      assert.ok(Date.now() - t < 5000, 'shutdown does not wait out the export backoff');
    }
  });
});
