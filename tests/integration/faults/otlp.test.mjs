// Dependency faults, the OTLP collector: tests/mock/otlp_receiver.mjs behind tests/lib/fault_proxy.mjs. A
// collector that accepts connections and never answers (blackhole): requests through the gateway are answered as
// fast as before, every export ends at otlp.timeout and is retried then dropped, spans beyond the bounded queue are
// dropped and counted, the spans held stay within queue_size (+ one batch being built) and the process does not
// grow; once the collector answers again, export resumes by itself. docs/operations.md, "Observability", OTLP export.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startMock, startGateway, testConfig, postJson, getText, metricValue, waitFor, sleep, SANITIZED } from '../../lib/harness.mjs';
import { startOtlpReceiver } from '../../mock/otlp_receiver.mjs';
import { startFaultProxy } from '../../lib/fault_proxy.mjs';

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 };
const QUEUE = 16;
const BATCH = 4;

const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
const spans = (m, result) => metricValue(m, 'tollway_otlp_spans_total', { result });

async function timedRequests(gw, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    const r = await postJson(`${gw.url}/v1/chat/completions`, CHAT);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    assert.equal(r.status, 200);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(n / 2)], max: times[n - 1] };
}

describe('faults: an OTLP collector that accepts and never answers', () => {
  let mock; let receiver; let proxy; let gw;
  before(async () => {
    mock = await startMock();
    receiver = await startOtlpReceiver();
    proxy = await startFaultProxy({ target: { port: Number(new URL(receiver.url).port) } });
    const cfg = testConfig({ openaiUrl: mock.url });
    cfg.telemetry = {
      tracing: { sample_ratio: '1', trust_incoming: 'always' },
      otlp: { endpoint: proxy.url('http'), timeout: '1s', traces_interval: '50ms', metrics_interval: '1h',
        queue_size: String(QUEUE), batch_size: String(BATCH) },
    };
    gw = await startGateway({ config: cfg });
  });
  after(async () => { await gw?.stop(); await proxy?.close(); await receiver?.close(); await mock?.close(); });

  it('requests are not slowed, spans are dropped and counted, memory stays bounded, export resumes', async (t) => {
    const metrics = async () => (await getText(`${gw.adminUrl}/metrics`)).text;
    const quiet = await timedRequests(gw, 20);
    // (A loaded machine may drop some of these 40 spans already: the queue holds 16.)
    await waitFor(async () => spans(await metrics(), 'exported') > 0, { timeoutMs: 10000 });
    assert.ok(spans(await metrics(), 'exported') > 0, `spans are exported while the collector answers:\n${await metrics()}`);

    proxy.setMode({ kind: 'blackhole' });
    await sleep(100);  // an export request already through the proxy is received before the count
    const receivedBeforeFault = receiver.requests.length;
    const before = await metrics();
    const rssBefore = rssKiB(gw.proc.pid);
    const faulty = await timedRequests(gw, 200);
    // Not slowed: the request path never waits for the exporter.
    assert.ok(faulty.median < Math.max(100, quiet.median * 3),
      `median ${faulty.median.toFixed(1)} ms with the collector hung, ${quiet.median.toFixed(1)} ms before`);
    // Never held for an export (each hangs for otlp.timeout, 1 s, then backs off for seconds).
    assert.ok(faulty.max < (SANITIZED ? 5000 : 2000), `slowest request ${faulty.max.toFixed(1)} ms`);
    const during = await waitFor(async () => {
      const t = await metrics();
      return spans(t, 'dropped') > spans(before, 'dropped') &&
        metricValue(t, 'tollway_otlp_export_requests_total', { signal: 'traces', result: 'retried' }) >
          metricValue(before, 'tollway_otlp_export_requests_total', { signal: 'traces', result: 'retried' }) ? t : null;
    }, { timeoutMs: 5000 });
    assert.ok(during, 'spans beyond the queue are dropped and counted; hung exports are retried');
    // Every span made is accounted for: exported, failed, rejected, dropped, or still held — and what is held is
    // bounded by the queue plus the batch being built.
    t.diagnostic(`median ${quiet.median.toFixed(1)} ms before, ${faulty.median.toFixed(1)} ms (max ${faulty.max.toFixed(1)}) with the collector hung; ${spans(during, 'dropped')} spans dropped`);
    const held = spans(during, 'queued') - spans(during, 'exported') - spans(during, 'failed') - spans(during, 'rejected');
    assert.ok(held >= 0 && held <= QUEUE + BATCH, `${held} spans held (queue_size ${QUEUE}, batch_size ${BATCH})`);
    if (!SANITIZED) {
      const grown = rssKiB(gw.proc.pid) - rssBefore;
      assert.ok(grown < 8 * 1024, `RSS grew by ${grown} KiB over 200 requests with the collector hung`);
      t.diagnostic(`RSS ${rssBefore} KiB -> ${rssBefore + grown} KiB; ${held} spans held`);
    }
    assert.equal(receiver.requests.length, receivedBeforeFault, 'nothing reached the collector through the blackhole');

    proxy.setMode({ kind: 'pass' });
    const exportedBefore = spans(await metrics(), 'exported');
    const received = receiver.requests.length;
    // New spans, then the exporter (after its backoff) gets through again.
    await timedRequests(gw, 10);
    const healed = Date.now();
    const resumed = await waitFor(async () => spans(await metrics(), 'exported') > exportedBefore, { timeoutMs: 20000, intervalMs: 200 });
    assert.ok(resumed, 'export resumes once the collector answers');
    t.diagnostic(`export resumed ${Date.now() - healed} ms after the collector answered again`);
    assert.ok(receiver.requests.length > received, 'the collector received new export requests');
  });
});
