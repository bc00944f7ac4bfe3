// The control plane's certificate authority end to end, as real processes: `tollway control --trust-domain`, a
// join token minted with `tollway control token create`, a key and CSR made with the openssl CLI (asking for
// another SPIFFE ID than the token's), POST /v1/certs, and the certificate checked by openssl against
// GET /v1/bundle. A replayed or expired token is refused with 401, a garbage CSR with 400 without consuming the
// token, and `tollway control certs` shows every mint and issuance. Without --trust-domain the endpoints are 404.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runTollway, sleep, tempDir } from '../../lib/harness.mjs';
import { policyDir, startControl } from './control_harness.mjs';

const TD = 'example.org';
const WEB = `spiffe://${TD}/ns/prod/sa/web`;

function minimalPolicy() {
  const p = policyDir();
  p.write('base.yaml', 'version: 1\ngateway:\n  workers: 1\n');
  p.write('nodes.yaml', 'nodes: {}\n');
  return p;
}

/** A P-256 key and a CSR asking for `uri` as its URI SAN, made by the openssl CLI: {dir, key, csr (PEM)}. */
function makeCsr(uri) {
  const dir = tempDir('tollway-csr-');
  const key = path.join(dir, 'key.pem');
  const csr = path.join(dir, 'csr.pem');
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=node', '-addext', `subjectAltName=URI:${uri}`,
    '-out', csr]);
  return { dir, key, csr: fs.readFileSync(csr, 'utf8') };
}

async function createToken(stateDir, identity, ttl = '1h') {
  const r = await runTollway(['control', 'token', 'create', '--state-dir', stateDir, '--identity', identity,
    '--ttl', ttl]);
  assert.equal(r.code, 0, r.stderr);
  const token = r.stdout.trim();
  assert.match(token, /^twjoin_[0-9a-f]{64}$/);
  return token;
}

