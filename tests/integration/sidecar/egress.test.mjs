// CONNECT egress through the sidecar's outbound listener: a host:port that egress.allow names gets a tunnel (bytes
// both ways, half-close passed through, bytes sent right behind the CONNECT head kept, TLS end to end through it)
// and a log line with its bytes and duration; anything else is refused with 403 egress_denied and logged too.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import https from 'node:https';
import fs from 'node:fs';
import { startGateway, makeCA, toYaml } from '../../lib/harness.mjs';

const TD = 'example.org';
const A_ID = `spiffe://${TD}/ns/prod/sa/agent-a`;

// A TCP server that echoes what it reads, and says "bye" once the client half-closed.
function startEcho() {
  return new Promise((resolve) => {
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('data', (chunk) => socket.write(chunk));
      socket.on('end', () => socket.end('bye'));
    });
    server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, close: () => new Promise((r) => server.close(r)) }));
  });
}

// Opens a tunnel: sends `head` (+ `early` in the same write) and resolves with the socket once the sidecar's
// response head arrived, and the head itself.
function connectVia(port, target, early = '') {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => {
      socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n${early}`);
    });
    let got = Buffer.alloc(0);
    const onData = (chunk) => {
      got = Buffer.concat([got, chunk]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const head = got.subarray(0, end).toString();
      const rest = got.subarray(end + 4);
      resolve({ socket, head, rest });
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

function readAll(socket, initial = Buffer.alloc(0)) {
  return new Promise((resolve) => {
    let got = initial;
    socket.on('data', (c) => { got = Buffer.concat([got, c]); });
    socket.on('end', () => resolve(got.toString()));
    socket.on('close', () => resolve(got.toString()));
  });
}

// The body of a refusal the sidecar answered on a connection it keeps open: Content-Length bytes.
function readBody(socket, head, initial) {
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)[1]);
  return new Promise((resolve) => {
    let got = initial;
    const check = () => { if (got.length >= length) resolve(got.subarray(0, length).toString()); };
    socket.on('data', (c) => { got = Buffer.concat([got, c]); check(); });
    check();
  });
}

describe('sidecar: CONNECT egress allow-list and tunnel log', () => {
  let ca, echo, web, sidecar, outbound, closedPort;
  before(async () => {
    ca = makeCA({ name: 'egress-ca' });
    const a = ca.svid('agent-a', A_ID);
    echo = await startEcho();
    closedPort = await new Promise((resolve) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => { const port = s.address().port; s.close(() => resolve(port)); });
    });
    web = await new Promise((resolve) => {
      const server = https.createServer({ cert: fs.readFileSync(ca.certFile), key: fs.readFileSync(ca.keyFile) },
        (req, res) => res.end(`secure ${req.url}`));
      server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, close: () => new Promise((r) => server.close(r)) }));
    });
    sidecar = await startGateway({
      configYaml: toYaml({
        version: 1,
        sidecar: { spiffe_id: A_ID, outbound: '127.0.0.1:0', inbound: '127.0.0.1:0', agent: '127.0.0.1:9',
          tls: { cert_file: a.certFile, key_file: a.keyFile, bundle_file: ca.caFile } },
        egress: { allow: [`127.0.0.1:${echo.port}`, `LocalHost:${web.port}`, `127.0.0.1:${closedPort}`, `*.example.test:443`] },
      }),
      argv: (configPath) => ['sidecar', '--config', configPath, '--admin', '127.0.0.1:0'],
      readyMsg: 'sidecar ready',
    });
    outbound = Number(String(sidecar.ready.listeners.outbound).split(':').pop());
  });
  after(async () => {
    await sidecar?.stop(); await echo?.close(); await web?.close(); ca?.cleanup();
  });

  it('an allowed target gets a tunnel: early bytes kept, half-close passed through, bytes and duration logged', async () => {
    const { socket, head, rest } = await connectVia(outbound, `127.0.0.1:${echo.port}`, 'early;');
    assert.match(head, /^HTTP\/1\.1 200 /);
    const all = readAll(socket, rest);
    socket.write('ping');
    await new Promise((r) => setTimeout(r, 50));
    socket.end();
    assert.equal(await all, 'early;pingbye');
    const line = await sidecar.waitForLog((o) => o?.msg === 'egress tunnel' && o.target === `127.0.0.1:${echo.port}`);
    assert.equal(line.status, 200);
    assert.equal(line.source_spiffe_id, A_ID);
    assert.equal(line.bytes_from_agent, 'early;ping'.length);
    assert.equal(line.bytes_to_agent, 'early;pingbye'.length);
    assert.ok(line.duration_ms >= 0);
  });

  it('TLS runs end to end through the tunnel (the allow-list compares host names case-insensitively)', async () => {
    const { socket, head } = await connectVia(outbound, `localhost:${web.port}`);
    assert.match(head, /^HTTP\/1\.1 200 /);
    const secure = tls.connect({ socket, servername: 'localhost', ca: fs.readFileSync(ca.caFile) });
    await new Promise((resolve, reject) => { secure.on('secureConnect', resolve); secure.on('error', reject); });
    const reply = readAll(secure);
    secure.write('GET /through HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    assert.match(await reply, /^HTTP\/1\.1 200 [^]*\r\n\r\nsecure \/through$/);
  });

  it('a target outside egress.allow is refused with 403 egress_denied and a log line, and nothing is connected', async () => {
    for (const target of [`127.0.0.1:${web.port}`, 'example.test:443', 'api.openai.com:443']) {
      const { socket, head, rest } = await connectVia(outbound, target);
      const body = await readBody(socket, head, rest);
      socket.destroy();
      assert.match(head, /^HTTP\/1\.1 403 /, target);
      assert.equal(JSON.parse(body).error.code, 'egress_denied');
      assert.match(JSON.parse(body).error.message, /not in egress\.allow/);
      const line = await sidecar.waitForLog((o) => o?.msg === 'egress refused' && o.target === target);
      assert.equal(line.status, 403);
    }
  });

  it('an allowed target that refuses the connection gets 502 with the cause, and the connection closes', async () => {
    const { socket, head, rest } = await connectVia(outbound, `127.0.0.1:${closedPort}`);
    const body = await readAll(socket, rest);
    assert.match(head, /^HTTP\/1\.1 502 /);
    assert.match(head, /\r\nConnection: close/i);
    assert.equal(JSON.parse(body).error.code, 'upstream_unavailable');
    assert.match(JSON.parse(body).error.message, /Tunnel to 127\.0\.0\.1:\d+ failed/);
  });
});
