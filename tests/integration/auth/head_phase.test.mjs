// Authentication decides on the request head alone (issue 13, item 2): a caller with a bad key announcing a
// 16 MB body gets its 401 at once, before a byte of the body is sent, and the connection is closed (the unread
// body must never be read as the next request); with `Expect: 100-continue` it gets the 401 and no 100. A
// caller with a good key announcing the same body waits for it (no answer, connection open), is sent
// 100 Continue only after authentication, and is served once the body arrived.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startMock, startGateway, testConfig, parseResponses, sleep } from '../../lib/harness.mjs';

const ADMIN = 'admin-token-head-0123456789abcdef';
const BODY_SIZE = 16777000;

// A valid chat body padded with trailing spaces (JSON whitespace) to exactly BODY_SIZE bytes.
function bigBody() {
  const json = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
  return Buffer.concat([Buffer.from(json), Buffer.alloc(BODY_SIZE - json.length, 0x20)]);
}

function head(key, { expectContinue = false } = {}) {
  return `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Authorization: Bearer ${key}\r\nContent-Length: ${BODY_SIZE}\r\n` +
    (expectContinue ? 'Expect: 100-continue\r\n' : '') + '\r\n';
}

// A connection that records what arrives and when it closes.
function connect(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    const c = { sock, chunks: [], closed: false, closedAt: 0, waiters: [] };
    c.text = () => Buffer.concat(c.chunks).toString('latin1');
    c.responses = () => parseResponses(Buffer.concat(c.chunks)).responses;
    const wake = () => { for (const w of [...c.waiters]) if (w.pred()) { c.waiters.splice(c.waiters.indexOf(w), 1); w.resolve(); } };
    // Resolves when pred() holds (checked on every event), rejects after timeoutMs.
    c.until = (pred, timeoutMs = 5000) => new Promise((res, rej) => {
      if (pred()) return res();
      const t = setTimeout(() => rej(new Error(`timed out; received: ${JSON.stringify(c.text().slice(0, 300))}`)), timeoutMs);
      c.waiters.push({ pred, resolve: () => { clearTimeout(t); res(); } });
    });
    sock.on('data', (d) => { c.chunks.push(d); wake(); });
    const onClose = () => { if (!c.closed) { c.closed = true; c.closedAt = Date.now(); } wake(); };
    sock.on('end', onClose);
    sock.on('close', onClose);
    sock.on('error', onClose);
    sock.on('connect', () => resolve(c));
    sock.once('error', reject);
  });
}

describe('authentication on the request head', () => {
  let mock; let gw; let goodKey;

  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url, over: {
      limits: { max_body: '16MiB' },
      timeouts: { body_read: '10s' },
      auth: { admin_token: ADMIN, virtual_keys: { store: ':memory:' } },
    } }) });
    const r = await fetch(`${gw.adminUrl}/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ tenant: 'acme' }) });
    assert.equal(r.status, 201);
    goodKey = (await r.json()).key;
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  for (const expectContinue of [false, true]) {
    it(`a bad key gets 401 before the body is sent, and the connection closes${expectContinue ? ' (Expect: 100-continue)' : ''}`, async () => {
      const c = await connect(gw.port);
      const sent = Date.now();
      c.sock.write(head('tw-not-a-real-key-0123456789', { expectContinue }));
      await c.until(() => c.closed);
      const elapsed = Date.now() - sent;
      assert.ok(elapsed < 500, `the 401 took ${elapsed} ms`);
      const responses = c.responses();
      assert.equal(responses.length, 1, c.text());
      assert.equal(responses[0].status, 401);
      assert.equal(responses[0].headers.connection, 'close');
      assert.doesNotMatch(c.text(), /100 Continue/);
      c.sock.destroy();
    });
  }

  for (const expectContinue of [false, true]) {
    it(`a good key waits for the body and is served${expectContinue ? ' (100 Continue after authentication)' : ''}`, async () => {
      const before = mock.requests.length;
      const c = await connect(gw.port);
      c.sock.write(head(goodKey, { expectContinue }));
      if (expectContinue) await c.until(() => /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(c.text()), 2000);
      await sleep(400);
      assert.equal(c.closed, false, 'the gateway closed the connection before the body arrived');
      assert.equal(c.responses().filter((r) => r.status !== 100).length, 0, c.text());
      assert.equal(mock.requests.length, before);
      c.sock.write(bigBody());
      await c.until(() => c.responses().some((r) => r.status !== 100), 10000);
      const final = c.responses().find((r) => r.status !== 100);
      assert.equal(final.status, 200, final.body.toString());
      assert.equal(mock.requests.length, before + 1);
      c.sock.destroy();
    });
  }
});
