// An OTLP/HTTP JSON receiver for the tests: accepts POST /v1/traces and /v1/metrics, decodes the body (gzip
// when Content-Encoding says so, then JSON) and keeps every export request it received. Answers can be scripted
// (a status for the next N requests, a Retry-After, a partialSuccess body). checkTraceRequest / checkMetricsRequest
// assert the OTLP JSON encoding rules on a decoded payload (they throw with the path of the first violation).
// With `tls` it listens for https (and, given `tls.ca`, requires a client certificate signed by it), counts the
// handshakes it refused and records each request's client certificate subject.
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';

const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const UINT64 = /^(0|[1-9][0-9]*)$/;
const LOWER_CAMEL = /^[a-z][a-zA-Z0-9]*$/;

function fail(path, what) { throw new Error(`OTLP ${path}: ${what}`); }

/** Every object key of the payload is lowerCamelCase (attribute keys are values, not object keys). */
function checkKeys(value, path) {
  if (Array.isArray(value)) { value.forEach((v, i) => checkKeys(v, `${path}[${i}]`)); return; }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (!LOWER_CAMEL.test(k)) fail(`${path}.${k}`, 'key is not lowerCamelCase');
      checkKeys(v, `${path}.${k}`);
    }
  }
}

function checkAnyValue(v, path) {
  const keys = Object.keys(v);
  if (keys.length !== 1) fail(path, `AnyValue must have exactly one field, has ${keys}`);
  const [k] = keys;
  if (k === 'intValue' && !(typeof v.intValue === 'string' && /^-?(0|[1-9][0-9]*)$/.test(v.intValue))) fail(path, `intValue must be a decimal string: ${JSON.stringify(v.intValue)}`);
  else if (k === 'stringValue' && typeof v.stringValue !== 'string') fail(path, 'stringValue must be a string');
  else if (k === 'boolValue' && typeof v.boolValue !== 'boolean') fail(path, 'boolValue must be a boolean');
  else if (k === 'doubleValue' && typeof v.doubleValue !== 'number') fail(path, 'doubleValue must be a number');
  else if (!['intValue', 'stringValue', 'boolValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'].includes(k)) fail(path, `unknown AnyValue ${k}`);
}

function checkAttributes(list, path) {
  if (list === undefined) return;
  if (!Array.isArray(list)) fail(path, 'attributes must be an array');
  const seen = new Set();
  list.forEach((a, i) => {
    if (typeof a.key !== 'string' || !a.key) fail(`${path}[${i}]`, 'attribute without key');
    if (seen.has(a.key)) fail(`${path}[${i}]`, `duplicate attribute ${a.key}`);
    seen.add(a.key);
    checkAnyValue(a.value, `${path}[${i}].value`);
  });
}

/** Attributes as a plain object: {key: value} with intValue converted to a Number. */
export function attrs(list = []) {
  const out = {};
  for (const { key, value } of list) {
    if ('intValue' in value) out[key] = Number(value.intValue);
    else out[key] = Object.values(value)[0];
  }
  return out;
}

export function checkTraceRequest(p) {
  checkKeys(p, '$');
  if (!Array.isArray(p.resourceSpans) || !p.resourceSpans.length) fail('$.resourceSpans', 'missing or empty');
  p.resourceSpans.forEach((rs, i) => {
    const path = `$.resourceSpans[${i}]`;
    checkAttributes(rs.resource?.attributes, `${path}.resource.attributes`);
    if (!attrs(rs.resource?.attributes)['service.name']) fail(`${path}.resource`, 'no service.name');
    rs.scopeSpans.forEach((ss, j) => {
      ss.spans.forEach((s, k) => {
        const sp = `${path}.scopeSpans[${j}].spans[${k}]`;
        if (!HEX32.test(s.traceId) || /^0+$/.test(s.traceId)) fail(`${sp}.traceId`, `not 32 lowercase hex digits: ${s.traceId}`);
        if (!HEX16.test(s.spanId) || /^0+$/.test(s.spanId)) fail(`${sp}.spanId`, `not 16 lowercase hex digits: ${s.spanId}`);
        if (s.parentSpanId !== undefined && s.parentSpanId !== '' && !HEX16.test(s.parentSpanId)) fail(`${sp}.parentSpanId`, s.parentSpanId);
        if (!Number.isInteger(s.kind) || s.kind < 0 || s.kind > 5) fail(`${sp}.kind`, `not an integer enum: ${s.kind}`);
        for (const t of ['startTimeUnixNano', 'endTimeUnixNano'])
          if (typeof s[t] !== 'string' || !UINT64.test(s[t])) fail(`${sp}.${t}`, `64-bit integers are decimal strings: ${JSON.stringify(s[t])}`);
        if (BigInt(s.endTimeUnixNano) < BigInt(s.startTimeUnixNano)) fail(sp, 'ends before it starts');
        if (s.status && s.status.code !== undefined && !Number.isInteger(s.status.code)) fail(`${sp}.status.code`, 'not an integer enum');
        if (s.flags !== undefined && !Number.isInteger(s.flags)) fail(`${sp}.flags`, 'not an integer');
        if (typeof s.name !== 'string' || !s.name) fail(`${sp}.name`, 'missing');
        checkAttributes(s.attributes, `${sp}.attributes`);
      });
    });
  });
}

