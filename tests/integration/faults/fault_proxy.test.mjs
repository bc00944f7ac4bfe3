// The fault proxy itself (tests/lib/fault_proxy.mjs), against a TCP echo server that answers each chunk with
// "echo:<chunk>": every mode does what the other fault tests rely on, and a switch applies to open connections.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startFaultProxy } from '../../lib/fault_proxy.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A client on the proxy: {received(), events: [], send(text), waitFor(n bytes), close()}. */
async function connect(port) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise((r, j) => { socket.once('connect', r); socket.once('error', j); });
  const chunks = [];
  const events = [];
  socket.on('data', (c) => chunks.push(c));
  socket.on('error', (e) => events.push(e.code));
  socket.on('end', () => events.push('end'));
  socket.on('close', () => events.push('close'));
  return {
    socket, events,
    received: () => Buffer.concat(chunks).toString('latin1'),
    send: (text) => socket.write(text),
    async until(pred, ms = 2000) {
      const end = Date.now() + ms;
      while (Date.now() < end && !pred()) await sleep(5);
      return pred();
    },
  };
}

describe('fault proxy', () => {
  let echo; let proxy;
  before(async () => {
    echo = net.createServer((s) => s.on('data', (c) => s.write(`echo:${c}`)));
    await new Promise((r) => echo.listen(0, '127.0.0.1', r));
    proxy = await startFaultProxy({ target: { port: echo.address().port } });
  });
  after(async () => { await proxy.close(); await new Promise((r) => echo.close(r)); });

  it('pass forwards both ways', async () => {
    proxy.setMode({ kind: 'pass' });
    const c = await connect(proxy.port);
    c.send('a');
    assert.ok(await c.until(() => c.received() === 'echo:a'), c.received());
    c.socket.destroy();
  });

  it('delay holds each chunk for ms in the chosen direction, order kept', async () => {
    proxy.setMode({ kind: 'delay', ms: 150, direction: 'down' });
    const c = await connect(proxy.port);
    const t = Date.now();
    c.send('1');
    await sleep(20);
    c.send('2');
    assert.ok(await c.until(() => c.received() === 'echo:1echo:2'), c.received());
    const took = Date.now() - t;
    assert.ok(took >= 150 && took < 1000, `took ${took} ms`);
    proxy.setMode({ kind: 'delay', ms: 100, direction: 'both' });
    const t2 = Date.now();
    c.send('3');
    assert.ok(await c.until(() => c.received().endsWith('echo:3')));
    assert.ok(Date.now() - t2 >= 200, `both directions: ${Date.now() - t2} ms`);
    c.socket.destroy();
  });

  it('hang-before-head forwards the request and holds the answer; hang-after lets N bytes through', async () => {
    proxy.setMode({ kind: 'hang-before-head' });
    const c = await connect(proxy.port);
    const held = proxy.stats.heldBytes;
    c.send('req');
    assert.ok(await c.until(() => proxy.stats.heldBytes - held === 8), 'the target answered; the answer was held');
    assert.equal(c.received(), '');
    proxy.setMode({ kind: 'hang-after', bytes: 6 });  // counted from the switch, on this open connection too
    c.send('more');
    assert.ok(await c.until(() => c.received() === 'echo:m'), c.received());
    await sleep(50);
    assert.equal(c.received(), 'echo:m');
    assert.deepEqual(c.events, [], 'a hang keeps the connection open');
    c.socket.destroy();
  });

  it('reset sends an RST at once (on the first client bytes) or after N answer bytes', async () => {
    proxy.setMode({ kind: 'reset', afterBytes: 0 });
    const a = await connect(proxy.port);
    a.send('x');
    assert.ok(await a.until(() => a.events.includes('ECONNRESET')), JSON.stringify(a.events));
    assert.equal(a.received(), '');
    proxy.setMode({ kind: 'reset', afterBytes: 3 });
    const b = await connect(proxy.port);
    b.send('y');
    assert.ok(await b.until(() => b.events.includes('ECONNRESET')), JSON.stringify(b.events));
    assert.equal(b.received(), 'ech');
  });

  it('blackhole reads and never answers, and new connections never reach the target', async () => {
    proxy.setMode({ kind: 'blackhole' });
    let reached = 0;
    echo.once('connection', () => { reached += 1; });
    const c = await connect(proxy.port);
    const swallowed = proxy.stats.swallowedBytes;
    c.send('into the void');
    assert.ok(await c.until(() => proxy.stats.swallowedBytes - swallowed === 13));
    await sleep(50);
    assert.equal(c.received(), '');
    assert.equal(reached, 0);
    assert.deepEqual(c.events, []);
    c.socket.destroy();
  });
});
