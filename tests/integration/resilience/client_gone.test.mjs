// A client that goes away while its response is relayed is noticed at once, not when the provider next writes:
// with the provider idle after the head and one SSE event (or before its head), the gateway closes the upstream
// connection within ~2 s (usage.drain_time, here 300 ms, bounds the read for usage) and a SIGTERM afterwards
// exits within ~2 s, not at the drain deadline (10 s here); on a TLS listener too (the client's close_notify).
// The usage drain still charges what the provider reports after the client left. Pipelined requests on one
// keep-alive connection, plain and TLS, still get both answers: bytes read while a response is in flight are
// the next request, not a close.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import {
  startMock, startGateway, testConfig, makeCA, httpBytes, parseResponses, parseSse, waitFor, sleep,
} from '../../lib/harness.mjs';

const STREAM = { model: 'gpt-4o-mini', stream: true, max_tokens: 2, messages: [{ role: 'user', content: 'one two' }] };
const CHAT = { model: 'gpt-4o-mini', max_tokens: 3, messages: [{ role: 'user', content: 'one two' }] };
const chatBytes = (body, scenario) => httpBytes('POST', '/v1/chat/completions',
  { 'content-type': 'application/json', ...(scenario ? { 'x-mock-scenario': scenario } : {}) }, JSON.stringify(body));

// A mock provider and a gateway in front of it: long provider timeouts and a long drain deadline, so that only
// noticing the client can end an exchange within the tests' 2 s; `tlsCa` puts TLS on the API listener.
async function setUp({ tlsCa } = {}) {
  const mock = await startMock();
  const cfg = testConfig({ openaiUrl: mock.url, over: {
    timeouts: { upstream_first_byte: '30s', upstream_total: '60s', idle: '30s', drain: '10s' },
    usage: { drain_time: '300ms' },
  } });
  if (tlsCa) cfg.gateway.tls = { cert_file: tlsCa.certFile, key_file: tlsCa.keyFile };
  const gw = await startGateway({ config: cfg });
  return { mock, gw, async close() { await gw.stop('SIGKILL'); await mock.close(); tlsCa?.cleanup(); } };
}

