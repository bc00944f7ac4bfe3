// Node identity end to end, as real processes: `tollway control --trust-domain --tls` serves HTTPS with its own
// SVID (verified by Node against the bundle, by name 127.0.0.1), issues a certificate for a join token (openssl
// verifies it against /v1/bundle), refuses the token's replay, and renews over mTLS: the current certificate as
// the client certificate, no token, a new serial for the same SPIFFE ID whatever the CSR asks for. A certificate
// from another CA fails the handshake; no token and no certificate is a 401.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runTollway, tempDir } from '../../lib/harness.mjs';
import { httpsJson, policyDir, startControl } from './control_harness.mjs';

const TD = 'example.org';
const WEB = `spiffe://${TD}/ns/prod/sa/web`;

function minimalPolicy() {
  const p = policyDir();
  p.write('base.yaml', 'version: 1\ngateway:\n  workers: 1\n');
  p.write('nodes.yaml', 'nodes: {}\n');
  return p;
}

/** A P-256 key and a CSR asking for `uri`, by the openssl CLI: {dir, key (path), csr (PEM)}. */
function makeCsr(uri) {
  const dir = tempDir('tollway-csr-');
  const key = path.join(dir, 'key.pem');
  const csr = path.join(dir, 'csr.pem');
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  execFileSync('openssl', ['req', '-new', '-key', key, '-subj', '/CN=node', '-addext', `subjectAltName=URI:${uri}`,
    '-out', csr]);
  return { dir, key, csr: fs.readFileSync(csr, 'utf8') };
}

const serialOf = (pemFile) => execFileSync('openssl', ['x509', '-noout', '-serial', '-in', pemFile],
  { encoding: 'utf8' }).trim().split('=')[1];
const urisOf = (pemFile) => execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', pemFile],
  { encoding: 'utf8' }).match(/URI:[^\s,]+/g);

describe('tollway control --tls: HTTPS with its own SVID, join, renewal over mTLS', () => {
  let control;
  let bundle;
  before(async () => {
    control = await startControl({ policy: minimalPolicy().dir, extraArgs: ['--trust-domain', TD, '--tls'] });
    bundle = fs.readFileSync(path.join(control.stateDir, 'ca', 'root.pem'), 'utf8');
  });
  after(async () => { await control?.stop(); });

  it('serves HTTPS with spiffe://TD/tollway/control, DNS localhost and IP 127.0.0.1; plain HTTP is refused', async () => {
    assert.match(control.url, /^https:/);
    assert.equal(control.ready.spiffe_id, `spiffe://${TD}/tollway/control`);
    const r = await httpsJson(`${control.url}/v1/bundle`, { ca: bundle });
    assert.equal(r.status, 200);
    assert.equal(r.text, bundle);
    const certFile = path.join(control.stateDir, 'tls', 'control.pem');
    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', certFile], { encoding: 'utf8' });
    assert.match(text, /DNS:localhost/);
    assert.match(text, /IP Address:127\.0\.0\.1/);
    assert.deepEqual(urisOf(certFile), [`URI:spiffe://${TD}/tollway/control`]);
    assert.match(execFileSync('openssl', ['verify', '-CAfile', path.join(control.stateDir, 'ca', 'root.pem'), certFile],
      { encoding: 'utf8' }), /OK/);
    const keyMode = fs.statSync(path.join(control.stateDir, 'tls', 'control.key')).mode & 0o777;
    assert.equal(keyMode, 0o600);
    await assert.rejects(fetch(`http://127.0.0.1:${control.port}/v1/bundle`));
    // The status command verifies it against --ca-file.
    const caFile = path.join(control.stateDir, 'ca', 'root.pem');
    const status = await runTollway(['control', 'status', '--url', control.url, '--admin-token-file', control.tokenFile,
      '--ca-file', caFile, '--json']);
    assert.equal(status.code, 0, status.stderr);
    assert.ok(JSON.parse(status.stdout).revision);
    const unverified = await runTollway(['control', 'status', '--url', control.url, '--admin-token-file',
      control.tokenFile]);
    assert.equal(unverified.code, 1);
  });

  it('a join token buys one certificate; renewal over mTLS gives a new serial for the same SPIFFE ID', async () => {
    const minted = await runTollway(['control', 'token', 'create', '--state-dir', control.stateDir, '--identity', WEB]);
    assert.equal(minted.code, 0, minted.stderr);
    const token = minted.stdout.trim();
    const first = makeCsr(WEB);
    const issued = await httpsJson(`${control.url}/v1/certs`, { method: 'POST', body: { csr: first.csr, token }, ca: bundle });
    assert.equal(issued.status, 200, issued.text);
    const firstCert = path.join(first.dir, 'cert.pem');
    fs.writeFileSync(firstCert, issued.json.certificate);
    fs.writeFileSync(path.join(first.dir, 'bundle.pem'), bundle);
    assert.match(execFileSync('openssl', ['verify', '-CAfile', path.join(first.dir, 'bundle.pem'), firstCert],
      { encoding: 'utf8' }), /OK/);

    const replay = await httpsJson(`${control.url}/v1/certs`, { method: 'POST', body: { csr: first.csr, token }, ca: bundle });
    assert.equal(replay.status, 401);
    assert.match(replay.json.error.message, /already used/);

    // Renewal: the CSR asks for another identity, the certificate decides.
    const second = makeCsr(`spiffe://${TD}/ns/admin/sa/root`);
    const renewed = await httpsJson(`${control.url}/v1/certs`, {
      method: 'POST', body: { csr: second.csr }, ca: bundle,
      cert: issued.json.certificate, key: fs.readFileSync(first.key, 'utf8'),
    });
    assert.equal(renewed.status, 200, renewed.text);
    assert.equal(renewed.json.spiffe_id, WEB);
    const secondCert = path.join(second.dir, 'cert.pem');
    fs.writeFileSync(secondCert, renewed.json.certificate);
    assert.deepEqual(urisOf(secondCert), [`URI:${WEB}`]);
    assert.notEqual(serialOf(secondCert), serialOf(firstCert));
    await control.waitForLog((o) => o.msg === 'certificate renewed' && o.spiffe_id === WEB);

    const audit = await runTollway(['control', 'certs', '--state-dir', control.stateDir, '--json']);
    assert.equal(audit.code, 0, audit.stderr);
    const renewal = JSON.parse(audit.stdout).find((e) => e.token === 'renewal');
    assert.ok(renewal, 'the renewal is in the audit');
    assert.equal(renewal.identity, WEB);
    assert.equal(renewal.serial.toUpperCase(), serialOf(secondCert).toUpperCase());
  });

  it('no token and no client certificate: 401; a certificate from another CA fails the handshake', async () => {
    const { csr } = makeCsr(WEB);
    const bare = await httpsJson(`${control.url}/v1/certs`, { method: 'POST', body: { csr }, ca: bundle });
    assert.equal(bare.status, 401);
    assert.equal(bare.json.error.code, 'no_credential');

    const other = tempDir('tollway-other-ca-');
    const key = path.join(other, 'key.pem');
    const cert = path.join(other, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=intruder', '-addext', `subjectAltName=URI:${WEB}`]);
    await assert.rejects(httpsJson(`${control.url}/v1/certs`, {
      method: 'POST', body: { csr }, ca: bundle, cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8'),
    }));
  });
});
