// TLS on tollway's own listeners: the API listener serves HTTPS with client certificates required (openssl
// s_client without one is refused, with one the request succeeds and the peer's SPIFFE ID reaches the access
// log); the admin listener serves HTTPS; a stalled handshake is closed at the header-read timeout; replacing the certificate files rotates the context for new
// connections while a kept-alive connection goes on with the old one; a key that does not match at reload is
// rejected and the old certificate keeps serving; `tollway validate` refuses such a key with its file:line.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { startMock, startGateway, testConfig, makeCA, tempDir, removeTempDir, waitFor, runTollway, toYaml, metricValue }
  from '../../lib/harness.mjs';

const SPIFFE_ID = 'spiffe://example.org/ns/default/sa/agent-a';

// Issues NAME.pem / NAME.key in the CA's directory (CN=NAME) with the given extension lines.
function issue(ca, name, extensions) {
  const f = (n) => path.join(ca.dir, n);
  const ossl = (...a) => execFileSync('openssl', a, { cwd: ca.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f(`${name}.key`),
    '-out', f(`${name}.csr`), '-subj', `/CN=${name}`);
  fs.writeFileSync(f(`${name}.cnf`), `${extensions}\n`);
  ossl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.cnf`));
  return { certFile: f(`${name}.pem`), keyFile: f(`${name}.key`) };
}

// Replaces `target` by `source`'s bytes atomically (write aside, rename), as a certificate manager does.
function replaceFile(source, target) {
  fs.writeFileSync(`${target}.new`, fs.readFileSync(source));
  fs.renameSync(`${target}.new`, target);
}

// One HTTPS request on a new connection unless an `agent` is given: {status, text, serial (the server
// certificate's), socket}.
function request(port, { ca, cert, key, agent = false, method = 'GET', path: target = '/', body } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, method, path: target, ca, cert, key, agent,
      servername: 'localhost', headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const { socket } = res;  // a keep-alive agent takes it back at the end
      const serial = socket.getPeerCertificate().serialNumber;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8'), serial, socket }));
    });
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

// Opens a TCP connection that never starts its handshake: resolves with the milliseconds until the server closed
// it, or null when it was still open after `limitMs`.
function stalledHandshake(port, limitMs) {
  return new Promise((resolve) => {
    const started = Date.now();
    const sock = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => { sock.destroy(); resolve(null); }, limitMs);
    sock.on('error', () => {});
    sock.on('close', () => { clearTimeout(timer); resolve(Date.now() - started); });
  });
}

// openssl s_client sending one request: {out (stdout + stderr), answered (an HTTP status line came back)}.
function sClient(port, caFile, extra = []) {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', caFile,
    '-servername', 'localhost', '-ign_eof', ...extra], {
    input: 'GET /not-a-route HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n', timeout: 10000,
  });
  const out = `${r.stdout}${r.stderr}`;
  return { out, answered: /HTTP\/1\.1 \d{3}/.test(String(r.stdout)) };
}

describe('TLS listeners', () => {
  let ca; let mock; let gw; let dir; let accessPath; let client; let tlsFiles; let cfg;
  const chat = { model: 'gpt-4o', max_tokens: 3, messages: [{ role: 'user', content: 'over mtls' }] };
  const withClient = () => ({ ca: ca.ca, cert: fs.readFileSync(client.certFile), key: fs.readFileSync(client.keyFile) });
  const accessLines = () => (fs.existsSync(accessPath) ? fs.readFileSync(accessPath, 'utf8') : '').split('\n')
    .filter(Boolean).map((l) => JSON.parse(l));

  before(async () => {
    ca = makeCA();
    client = issue(ca, 'agent-a', `subjectAltName=URI:${SPIFFE_ID}\nextendedKeyUsage=clientAuth`);
    dir = tempDir('tollway-tls-listener-');
    accessPath = path.join(dir, 'access.log');
    // The listener's files live apart from the CA's, so that rotation can replace them.
    tlsFiles = { cert: path.join(dir, 'listener.pem'), key: path.join(dir, 'listener.key') };
    fs.copyFileSync(ca.certFile, tlsFiles.cert);
    fs.copyFileSync(ca.keyFile, tlsFiles.key);
    mock = await startMock();
    cfg = testConfig({ openaiUrl: mock.url });
    cfg.gateway.tls = { cert_file: tlsFiles.cert, key_file: tlsFiles.key, client_ca_file: ca.caFile,
      require_client_cert: true };
    cfg.gateway.admin_tls = { cert_file: ca.certFile, key_file: ca.keyFile };
    cfg.telemetry = { access_log: accessPath, decision_log: 'off' };
    gw = await startGateway({ config: cfg });
  });
  after(async () => {
    await gw?.stop(); await mock?.close();
    ca?.cleanup(); if (dir) removeTempDir(dir);
  });

  it('serves an OpenAI call over HTTPS with a client certificate; the SPIFFE ID reaches the access log', async () => {
    const r = await request(gw.port, { ...withClient(), method: 'POST', path: '/v1/chat/completions', body: chat });
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse(r.text).usage.prompt_tokens, 2);
    assert.equal(mock.requests[mock.requests.length - 1].headers.authorization, 'Bearer sk-test-openai');
    const line = await waitFor(() => accessLines().find((l) => l.route === '/v1/chat/completions'));
    assert.ok(line, 'an access line');
    assert.equal(line.peer_spiffe_id, SPIFFE_ID);
    assert.equal(line.peer_subject, 'CN=agent-a');
  });

  it('refuses a client without a certificate (openssl s_client) and answers one with it', () => {
    const without = sClient(gw.port, ca.caFile);
    assert.equal(without.answered, false, without.out);
    assert.match(without.out, /certificate required|alert|handshake failure/i, without.out);
    const withCert = sClient(gw.port, ca.caFile, ['-cert', client.certFile, '-key', client.keyFile]);
    assert.equal(withCert.answered, true, withCert.out);
    assert.match(withCert.out, /HTTP\/1\.1 404/);
  });

  it('a certificate from another CA is refused', async () => {
    const other = makeCA({ name: 'other-ca' });
    try {
      const stranger = issue(other, 'stranger', 'extendedKeyUsage=clientAuth');
      await assert.rejects(request(gw.port, { ca: ca.ca, cert: fs.readFileSync(stranger.certFile),
        key: fs.readFileSync(stranger.keyFile), path: '/v1/models' }));
    } finally {
      other.cleanup();
    }
  });

  it('the admin listener serves /healthz over HTTPS and refuses plain HTTP', async () => {
    const r = await request(gw.adminPort, { ca: ca.ca, path: '/healthz' });
    assert.equal(r.status, 200);
    assert.equal(r.text, 'ok\n');
    await assert.rejects(fetch(`http://127.0.0.1:${gw.adminPort}/healthz`));
  });

  it('a stalled handshake is closed at timeouts.header_read (2s), on both listeners', async () => {
    const [api, admin] = await Promise.all([stalledHandshake(gw.port, 4500), stalledHandshake(gw.adminPort, 4500)]);
    assert.ok(api !== null && api >= 1500, `API listener closed after ${api} ms`);
    assert.ok(admin !== null && admin >= 1500, `admin listener closed after ${admin} ms`);
    const metrics = (await request(gw.adminPort, { ca: ca.ca, path: '/metrics' })).text;
    assert.ok(metricValue(metrics, 'tollway_tls_handshake_failures_total', { listener: 'api', reason: 'timeout' }) >= 1, metrics);
    assert.ok(metricValue(metrics, 'tollway_tls_handshake_failures_total', { listener: 'admin', reason: 'timeout' }) >= 1, metrics);
  });

  it('rotation: a kept-alive connection keeps the old certificate, a new connection gets the new one', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await request(gw.port, { ...withClient(), agent, method: 'POST', path: '/v1/chat/completions', body: chat });
      assert.equal(first.status, 200, first.text);
      const rotated = issue(ca, 'listener-2', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth');
      const reloads = gw.logs.filter((o) => o.msg === 'config reloaded').length;
      replaceFile(rotated.keyFile, tlsFiles.key);
      replaceFile(rotated.certFile, tlsFiles.cert);
      await waitFor(() => gw.logs.filter((o) => o.msg === 'config reloaded').length > reloads);
      assert.equal(gw.logs.filter((o) => o.msg === 'config reloaded').at(-1).trigger, 'certificate file change');

      const again = await request(gw.port, { ...withClient(), agent, method: 'POST', path: '/v1/chat/completions', body: chat });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.socket, first.socket, 'the same kept-alive connection');
      assert.equal(again.serial, first.serial, 'it keeps the context it was accepted with');

      const fresh = await request(gw.port, { ...withClient(), method: 'POST', path: '/v1/chat/completions', body: chat });
      assert.equal(fresh.status, 200, fresh.text);
      assert.notEqual(fresh.serial, first.serial, 'a new connection sees the new certificate');
    } finally {
      agent.destroy();
    }
  });

  it('a key that does not match at reload is rejected; the old certificate keeps serving', async () => {
    const before = await request(gw.port, { ...withClient(), method: 'POST', path: '/v1/chat/completions', body: chat });
    const rejections = () => gw.logs.filter((o) => o.msg === 'config reload rejected; the previous config stays active');
    const earlier = rejections().length;
    const stray = issue(ca, 'stray', 'extendedKeyUsage=serverAuth');
    replaceFile(stray.keyFile, tlsFiles.key);
    await waitFor(() => rejections().length > earlier);
    const rejected = rejections().at(-1);
    assert.equal(rejected.trigger, 'certificate file change');
    assert.match(rejected.error, /gateway\.tls\.key_file: .*not the private key/);
    const after = await request(gw.port, { ...withClient(), method: 'POST', path: '/v1/chat/completions', body: chat });
    assert.equal(after.status, 200, after.text);
    assert.equal(after.serial, before.serial);
    const config = await request(gw.adminPort, { ca: ca.ca, path: '/config' });
    assert.ok(JSON.parse(config.text).reloads_failed >= 1, config.text);
  });

  it('tollway validate refuses a key that does not match its certificate, at file:line and key path', async () => {
    const stray = issue(ca, 'stray-2', 'extendedKeyUsage=serverAuth');
    const bad = structuredClone(cfg);
    bad.gateway.tls.key_file = stray.keyFile;
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, toYaml(bad));
    const r = await runTollway(['validate', file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /bad\.yaml:\d+: gateway\.tls\.key_file: .*not the private key/);
  });
});
