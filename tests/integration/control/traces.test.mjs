// The control plane's OTLP/HTTP trace receiver (POST /v1/traces) and its window, on a real `tollway control`: JSON
// spans are taken (plain and gzip) and answered {} as OTLP asks; protobuf and other media types get 415 with a clear
// message; a malformed body gets 400 naming the bad field and stores nothing of the request; without a client
// certificate, the trace token or --traces-unauthenticated a sender gets 401; the window never holds more than
// --trace-window-spans (whole oldest traces evicted, counted in /metrics, which promtool accepts); a trace over the
// bound is answered with partialSuccess; the queries need the admin token; --trace-window-spans 0 turns it all off.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { tempDir, metricValue } from '../../lib/harness.mjs';
import { policyDir, startControl, BASE, MODELS, providers } from './control_harness.mjs';

const ADMIN = 'admin-secret';
const TRACE_TOKEN = 'trace-sender-token';
const WINDOW = 20;

const hex = (n, digits) => n.toString(16).padStart(digits, '0');
const traceId = (n) => `4bf92f3577b34da6${hex(n, 16)}`;
const spanId = (t, n) => `${hex(t, 8)}${hex(n, 8)}`;
// One ExportTraceServiceRequest: `traces` traces (numbered from `first`) of `spansEach` spans, a root and its children.
function exportRequest({ first = 1, traces = 1, spansEach = 1, service = 'tollway-gateway' } = {}) {
  const spans = [];
  for (let t = first; t < first + traces; ++t) {
    for (let s = 1; s <= spansEach; ++s) {
      const start = 1700000000000000000n + BigInt(t) * 1000000n + BigInt(s) * 1000n;
      spans.push({ traceId: traceId(t), spanId: spanId(t, s), parentSpanId: s === 1 ? '' : spanId(t, 1),
        name: s === 1 ? 'POST /v1/chat/completions' : `chat attempt ${s}`, kind: s === 1 ? 2 : 3,
        startTimeUnixNano: String(start), endTimeUnixNano: String(start + 500000n), status: {} });
    }
  }
  return { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
    scopeSpans: [{ scope: { name: 'test' }, spans }] }] };
}

