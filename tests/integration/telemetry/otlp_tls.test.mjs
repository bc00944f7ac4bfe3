// OTLP export to https collectors, with certificates made by the openssl CLI at test time: a receiver whose
// certificate (for 127.0.0.1) is signed by the configured ca_file gets the spans, decoded and checked; an mTLS
// receiver gets them only with client_cert/client_key and sees the client's name; a receiver whose certificate
// comes from another CA never gets a byte: the exporter retries the batch as a connection error, then drops and
// counts it, while requests keep succeeding. `tollway validate` reports bad TLS files with file:line and key path.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startMock, startGateway, testConfig, postJson, getText, metricValue, waitFor, makeCA, runTollway, tempDir, toYaml,
} from '../../lib/harness.mjs';
import { startOtlpReceiver, checkTraceRequest, allSpans, attrs } from '../../mock/otlp_receiver.mjs';

const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 };

function config(mock, otlp) {
  const cfg = testConfig({ openaiUrl: mock.url });
  cfg.telemetry = {
    tracing: { sample_ratio: '1', trust_incoming: 'always' },
    otlp: { traces_interval: '50ms', metrics_interval: '1h', ...otlp },
  };
  return cfg;
}
const traceRequests = (receiver) => receiver.requests.filter((r) => r.signal === 'traces');
const metricsText = async (gw) => (await getText(`${gw.adminUrl}/metrics`)).text;
const exports = (m, result) => metricValue(m, 'tollway_otlp_export_requests_total', { signal: 'traces', result });

describe('OTLP export over https', () => {
  let ca; let otherCa; let client; let mock;
  before(async () => {
    ca = makeCA({ name: 'collector-ca' });
    otherCa = makeCA({ name: 'some-other-ca' });
    client = ca.clientCert('tollway-client');
    mock = await startMock();
  });
  after(async () => { await mock?.close(); ca?.cleanup(); otherCa?.cleanup(); });

  it('a collector verified with ca_file receives the spans (gzip, path prefix)', async () => {
    const receiver = await startOtlpReceiver({ tls: { key: ca.key, cert: ca.cert } });
    const gw = await startGateway({ config: config(mock, { endpoint: `${receiver.url}/otel`, ca_file: ca.caFile, gzip: 'true' }) });
    try {
      assert.match(receiver.url, /^https:\/\/127\.0\.0\.1:/);
      const r = await postJson(`${gw.url}/v1/chat/completions`, CHAT);
      assert.equal(r.status, 200, r.text);
      assert.ok(await waitFor(() => traceRequests(receiver).length >= 1), 'an export arrived over https');
      const [req] = traceRequests(receiver);
      assert.equal(req.path, '/otel/v1/traces');
      assert.equal(req.headers['content-encoding'], 'gzip');
      assert.equal(req.error, undefined, req.error);
      checkTraceRequest(req.payload);
      const spans = allSpans(receiver.requests);
      const server = spans.find((s) => s.kind === 2);
      assert.ok(server, 'a SERVER span');
      assert.equal(attrs(server.attributes)['gen_ai.request.model'], 'gpt-4o-mini');
      assert.ok(spans.some((s) => s.kind === 3 && s.traceId === server.traceId), 'a CLIENT span of the same trace');
      const m = await waitFor(async () => { const t = await metricsText(gw); return exports(t, 'success') >= 1 ? t : null; });
      assert.ok(m, 'the export is counted as a success');
      assert.equal(exports(m, 'retried'), 0);
      assert.deepEqual(receiver.tlsErrors, []);
    } finally { await gw.stop(); await receiver.close(); }
  });

  it('an mTLS collector receives the spans with the client certificate', async () => {
    const receiver = await startOtlpReceiver({ tls: { key: ca.key, cert: ca.cert, ca: ca.ca } });
    const gw = await startGateway({
      config: config(mock, { endpoint: receiver.url, ca_file: ca.caFile, client_cert: client.certFile, client_key: client.keyFile }),
    });
    try {
      const r = await postJson(`${gw.url}/v1/chat/completions`, CHAT);
      assert.equal(r.status, 200, r.text);
      assert.ok(await waitFor(() => traceRequests(receiver).length >= 1), 'an export arrived over mTLS');
      const [req] = traceRequests(receiver);
      assert.equal(req.clientSubject, 'tollway-client');
      checkTraceRequest(req.payload);
    } finally { await gw.stop(); await receiver.close(); }
  });

  it('a collector certificate from another CA: nothing reaches it, the batch is retried then dropped, requests succeed', async () => {
    const receiver = await startOtlpReceiver({ tls: { key: otherCa.key, cert: otherCa.cert } });
    // timeout 300ms: backoff capped at 3 x timeout (0.9 s, jitter +-50%), so the 5 attempts end within seconds
    const gw = await startGateway({ config: config(mock, { endpoint: receiver.url, ca_file: ca.caFile, timeout: '300ms' }) });
    try {
      const r = await postJson(`${gw.url}/v1/chat/completions`, CHAT);
      assert.equal(r.status, 200, r.text);
      const line = await gw.waitForLog((o) => o && o.msg === 'OTLP export dropped', 15000);
      assert.equal(line.signal, 'traces');
      assert.equal(line.items, 2);
      assert.match(line.error, /TLS handshake failed: certificate verification failed: unable to get local issuer certificate/);
      const m = await metricsText(gw);
      // The OTLP retry rule for connection errors: 4 retries, then the 5th failure drops the batch.
      assert.equal(exports(m, 'retried'), 4);
      assert.equal(exports(m, 'dropped'), 1);
      assert.equal(exports(m, 'success'), 0);
      assert.equal(metricValue(m, 'tollway_otlp_spans_total', { result: 'failed' }), 2);
      assert.equal(receiver.requests.length, 0, 'no request reached the unverified collector');
      await waitFor(() => receiver.tlsErrors.length >= 5, { timeoutMs: 2000 });
      assert.equal(receiver.tlsErrors.length, 5, `the receiver saw 5 refused handshakes: ${receiver.tlsErrors}`);
      for (let i = 0; i < 3; i++) {
        const again = await postJson(`${gw.url}/v1/chat/completions`, CHAT);
        assert.equal(again.status, 200, again.text);
      }
    } finally { await gw.stop(); await receiver.close(); }
  });
});