// A connection to the gateway, plain or TLS: its bytes so far, and a wait for bytes matching `pred`.
async function connect(gw, tlsCa) {
  const sock = tlsCa
    ? tls.connect({ host: '127.0.0.1', port: gw.port, ca: tlsCa.ca, servername: 'localhost' })
    : net.connect({ host: '127.0.0.1', port: gw.port });
  sock.on('error', () => {});
  await new Promise((resolve, reject) => {
    sock.once(tlsCa ? 'secureConnect' : 'connect', resolve);
    sock.once('error', reject);
  });
  let buf = Buffer.alloc(0);
  const waiters = [];
  sock.on('data', (c) => {
    buf = Buffer.concat([buf, c]);
    for (const w of [...waiters]) if (w.pred(buf)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  const until = (pred, timeoutMs = 5000) => (pred(buf) ? Promise.resolve() : new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no such bytes within ${timeoutMs} ms: ${buf.toString('latin1')}`)), timeoutMs);
    waiters.push({ pred, resolve: () => { clearTimeout(t); resolve(); } });
  }));
  return { sock, until, bytes: () => buf };
}

// Milliseconds until every upstream connection the mock saw is closed, or null when one is open after 2 s.
async function upstreamClosedWithin2s(mock, since) {
  const closed = await waitFor(() => mock.connections.length > 0 && mock.connections.every((c) => c.closed),
    { timeoutMs: 2000, intervalMs: 20 });
  return closed ? Date.now() - since : null;
}

// SIGTERM, then milliseconds until the gateway exited, or null when it still runs after 2 s.
async function exitAfterSigterm(gw) {
  const t0 = Date.now();
  gw.proc.kill('SIGTERM');
  const exit = await Promise.race([gw.exitPromise, sleep(2000).then(() => null)]);
  if (exit) assert.deepEqual(exit, { code: 0, signal: null });
  return exit ? Date.now() - t0 : null;
}

// The client reads the head and the first event of a stream the provider then leaves idle, and goes away.
async function leaveIdleStream({ tlsCa } = {}) {
  const env = await setUp({ tlsCa });
  try {
    const c = await connect(env.gw, tlsCa);
    c.sock.write(chatBytes(STREAM, 'slow-stream:6000'));
    await c.until((b) => b.includes('data:'));
    const left = Date.now();
    if (tlsCa) c.sock.end(); else c.sock.destroy();  // TLS: close_notify and FIN; plain: the socket closed
    const closedMs = await upstreamClosedWithin2s(env.mock, left);
    assert.ok(closedMs !== null, 'the upstream connection is still open 2 s after the client left');
    // A cut stream whose usage the provider never reported is charged an estimate, as when a write fails.
    const id = /x-request-id: (\S+)/i.exec(c.bytes().toString('latin1'))[1];
    const usage = await env.gw.waitForLog((o) => o?.msg === 'usage' && o.request_id === id, 2000);
    assert.equal(usage.status, 200);
    assert.equal(usage.usage_estimated, true, JSON.stringify(usage));
    const exitMs = await exitAfterSigterm(env.gw);
    assert.ok(exitMs !== null, 'the gateway still runs 2 s after SIGTERM');
  } finally { await env.close(); }
}

describe('a client that goes away while the provider is idle', () => {
  it('mid-stream: the upstream connection closes within 2 s and SIGTERM then exits within 2 s', async () => {
    await leaveIdleStream();
  });

  it('mid-stream on a TLS listener (close_notify): the same', async () => {
    await leaveIdleStream({ tlsCa: makeCA() });
  });

  it('before the provider sent its head: the upstream connection closes within 2 s, no answer is attempted', async () => {
    const env = await setUp();
    try {
      const c = await connect(env.gw);
      c.sock.write(chatBytes(CHAT, 'hang'));
      assert.ok(await waitFor(() => env.mock.requests.length === 1, { timeoutMs: 5000 }), 'the request reached the provider');
      const left = Date.now();
      c.sock.destroy();
      const closedMs = await upstreamClosedWithin2s(env.mock, left);
      assert.ok(closedMs !== null, 'the upstream connection is still open 2 s after the client left');
      assert.equal(env.mock.requests.length, 1, 'no other attempt was made');
      const exitMs = await exitAfterSigterm(env.gw);
      assert.ok(exitMs !== null, 'the gateway still runs 2 s after SIGTERM');
    } finally { await env.close(); }
  });

  it('the usage the provider reports after the client left is still read and charged', async () => {
    const mock = await startMock();
    const gw = await startGateway({ config: testConfig({ openaiUrl: mock.url }) });  // usage.drain_time 30 s
    try {
      const c = await connect(gw);
      c.sock.write(chatBytes(STREAM, 'slow-stream:400'));
      await c.until((b) => b.includes('data:'));
      c.sock.destroy();
      const id = /x-request-id: (\S+)/i.exec(c.bytes().toString('latin1'))[1];
      const usage = await gw.waitForLog((o) => o?.msg === 'usage' && o.request_id === id, 5000);
      assert.equal(usage.usage_known, true, JSON.stringify(usage));
      assert.equal(usage.usage_estimated, false);
      assert.equal(usage.output_tokens, STREAM.max_tokens);
      assert.equal(usage.status, 200);
    } finally { await gw.stop('SIGKILL'); await mock.close(); }
  });
});

describe('pipelined requests on one keep-alive connection', () => {
  // Two requests on one connection: a stream, then a JSON call sent with it or while the stream is relayed.
  async function pipelined({ tlsCa, gapMs }) {
    const env = await setUp({ tlsCa });
    try {
      const c = await connect(env.gw, tlsCa);
      c.sock.write(chatBytes(STREAM, 'slow-stream:150'));
      if (gapMs) await sleep(gapMs);
      c.sock.write(chatBytes(CHAT));
      await c.until((b) => parseResponses(b).responses.length >= 2);
      const [first, second] = parseResponses(c.bytes()).responses;
      assert.equal(first.status, 200);
      assert.equal(parseSse(first.text).at(-1).data, '[DONE]');
      assert.equal(second.status, 200);
      assert.equal(JSON.parse(second.text).object, 'chat.completion');
      assert.equal(env.mock.requests.length, 2);
      c.sock.destroy();
    } finally { await env.close(); }
  }

  it('the second request sent along with the first: both answered, in order', async () => {
    await pipelined({ gapMs: 0 });
  });

  it('the second request sent while the first response streams: both answered, in order', async () => {
    await pipelined({ gapMs: 200 });
  });

  it('on a TLS listener, the second request sent while the first response streams: both answered', async () => {
    await pipelined({ tlsCa: makeCA(), gapMs: 200 });
  });
});