async function postCerts(url, body) {
  const r = await fetch(`${url}/v1/certs`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}

describe('tollway control --trust-domain: join tokens and certificates', () => {
  let control;
  before(async () => {
    control = await startControl({ policy: minimalPolicy().dir, extraArgs: ['--trust-domain', TD] });
  });
  after(async () => { await control?.stop(); });

  it('issues an SVID for the token\'s identity, not the CSR\'s; openssl verifies it against the bundle', async () => {
    const token = await createToken(control.stateDir, WEB);
    const { dir, csr } = makeCsr(`spiffe://${TD}/ns/admin/sa/root`);
    const r = await postCerts(control.url, { csr, token });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.spiffe_id, WEB);
    assert.match(r.json.not_after, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const hours = (Date.parse(r.json.not_after) - Date.now()) / 3600e3;
    assert.ok(hours > 23.9 && hours <= 24.01, `default lifetime 24h, got ${hours}h`);

    const bundle = await fetch(`${control.url}/v1/bundle`);
    assert.equal(bundle.status, 200);
    assert.equal(bundle.headers.get('content-type'), 'application/x-pem-file');
    const bundlePem = await bundle.text();
    assert.equal(bundlePem, r.json.bundle);
    fs.writeFileSync(path.join(dir, 'bundle.pem'), bundlePem);
    fs.writeFileSync(path.join(dir, 'cert.pem'), r.json.certificate);
    const verified = execFileSync('openssl', ['verify', '-CAfile', path.join(dir, 'bundle.pem'),
      path.join(dir, 'cert.pem')], { encoding: 'utf8' });
    assert.match(verified, /cert\.pem: OK/);
    const san = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', path.join(dir, 'cert.pem')],
      { encoding: 'utf8' });
    const uris = san.match(/URI:[^\s,]+/g);
    assert.deepEqual(uris, [`URI:${WEB}`]);

    // Replaying the token: refused, nothing issued.
    const replay = await postCerts(control.url, { csr, token });
    assert.equal(replay.status, 401);
    assert.match(replay.json.error.message, /already used/);
    const refused = await control.waitForLog((o) => o.msg === 'certificate refused' && /already used/.test(o.reason));
    assert.equal(refused.spiffe_id, '');
    assert.ok(!control.lines.some((l) => l.includes(token.slice(7))), 'no log line holds the token');
    assert.ok(control.logs.some((o) => o.msg === 'certificate issued' && o.spiffe_id === WEB));
    const metrics = await (await fetch(`${control.url}/metrics`)).text();
    assert.match(metrics, /^tollway_control_certificates_issued_total\{kind="join"\} 1$/m);
    assert.match(metrics, /^tollway_control_certificate_refusals_total\{code="invalid_token"\} 1$/m);
    const expiry = Number(metrics.match(/^tollway_control_ca_expiry_seconds (\S+)$/m)[1]);
    assert.ok(expiry > 4 * 365 * 86400 && expiry <= 5 * 365 * 86400, `CA expiry ${expiry}s`);

    const jwks = await fetch(`${control.url}/v1/bundle?format=jwks`);
    assert.equal(jwks.status, 200);
    const keys = (await jwks.json()).keys;
    assert.equal(keys.length, 1);
    assert.equal(keys[0].use, 'x509-svid');

    const audit = await runTollway(['control', 'certs', '--state-dir', control.stateDir, '--json']);
    assert.equal(audit.code, 0, audit.stderr);
    const entries = JSON.parse(audit.stdout);
    const issued = entries.filter((e) => e.event === 'certificate_issued');
    assert.equal(issued.length, 1);
    assert.equal(issued[0].identity, WEB);
    assert.equal(issued[0].not_after, r.json.not_after);
    const serial = execFileSync('openssl', ['x509', '-noout', '-serial', '-in', path.join(dir, 'cert.pem')],
      { encoding: 'utf8' }).trim().split('=')[1];
    assert.equal(issued[0].serial.toUpperCase(), serial.toUpperCase());
    const minted = entries.find((e) => e.event === 'token_minted' && e.token === issued[0].token);
    assert.ok(minted, 'the mint that paid for it is in the audit');
    assert.ok(!audit.stdout.includes(token.slice(7)), 'the audit never shows the token');
  });

  it('an expired token: 401, nothing issued', async () => {
    const token = await createToken(control.stateDir, `spiffe://${TD}/ns/prod/sa/late`, '1s');
    await sleep(2100);
    const r = await postCerts(control.url, { csr: makeCsr(`spiffe://${TD}/ns/prod/sa/late`).csr, token });
    assert.equal(r.status, 401);
    assert.match(r.json.error.message, /expired/);
    const unknown = await postCerts(control.url, { csr: makeCsr(WEB).csr, token: 'twjoin_0000' });
    assert.equal(unknown.status, 401);
    assert.match(unknown.json.error.message, /unknown join token/);
  });

  it('a garbage CSR or malformed body: 400, and the token still pays for a good CSR after', async () => {
    const identity = `spiffe://${TD}/ns/prod/sa/retry`;
    const token = await createToken(control.stateDir, identity);
    const garbage = await postCerts(control.url, { csr: 'not a certificate request', token });
    assert.equal(garbage.status, 400);
    assert.equal(garbage.json.error.code, 'invalid_csr');
    const unknownField = await postCerts(control.url, { csr: makeCsr(identity).csr, token, spiffe_id: WEB });
    assert.equal(unknownField.status, 400);
    assert.equal(unknownField.json.error.code, 'unknown_field');
    const broken = await postCerts(control.url, '{"csr": ');
    assert.equal(broken.status, 400);
    assert.equal(broken.json.error.code, 'invalid_json');
    const good = await postCerts(control.url, { csr: makeCsr(identity).csr, token });
    assert.equal(good.status, 200, JSON.stringify(good.json));
    assert.equal(good.json.spiffe_id, identity);
  });

  it('tokens survive a restart of the control plane on the same state dir', async () => {
    const identity = `spiffe://${TD}/ns/prod/sa/restart`;
    const token = await createToken(control.stateDir, identity);
    const bundleBefore = await (await fetch(`${control.url}/v1/bundle`)).text();
    await control.stop();
    control = await startControl({ policy: minimalPolicy().dir, stateDir: control.stateDir,
      extraArgs: ['--trust-domain', TD] });
    assert.equal(await (await fetch(`${control.url}/v1/bundle`)).text(), bundleBefore);
    const r = await postCerts(control.url, { csr: makeCsr(identity).csr, token });
    assert.equal(r.status, 200, JSON.stringify(r.json));
  });
});

describe('tollway control without --trust-domain', () => {
  it('the CA endpoints answer 404 saying the CA is off; token create says why it cannot mint', async () => {
    const control = await startControl({ policy: minimalPolicy().dir });
    try {
      for (const [method, p] of [['POST', '/v1/certs'], ['GET', '/v1/bundle']]) {
        const r = await fetch(`${control.url}${p}`, { method, body: method === 'POST' ? '{}' : undefined });
        assert.equal(r.status, 404);
        const body = await r.json();
        assert.equal(body.error.code, 'ca_off');
        assert.match(body.error.message, /--trust-domain/);
      }
      const r = await runTollway(['control', 'token', 'create', '--state-dir', control.stateDir, '--identity', WEB]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /identity\.db does not exist/);
    } finally {
      await control.stop();
    }
  });

  it('--svid-lifetime below 5m is refused at start', async () => {
    const dir = tempDir('tollway-control-');
    fs.writeFileSync(path.join(dir, 'admin.token'), 'admin\n');
    const r = await runTollway(['control', '--policy', minimalPolicy().dir, '--admin-token-file',
      path.join(dir, 'admin.token'), '--state-dir', path.join(dir, 'state'), '--trust-domain', TD,
      '--svid-lifetime', '4m']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--svid-lifetime: "4m" is not a duration of at least 5m/);
  });
});