export function checkMetricsRequest(p) {
  checkKeys(p, '$');
  if (!Array.isArray(p.resourceMetrics) || !p.resourceMetrics.length) fail('$.resourceMetrics', 'missing or empty');
  for (const rm of p.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) {
    const path = `metric ${m.name}`;
    const data = m.histogram ?? m.sum ?? m.gauge;
    if (!data) fail(path, 'no histogram, sum or gauge');
    if (data.aggregationTemporality !== undefined && !Number.isInteger(data.aggregationTemporality)) fail(path, 'temporality not an integer enum');
    for (const dp of data.dataPoints) {
      checkAttributes(dp.attributes, `${path}.attributes`);
      for (const t of ['startTimeUnixNano', 'timeUnixNano']) if (!UINT64.test(dp[t] ?? '')) fail(`${path}.${t}`, 'not a decimal string');
      if (m.histogram) {
        if (!UINT64.test(dp.count)) fail(`${path}.count`, 'not a decimal string');
        if (dp.bucketCounts.length !== dp.explicitBounds.length + 1) fail(path, 'bucketCounts must be explicitBounds + 1');
        if (!dp.bucketCounts.every((c) => UINT64.test(c))) fail(`${path}.bucketCounts`, 'not decimal strings');
        const total = dp.bucketCounts.reduce((a, c) => a + BigInt(c), 0n);
        if (total !== BigInt(dp.count)) fail(path, 'count != sum of bucketCounts');
      }
      if ('asInt' in dp && !/^-?[0-9]+$/.test(dp.asInt)) fail(`${path}.asInt`, 'not a decimal string');
    }
  }
}

/** Spans of all received trace requests, flattened. */
export function allSpans(requests) {
  const out = [];
  for (const r of requests) if (r.signal === 'traces') for (const rs of r.payload.resourceSpans) for (const ss of rs.scopeSpans) out.push(...ss.spans);
  return out;
}

/** Options: tls {key, cert, ca?}: serve https with that key and certificate; with `ca`, mTLS (client certificate
 * required and verified against it). */
export async function startOtlpReceiver({ tls } = {}) {
  const requests = [];
  const tlsErrors = [];  // handshakes refused (by either side), their messages
  const script = [];  // [{status, headers, body}] answered in order, then 200 {}
  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const rec = { path: req.url, headers: { ...req.headers }, raw, signal: req.url.endsWith('/v1/traces') ? 'traces' : req.url.endsWith('/v1/metrics') ? 'metrics' : 'other' };
      if (tls) rec.clientSubject = req.socket.getPeerCertificate()?.subject?.CN ?? null;
      try {
        const body = req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(raw) : raw;
        rec.payload = JSON.parse(body.toString('utf8'));
      } catch (e) { rec.error = String(e); }
      requests.push(rec);
      const answer = script.shift() ?? { status: 200, body: '{}' };
      rec.answeredWith = answer.status;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
      res.end(answer.body ?? '{}');
    });
  };
  const server = tls
    ? https.createServer({ key: tls.key, cert: tls.cert, ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}) }, handler)
    : http.createServer(handler);
  server.on('tlsClientError', (err) => tlsErrors.push(String(err.message ?? err)));
  const connections = { count: 0 };
  server.on(tls ? 'secureConnection' : 'connection', () => { connections.count += 1; });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    tlsErrors,
    /** Connections the exporter opened (TLS: completed handshakes). */
    get connections() { return connections.count; },
    /** The next n export requests get `status` (with optional headers / body). */
    answerNext(n, status, { headers, body } = {}) { for (let i = 0; i < n; i++) script.push({ status, headers, body }); },
    reset() { requests.length = 0; script.length = 0; },
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}
