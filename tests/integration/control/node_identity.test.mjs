// A gateway holds its own SPIFFE identity, as real processes on loopback: `tollway control --trust-domain --tls`
// and `tollway gateway --control https://… --identity-dir D --join-token-file F --control-ca BUNDLE` whose policy
// says `gateway.tls: {identity: node}`. The gateway joins with the token (its key made on the node, 0600), openssl
// verifies its certificate against /v1/bundle, it polls and ACKs over mTLS (SYNCED), its API listener serves its
// SVID to clients with a certificate of the same CA and refuses clients without one; the token's replay by another
// gateway is refused; the expiry gauge is present, sane and passes promtool; the gateway renews over mTLS at half
// its lifetime under traffic (a new serial and a new key on new handshakes, the same SPIFFE ID; the open connection
// keeps its certificate and loses no request; the key and certificate on disk match); with the control plane stopped, the gateway
// restarted from its identity and state directories still serves its mTLS listener. The control plane renews its
// own listener certificate at half its life too. The renewal wait makes this
// test take about two minutes (the CA's shortest lifetime is 5 minutes).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { metricValue, runTollway, startMock, tempDir } from '../../lib/harness.mjs';
import { BASE, MODELS, eventually, httpsJson, policyDir, providers, startControl, startManagedGateway,
  startReportingGateway } from './control_harness.mjs';

const TD = 'example.org';
const GW = `spiffe://${TD}/ns/prod/sa/gw-a`;
const CLIENT = `spiffe://${TD}/ns/prod/sa/agent`;
const NODE_TOKEN = 'node-token-of-gw-a';
const REPORTER = `spiffe://${TD}/ns/prod/sa/gw-r`;
const REPORTER_TOKEN = 'node-token-of-gw-r';
const sha256 = (t) => execFileSync('sha256sum', { input: t, encoding: 'utf8' }).split(' ')[0];