describe('POST /v1/traces', () => {
  let cp; let off;
  const post = async (body, headers = {}, url = cp.url) => {
    const r = await fetch(`${url}/v1/traces`, { method: 'POST', body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TRACE_TOKEN}`, ...headers } });
    return { status: r.status, json: await r.json() };
  };
  const query = async (p, token = ADMIN) => {
    const r = await fetch(`${cp.url}${p}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: r.status, json: await r.json() };
  };

  before(async () => {
    const policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers('http://127.0.0.1:9', 'http://127.0.0.1:9'));
    policy.write('models.yaml', MODELS);
    policy.write('nodes.yaml', 'nodes: {}\n');
    const tokenFile = path.join(tempDir('tollway-trace-token-'), 'trace.token');
    fs.writeFileSync(tokenFile, `${TRACE_TOKEN}\n`);
    cp = await startControl({ policy: policy.dir, adminToken: ADMIN,
      extraArgs: ['--trace-window-spans', String(WINDOW), '--trace-token-file', tokenFile] });
    off = await startControl({ policy: policy.dir, adminToken: ADMIN, extraArgs: ['--trace-window-spans', '0'] });
  });
  after(async () => {
    await cp?.stop();
    await off?.stop();
  });

  it('takes OTLP JSON spans, plain and gzip, and answers {}', async () => {
    assert.deepEqual(await post(exportRequest({ first: 1, spansEach: 3 })), { status: 200, json: {} });
    const gz = zlib.gzipSync(JSON.stringify(exportRequest({ first: 2, spansEach: 2 })));
    assert.deepEqual(await post(gz, { 'content-encoding': 'gzip' }), { status: 200, json: {} });
    const list = await query('/v1/traces');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.traces.map((t) => [t.trace_id, t.span_count]), [[traceId(2), 2], [traceId(1), 3]]);
    const trace = await query(`/v1/traces/${traceId(1)}`);
    assert.equal(trace.status, 200);
    assert.deepEqual(trace.json.spans.map((s) => [s.span_id, s.depth]), [[spanId(1, 1), 0], [spanId(1, 2), 1], [spanId(1, 3), 1]]);
    assert.equal(trace.json.services[0], 'tollway-gateway');
  });

  it('answers protobuf and other media types 415, and a bad encoding 415 or 400', async () => {
    const proto = await post(Buffer.from([0x0a, 0x00]), { 'content-type': 'application/x-protobuf' });
    assert.equal(proto.status, 415);
    assert.match(proto.json.message, /accepts only OTLP\/HTTP JSON/);
    assert.match(proto.json.message, /encoding: json/);
    assert.equal((await post('{}', { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await post('{}', { 'content-encoding': 'br' })).status, 415);
    const notGzip = await post('{}', { 'content-encoding': 'gzip' });
    assert.equal(notGzip.status, 400);
    assert.match(notGzip.json.message, /gzip/);
  });

  it('answers a malformed request 400 with the bad field\'s path and stores nothing of it', async () => {
    const before = (await query('/v1/traces')).json.spans_held;
    const body = exportRequest({ first: 50, traces: 2, spansEach: 2 });
    body.resourceSpans[0].scopeSpans[0].spans[3].endTimeUnixNano = 'soon';
    const r = await post(body);
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 3, 'an OTLP Status: INVALID_ARGUMENT');
    assert.match(r.json.message, /^nothing stored from this request: resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[3\]\.endTimeUnixNano: /);
    const notJson = await post('{"resourceSpans":[');
    assert.equal(notJson.status, 400);
    assert.match(notJson.json.message, /not JSON/);
    assert.equal((await query('/v1/traces')).json.spans_held, before);
    assert.equal((await query(`/v1/traces/${traceId(50)}`)).status, 404, 'the valid first trace was not kept either');
  });

  it('refuses a sender without the trace token (401), and the queries need the admin token', async () => {
    const r = await post(exportRequest({ first: 60 }), { authorization: 'Bearer wrong' });
    assert.equal(r.status, 401);
    assert.match(r.json.message, /--traces-unauthenticated/);
    assert.equal((await query('/v1/traces', TRACE_TOKEN)).status, 401);
    assert.equal((await query(`/v1/traces/${traceId(1)}`, 'wrong')).status, 401);
    assert.equal((await query('/v1/traces/xyz')).status, 400);
    assert.equal((await query('/v1/traces?limit=0')).status, 400);
  });

  it('never holds more than the bound: whole oldest traces go first; a trace over the bound is partly refused', async () => {
    for (let first = 100; first < 130; first += 3) {
      assert.equal((await post(exportRequest({ first, traces: 3, spansEach: 2 }))).status, 200);
      assert.ok((await query('/v1/traces')).json.spans_held <= WINDOW);
    }
    const list = (await query('/v1/traces?limit=1000')).json;
    assert.equal(list.spans_held, WINDOW);
    assert.equal(list.traces.reduce((n, t) => n + t.span_count, 0), WINDOW);
    assert.ok(list.traces.every((t) => t.span_count === 2), 'no trace was cut');
    assert.equal(list.traces[0].trace_id, traceId(129));
    assert.equal((await query(`/v1/traces/${traceId(1)}`)).status, 404);
    const big = await post(exportRequest({ first: 200, spansEach: WINDOW + 5 }));
    assert.equal(big.status, 200);
    assert.equal(big.json.partialSuccess.rejectedSpans, '5');
    assert.match(big.json.partialSuccess.errorMessage, /bound of 20 spans/);
    const metrics = await cp.metrics();
    assert.equal(metricValue(metrics, 'tollway_control_trace_spans_held'), WINDOW);
    assert.equal(metricValue(metrics, 'tollway_control_trace_spans_total', { outcome: 'rejected' }), 5);
    const accepted = metricValue(metrics, 'tollway_control_trace_spans_total', { outcome: 'accepted' });
    const evicted = metricValue(metrics, 'tollway_control_trace_spans_total', { outcome: 'evicted' });
    assert.equal(accepted - evicted, WINDOW);
    assert.equal(metricValue(metrics, 'tollway_control_trace_requests_refused_total', { reason: 'invalid_request' }), 2);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    if (promtool.error) throw new Error(`promtool is required (scripts/install-deps.sh installs it): ${promtool.error.message}`);
    assert.equal(promtool.status, 0, promtool.stderr);
  });

  it('--trace-window-spans 0 turns the receiver and the queries off (404)', async () => {
    const r = await post(exportRequest(), {}, off.url);
    assert.equal(r.status, 404);
    const list = await fetch(`${off.url}/v1/traces`, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(list.status, 404);
    assert.match((await list.json()).error.message, /--trace-window-spans 0/);
  });
});