describe('tollway validate and the OTLP TLS files', () => {
  it('a ca_file without certificates and a key of another certificate are errors at their keys', async () => {
    const ca = makeCA({ name: 'validate-ca' });
    const client = ca.clientCert('tollway-client');
    const dir = tempDir('tollway-validate-');
    try {
      const garbage = path.join(dir, 'garbage.pem');
      fs.writeFileSync(garbage, 'not a certificate\n');
      const file = path.join(dir, 'gateway.yaml');
      const cfg = testConfig({ openaiUrl: 'http://127.0.0.1:9' });
      cfg.telemetry = { otlp: { endpoint: 'https://127.0.0.1:4318', ca_file: garbage, client_cert: client.certFile, client_key: ca.keyFile } };
      fs.writeFileSync(file, toYaml(cfg));
      const bad = await runTollway(['validate', file]);
      assert.equal(bad.code, 1, bad.stderr);
      assert.match(bad.stderr, new RegExp(`gateway\\.yaml:\\d+: telemetry\\.otlp\\.ca_file: "${garbage.replace(/[.]/g, '\\.')}" is not a PEM file of CA certificates \\(OpenSSL: `));
      cfg.telemetry.otlp.ca_file = ca.caFile;
      fs.writeFileSync(file, toYaml(cfg));
      const mismatch = await runTollway(['validate', file]);
      assert.equal(mismatch.code, 1, mismatch.stderr);
      assert.match(mismatch.stderr, /gateway\.yaml:\d+: telemetry\.otlp\.client_key: ".*server\.key" is not the private key of the certificate in ".*tollway-client\.pem"/);
      cfg.telemetry.otlp.client_key = client.keyFile;
      fs.writeFileSync(file, toYaml(cfg));
      const good = await runTollway(['validate', file]);
      assert.equal(good.code, 0, good.stderr);
    } finally { ca.cleanup(); }
  });
});