async function mint(stateDir, identity) {
  const r = await runTollway(['control', 'token', 'create', '--state-dir', stateDir, '--identity', identity]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

const publicKeyOf = (pemFile) => execFileSync('openssl', ['x509', '-noout', '-pubkey', '-in', pemFile],
  { encoding: 'utf8' });
const serialOf = (pemFile) => execFileSync('openssl', ['x509', '-noout', '-serial', '-in', pemFile],
  { encoding: 'utf8' }).trim().split('=')[1].toUpperCase();

describe('a gateway joins, holds and renews its SPIFFE identity', () => {
  let mock; let cp; let gw; let bundle; let bundleFile; let identityDir; let stateDir; let client; let controlSerial;
  const gatewayArgs = (joinTokenFile) => ['--identity-dir', identityDir, '--control-ca', bundleFile,
    ...(joinTokenFile ? ['--join-token-file', joinTokenFile] : [])];
  const gatewayHttps = (g) => `https://127.0.0.1:${Number(String(g.ready.listen).split(':').pop())}`;
  const chat = (g, tlsClient, spiffeId = GW) => httpsJson(`${gatewayHttps(g)}/v1/chat/completions`, {
    method: 'POST', ca: bundle, spiffeId, ...tlsClient, headers: { 'content-type': 'application/json' },
    body: { model: 'gpt-4o-mini', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] },
  });

  before(async () => {
    mock = await startMock();
    const policy = policyDir();
    policy.write('base.yaml', BASE.replace('  workers: 1\n', '  workers: 1\n  tls:\n    identity: node\n'));
    policy.write('providers.yaml', providers(mock.url, mock.url));
    policy.write('models.yaml', MODELS);
    policy.write('nodes.yaml', `nodes:\n  gw-a:\n    labels: {role: gateway}\n    token_sha256: ${sha256(NODE_TOKEN)}\n`
      + `    spiffe_id: ${GW}\n  gw-r:\n    labels: {role: gateway}\n    token_sha256: ${sha256(REPORTER_TOKEN)}\n`
      + `    spiffe_id: ${REPORTER}\n`);
    cp = await startControl({ policy: policy.dir, extraArgs: ['--trust-domain', TD, '--tls', '--svid-lifetime', '5m'] });
    controlSerial = serialOf(path.join(cp.stateDir, 'tls', 'control.pem'));
    const dir = tempDir('tollway-identity-test-');
    bundleFile = path.join(dir, 'bundle.pem');
    bundle = fs.readFileSync(path.join(cp.stateDir, 'ca', 'root.pem'), 'utf8');
    fs.writeFileSync(bundleFile, bundle);
    identityDir = path.join(dir, 'identity');
    stateDir = path.join(dir, 'state');
    const joinTokenFile = path.join(dir, 'join.token');
    fs.writeFileSync(joinTokenFile, await mint(cp.stateDir, GW));
    gw = await startManagedGateway({ control: cp.url, node: 'gw-a', token: NODE_TOKEN, stateDir,
      extraArgs: gatewayArgs(joinTokenFile) });
    // A client of the same trust domain: key and CSR by openssl, certificate for a token of its own.
    const clientDir = tempDir('tollway-client-');
    const key = path.join(clientDir, 'key.pem');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    const csr = execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=agent'], { encoding: 'utf8' });
    const issued = await httpsJson(`${cp.url}/v1/certs`,
      { method: 'POST', ca: bundle, body: { csr, token: await mint(cp.stateDir, CLIENT) } });
    assert.equal(issued.status, 200, issued.text);
    client = { cert: issued.json.chain, key: fs.readFileSync(key, 'utf8') };
  });
  after(async () => {
    await gw?.stop();
    await cp?.stop();
    await mock?.close();
  });

  it('joins with the token: key 0600 on the node, certificate verified by openssl against /v1/bundle', async () => {
    const issuedLog = await gw.waitForLog((o) => o.msg === 'node identity issued');
    assert.equal(issuedLog.spiffe_id, GW);
    assert.equal(fs.statSync(path.join(identityDir, 'svid.key')).mode & 0o777, 0o600);
    const served = await httpsJson(`${cp.url}/v1/bundle`, { ca: bundle });
    fs.writeFileSync(path.join(identityDir, '..', 'served-bundle.pem'), served.text);
    const verified = execFileSync('openssl', ['verify', '-CAfile', path.join(identityDir, '..', 'served-bundle.pem'),
      path.join(identityDir, 'svid.pem')], { encoding: 'utf8' });
    assert.match(verified, /OK/);
    const san = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in',
      path.join(identityDir, 'svid.pem')], { encoding: 'utf8' });
    assert.deepEqual(san.match(/URI:[^\s,]+/g), [`URI:${GW}`]);
    assert.equal(fs.readFileSync(path.join(identityDir, 'bundle.pem'), 'utf8'), served.text);
  });

  // The certificate's validity as openssl reads it, as RFC 3339 UTC seconds.
  const certificateDates = (pem) => Object.fromEntries(execFileSync('openssl', ['x509', '-noout', '-startdate', '-enddate',
    '-in', pem], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split('='))
    .map(([k, v]) => [k === 'notBefore' ? 'cert_not_before' : 'cert_not_after', new Date(v).toISOString().replace('.000Z', 'Z')]));

  it('polls and ACKs over mTLS: SYNCED, with its certificate\'s validity in /v1/fleet', async () => {
    const node = await eventually(async () => {
      const f = await httpsJson(`${cp.url}/v1/fleet`, { ca: bundle, headers: { authorization: 'Bearer admin-secret' } });
      const n = f.json?.nodes?.find((x) => x.id === 'gw-a');
      return n?.state === 'SYNCED' && n;
    }, 15000, 'gw-a SYNCED');
    const { cert_not_before: from, cert_not_after: to } = node;
    assert.deepEqual({ cert_not_before: from, cert_not_after: to }, certificateDates(path.join(identityDir, 'svid.pem')));
  });

  it('the API listener serves the node SVID to a client of the trust domain and refuses one without a certificate',
    async () => {
      const r = await chat(gw, client);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.peerCertificate.subjectaltname, `URI:${GW}`);
      await assert.rejects(chat(gw, {}));
    });

  it('a used token cannot be replayed: a gateway joining with it is refused, exits 1 and holds nothing', async () => {
    const dir = tempDir('tollway-replay-');
    const tokenFile = path.join(dir, 'join.token');
    const token = await mint(cp.stateDir, GW);
    fs.writeFileSync(tokenFile, token);
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
    const csr = execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=x'], { encoding: 'utf8' });
    const used = await httpsJson(`${cp.url}/v1/certs`, { method: 'POST', ca: bundle, body: { csr, token } });
    assert.equal(used.status, 200, used.text);
    const nodeTokenFile = path.join(dir, 'node.token');
    fs.writeFileSync(nodeTokenFile, NODE_TOKEN);
    const replay = await runTollway(['gateway', '--control', cp.url, '--node', 'gw-a', '--token-file', nodeTokenFile,
      '--state-dir', path.join(dir, 'state'), '--identity-dir', path.join(dir, 'identity'), '--control-ca', bundleFile,
      '--join-token-file', tokenFile, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--workers', '1']);
    assert.equal(replay.code, 1, replay.stderr);
    assert.match(replay.stderr, /refused the join: HTTP 401: .*already used/);
    assert.ok(!fs.existsSync(path.join(dir, 'identity', 'svid.pem')));
    assert.ok(!fs.existsSync(path.join(dir, 'identity', 'svid.key')), 'a refused join leaves no key behind');
  });

  it('tollway_identity_expiry_seconds is on /metrics, within the lifetime, and promtool accepts the page', async () => {
    const text = await gw.metrics();
    const expiry = metricValue(text, 'tollway_identity_expiry_seconds');
    assert.ok(expiry > 60 && expiry <= 300, `expiry ${expiry}`);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(lint.status, 0, lint.stdout + lint.stderr);
  });

  it('renews over mTLS at half its lifetime under traffic: new handshakes get a new serial for the same SPIFFE ID, '
    + 'the open connection keeps its certificate and loses no request', async () => {
    const before = serialOf(path.join(identityDir, 'svid.pem'));
    const keyBefore = fs.readFileSync(path.join(identityDir, 'svid.key'), 'utf8');
    const publicKeyBefore = publicKeyOf(path.join(identityDir, 'svid.pem'));
    // One kept-alive connection carrying a request every 2 s until the renewal is seen.
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: bundle, ...client,
      checkServerIdentity: (host, peer) => (peer.subjectaltname === `URI:${GW}` ? undefined : new Error('not the gateway')) });
    const sockets = new Set();
    const results = [];
    const onOpenConnection = () => new Promise((resolve, reject) => {
      const req = https.request(`${gatewayHttps(gw)}/v1/chat/completions`, { method: 'POST', agent,
        headers: { 'content-type': 'application/json' } }, (res) => {
        sockets.add(res.socket);
        const serial = res.socket.getPeerCertificate().serialNumber.toUpperCase();
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, serial }));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] }));
    });
    let renewedLog = null;
    gw.waitForLog((o) => o.msg === 'node identity renewed', 200000).then((o) => { renewedLog = o; }, () => {});
    const deadline = Date.now() + 200000;
    while (!renewedLog && Date.now() < deadline) {
      results.push(await onOpenConnection().catch((e) => ({ status: 0, error: e.message })));
      await new Promise((r) => setTimeout(r, 2000));
    }
    // Once more after the renewal is installed, on the same connection.
    await new Promise((r) => setTimeout(r, 1500));
    results.push(await onOpenConnection().catch((e) => ({ status: 0, error: e.message })));
    agent.destroy();
    assert.ok(renewedLog, 'the gateway renewed within 200 s');
    assert.equal(renewedLog.spiffe_id, GW);
    assert.notEqual(renewedLog.serial.toUpperCase(), before);
    assert.ok(results.length > 3);
    assert.deepEqual(results.filter((r) => r.status !== 200), [], 'no request lost');
    assert.equal(sockets.size, 1, 'one connection carried them all');
    assert.ok(results.every((r) => r.serial === before), 'the open connection keeps the certificate it began with');
    assert.ok(cp.logs.some((o) => o.msg === 'certificate renewed' && o.spiffe_id === GW));
    const served = await eventually(async () => {
      const r = await chat(gw, client);
      return r.status === 200 && r.peerCertificate.serialNumber.toUpperCase() === renewedLog.serial.toUpperCase() && r;
    }, 10000, 'the listener to serve the renewed certificate');
    assert.equal(served.peerCertificate.subjectaltname, `URI:${GW}`);
    assert.equal(metricValue(await gw.metrics(), 'tollway_identity_renewals_total', { result: 'success' }), 1);
    // A new key came with the new certificate, made on the node; the pair on disk matches, the key is still 0600.
    const keyFile = path.join(identityDir, 'svid.key');
    assert.notEqual(fs.readFileSync(keyFile, 'utf8'), keyBefore);
    assert.notEqual(publicKeyOf(path.join(identityDir, 'svid.pem')), publicKeyBefore);
    assert.equal(execFileSync('openssl', ['pkey', '-pubout', '-in', keyFile], { encoding: 'utf8' }),
      publicKeyOf(path.join(identityDir, 'svid.pem')));
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(fs.readlinkSync(keyFile), 'current/svid.key');
    assert.equal(fs.readdirSync(path.join(identityDir, 'keypairs')).length, 1, 'the old pair is gone');
  });

  it('a gateway run from its own file joins and reports over its identity (--report-to https)', async () => {
    const dir = tempDir('tollway-reporter-');
    const config = path.join(dir, 'gateway.yaml');
    fs.writeFileSync(config, BASE.replace('  workers: 1\n', '  workers: 1\n  tls:\n    identity: node\n')
      + providers(mock.url, mock.url) + MODELS);
    const joinTokenFile = path.join(dir, 'join.token');
    fs.writeFileSync(joinTokenFile, await mint(cp.stateDir, REPORTER));
    const reporter = await startReportingGateway({ config, reportTo: cp.url, node: 'gw-r', token: REPORTER_TOKEN,
      extraArgs: ['--identity-dir', path.join(dir, 'identity'), '--control-ca', bundleFile,
        '--join-token-file', joinTokenFile] });
    try {
      assert.equal((await reporter.waitForLog((o) => o.msg === 'node identity issued')).spiffe_id, REPORTER);
      await eventually(async () => {
        const f = await httpsJson(`${cp.url}/v1/fleet`, { ca: bundle, headers: { authorization: 'Bearer admin-secret' } });
        const n = f.json?.nodes?.find((x) => x.id === 'gw-r');
        return n?.state === 'UNMANAGED' && n.cert_not_after === certificateDates(path.join(dir, 'identity', 'svid.pem')).cert_not_after;
      }, 15000, 'gw-r UNMANAGED with its certificate\'s expiry');
      const r = await chat(reporter, client, REPORTER);
      assert.equal(r.status, 200, r.text);
    } finally {
      await reporter.stop();
    }
  });

  it('the control plane renews its own certificate at half its life: new handshakes get the new one', async () => {
    const renewed = await cp.waitForLog((o) => o.msg === 'control plane certificate renewed', 90000);
    assert.match(renewed.not_after, /^\d{4}-\d\d-\d\dT/);
    const now = serialOf(path.join(cp.stateDir, 'tls', 'control.pem'));
    assert.notEqual(now, controlSerial);
    const r = await httpsJson(`${cp.url}/v1/bundle`, { ca: bundle });
    assert.equal(r.status, 200);
    assert.equal(r.peerCertificate.serialNumber.toUpperCase(), now);
  });

  it('control plane stopped: the gateway restarted from its directories still serves its mTLS listener', async () => {
    await gw.stop();
    await cp.stop();
    gw = await startManagedGateway({ control: cp.url, node: 'gw-a', token: NODE_TOKEN, stateDir,
      extraArgs: gatewayArgs(null), timeoutMs: 20000 });
    const loaded = await gw.waitForLog((o) => o.msg === 'node identity loaded');
    assert.equal(loaded.spiffe_id, GW);
    assert.ok(loaded.expires_in_s > 0 && loaded.expires_in_s <= 300, `expires_in_s ${loaded.expires_in_s}`);
    const r = await chat(gw, client);
    assert.equal(r.status, 200, r.text);
    await assert.rejects(chat(gw, {}));
  });
});
