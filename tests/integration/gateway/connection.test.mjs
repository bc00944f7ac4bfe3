// Gateway connections: client keep-alive reuse, pooled upstream connection reuse, pipelining (two requests in
// one write get two responses in order), Expect: 100-continue, HTTP/1.0 closes, Connection: close honoured.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startMock, startGateway, testConfig, rawRequest, httpBytes, parseResponses, sleep } from '../../lib/harness.mjs';

const chatJson = (content, extra = {}) => JSON.stringify({ model: 'gpt-4o', max_tokens: 2, messages: [{ role: 'user', content }], ...extra });
const chatReq = (content, headers = {}) => httpBytes('POST', '/v1/chat/completions',
  { 'content-type': 'application/json', ...headers }, chatJson(content));

/** A client socket that can send several requests and wait for n responses in total. */
function client(port) {
  const s = net.connect({ port, host: '127.0.0.1' });
  let buf = Buffer.alloc(0); let closed = false; const waiters = [];
  const check = () => {
    const n = parseResponses(buf).responses.length;
    for (const w of [...waiters]) if (n >= w.n || closed) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  };
  s.on('data', (c) => { buf = Buffer.concat([buf, c]); check(); });
  s.on('close', () => { closed = true; check(); });
  s.on('error', () => {});
  const ready = new Promise((r) => s.on('connect', r));
  return {
    ready, socket: s,
    get closed() { return closed; },
    write: (b) => s.write(b),
    responses: () => parseResponses(buf).responses,
    raw: () => buf,
    waitResponses(n, timeoutMs = 3000) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${n} responses; got:\n${buf.toString('latin1')}`)), timeoutMs);
        waiters.push({ n, resolve: () => { clearTimeout(t); resolve(parseResponses(buf).responses); } });
        check();
      });
    },
    destroy: () => s.destroy(),
  };
}

describe('gateway connections', () => {
  let mock; let gw;
  before(async () => {
    mock = await startMock();
    gw = await startGateway({ config: testConfig({ openaiUrl: mock.url }) });
  });
  after(async () => { await gw?.stop(); await mock?.close(); });

  it('HEAD answered by the gateway itself has the GET head and no body: HEAD then GET on one connection are two responses', async () => {
    const c = client(gw.port); await c.ready;
    try {
      c.write(Buffer.concat([httpBytes('HEAD', '/nope', {}), httpBytes('GET', '/nope', {})]));
      await sleep(300);
      const raw = c.raw().toString('latin1');
      const firstEnd = raw.indexOf('\r\n\r\n');
      assert.ok(firstEnd > 0, raw);
      const head = raw.slice(0, firstEnd);
      assert.match(head, /^HTTP\/1\.1 404 /);
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)[1]);
      assert.ok(length > 0, 'HEAD keeps the Content-Length a GET gets');
      const second = raw.slice(firstEnd + 4);
      assert.match(second, /^HTTP\/1\.1 404 /, `the second response must start right after the first head:\n${raw}`);
      const get = parseResponses(Buffer.from(second, 'latin1')).responses[0];
      assert.equal(JSON.parse(get.text).error.code, 'unknown_route');
      // The 404 names the method, so HEAD's announced length is GET's minus one ("HEAD" vs "GET").
      assert.equal(length, get.body.length + 1);
    } finally { c.destroy(); }
  });

  it('keep-alive: several requests on one client connection', async () => {
    const c = client(gw.port); await c.ready;
    try {
      for (let i = 1; i <= 3; i++) {
        c.write(chatReq(Array(i).fill('three words here').join(' ')));
        const rs = await c.waitResponses(i);
        assert.equal(rs[i - 1].status, 200);
        assert.equal(JSON.parse(rs[i - 1].text).usage.prompt_tokens, 3 * i);
      }
      assert.equal(c.closed, false);
    } finally { c.destroy(); }
  });

  it('upstream connections are pooled and reused across requests', async () => {
    const before = mock.connections.length;
    for (let i = 0; i < 4; i++) {
      const r = await rawRequest(gw.port, chatReq('pool me'), { untilResponses: 1 });
      assert.equal(r.responses[0]?.status, 200);
    }
    const opened = mock.connections.length - before;
    assert.ok(opened <= 1, `4 sequential requests opened ${opened} new upstream connections`);
  });

  it('pipelining: two requests in one write get two responses, in order', async () => {
    const c = client(gw.port); await c.ready;
    try {
      c.write(Buffer.concat([
        chatReq('first', { 'x-request-id': 'pipe-1', 'x-mock-scenario': 'slow-first-byte:150' }),
        chatReq('second second', { 'x-request-id': 'pipe-2' }),
      ]));
      const rs = await c.waitResponses(2);
      assert.equal(rs.length, 2);
      assert.deepEqual(rs.map((r) => r.status), [200, 200]);
      assert.deepEqual(rs.map((r) => r.headers['x-request-id']), ['pipe-1', 'pipe-2']);
      assert.deepEqual(rs.map((r) => JSON.parse(r.text).usage.prompt_tokens), [1, 2]);
    } finally { c.destroy(); }
  });

  it('pipelining: a GET and a POST in one write', async () => {
    const c = client(gw.port); await c.ready;
    try {
      c.write(Buffer.concat([httpBytes('GET', '/v1/models', {}), chatReq('x y z')]));
      const rs = await c.waitResponses(2);
      assert.equal(JSON.parse(rs[0].text).object, 'list');
      assert.equal(JSON.parse(rs[1].text).object, 'chat.completion');
    } finally { c.destroy(); }
  });

  it('Expect: 100-continue gets 100 Continue before the body is sent, then the response', async () => {
    const c = client(gw.port); await c.ready;
    try {
      const body = chatJson('continue please');
      c.write(httpBytes('POST', '/v1/chat/completions', { 'content-type': 'application/json',
        'content-length': Buffer.byteLength(body), expect: '100-continue' }));
      await sleep(300);
      assert.match(c.raw().toString('latin1'), /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
      c.write(body);
      const rs = await c.waitResponses(2);
      assert.equal(rs[0].status, 100);
      assert.equal(rs[1].status, 200);
      assert.equal(JSON.parse(rs[1].text).usage.prompt_tokens, 2);
      const req = mock.requests[mock.requests.length - 1];
      assert.equal(req.headers.expect, undefined, 'Expect is not forwarded (body already buffered)');
    } finally { c.destroy(); }
  });

  it('Expect: 100-continue with a body over the limit gets 413 without 100 Continue', async () => {
    const gw2 = await startGateway({ config: testConfig({ openaiUrl: mock.url, over: { limits: { max_body: '1KiB' } } }) });
    try {
      const res = await rawRequest(gw2.port, httpBytes('POST', '/v1/chat/completions',
        { 'content-type': 'application/json', 'content-length': 5000, expect: '100-continue' }), { timeoutMs: 1500 });
      assert.equal(res.responses[0]?.status, 413, res.text);
      assert.ok(!res.text.includes('100 Continue'));
    } finally { await gw2.stop(); }
  });

  it('Connection: close is honoured after the response', async () => {
    const res = await rawRequest(gw.port, chatReq('bye', { connection: 'close' }), { timeoutMs: 2000 });
    assert.equal(res.responses[0]?.status, 200);
    assert.ok(res.closed && !res.timedOut, 'connection closed by the gateway');
  });

  it('HTTP/1.0 request: answered and closed', async () => {
    const body = chatJson('old client');
    const bytes = Buffer.from(`POST /v1/chat/completions HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 'latin1');
    const res = await rawRequest(gw.port, bytes, { timeoutMs: 2000 });
    assert.match(res.text, /^HTTP\/1\.[01] 200/);
    assert.ok(res.closed && !res.timedOut);
    assert.ok(!/transfer-encoding: chunked/i.test(res.text), 'no chunked framing to an HTTP/1.0 client');
  });
});