// A company PKI: an offline root, an intermediate for the control plane (--ca-cert/--ca-key), made by the openssl CLI.
function makePki(dir, name) {
  const f = (n) => path.join(dir, `${name}-${n}`);
  fs.writeFileSync(f('ext.cnf'), '[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('root.key')]);
  execFileSync('openssl', ['req', '-x509', '-new', '-key', f('root.key'), '-subj', `/CN=${name} root`, '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', f('root.pem')]);
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('int.key')]);
  execFileSync('openssl', ['req', '-new', '-key', f('int.key'), '-subj', `/CN=${name} tollway intermediate`,
    '-out', f('int.csr')]);
  execFileSync('openssl', ['x509', '-req', '-in', f('int.csr'), '-CA', f('root.pem'), '-CAkey', f('root.key'),
    '-CAcreateserial', '-days', '10', '-extfile', f('ext.cnf'), '-extensions', 'ca', '-out', f('int.pem')]);
  return { root: f('root.pem'), rootKey: f('root.key'), int: f('int.pem'), intKey: f('int.key') };
}

describe('tollway control --ca-cert/--ca-key: a supplied intermediate', () => {
  it('issues SVIDs that chain to the company root; the bundle holds every root of the file (rotation overlap)', async () => {
    const dir = tempDir('tollway-pki-');
    const old = makePki(dir, 'old');
    const next = makePki(dir, 'new');
    // The new intermediate, its root, and the old root kept for the overlap period.
    const chain = path.join(dir, 'chain.pem');
    fs.writeFileSync(chain, [next.int, next.root, old.root].map((f) => fs.readFileSync(f, 'utf8')).join(''));
    const control = await startControl({ policy: minimalPolicy().dir,
      extraArgs: ['--trust-domain', TD, '--ca-cert', chain, '--ca-key', next.intKey] });
    try {
      const token = await createToken(control.stateDir, WEB);
      const { dir: csrDir, csr } = makeCsr(WEB);
      const r = await postCerts(control.url, { csr, token });
      assert.equal(r.status, 200, JSON.stringify(r.json));
      const bundle = await (await fetch(`${control.url}/v1/bundle`)).text();
      assert.equal((bundle.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, 'both roots, no intermediate');
      const files = { bundle: path.join(csrDir, 'bundle.pem'), chain: path.join(csrDir, 'chain.pem'),
        cert: path.join(csrDir, 'cert.pem'), newRoot: next.root, oldRoot: old.root };
      fs.writeFileSync(files.bundle, bundle);
      fs.writeFileSync(files.cert, r.json.certificate);
      fs.writeFileSync(files.chain, r.json.chain);
      assert.equal((r.json.chain.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, 'the leaf and the intermediate');
      // openssl, as a peer would: the leaf against the bundle, the intermediate from the presented chain.
      assert.match(execFileSync('openssl', ['verify', '-CAfile', files.bundle, '-untrusted', files.chain, files.cert],
        { encoding: 'utf8' }), /cert\.pem: OK/);
      assert.match(execFileSync('openssl', ['verify', '-CAfile', files.newRoot, '-untrusted', files.chain, files.cert],
        { encoding: 'utf8' }), /OK/);
      const notUnderOld = spawnSync('openssl', ['verify', '-CAfile', files.oldRoot, '-untrusted', files.chain, files.cert]);
      assert.notEqual(notUnderOld.status, 0, 'the new leaf must not verify under the old root alone');
    } finally {
      await control.stop();
    }
  });

  it('refuses a key that does not match, a chain without its root and a lone flag', async () => {
    const dir = tempDir('tollway-pki-');
    const pki = makePki(dir, 'co');
    const admin = path.join(dir, 'admin.token');
    fs.writeFileSync(admin, 'admin\n');
    const start = (...args) => runTollway(['control', '--policy', minimalPolicy().dir, '--admin-token-file', admin,
      '--state-dir', path.join(dir, `state-${Math.random()}`), '--listen', '127.0.0.1:0', ...args]);
    let r = await start('--trust-domain', TD, '--ca-cert', pki.int, '--ca-key', pki.rootKey);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--ca-cert: .*the key does not match/);
    r = await start('--trust-domain', TD, '--ca-cert', pki.int, '--ca-key', pki.intKey);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the chain does not end in a self-signed root/);
    r = await start('--trust-domain', TD, '--ca-cert', pki.int);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--ca-cert and --ca-key go together, with --trust-domain/);
  });
});
