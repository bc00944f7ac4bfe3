// etcd over TLS: an etcd serving HTTPS only, with client certificates required (--client-cert-auth), certificates
// made with openssl. `tollway control publish` and `tollway control` reach it with --etcd https://… --etcd-ca
// --etcd-cert --etcd-key: a publish is served (range, lease, writer txn and history over TLS) and a second one
// arrives through the watch stream over TLS; without the client certificate a publish is refused, and a control
// plane that does not trust etcd's CA says etcd is unreachable and why.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeCA, runTollway } from '../../lib/harness.mjs';
import { policyDir, startControl, startEtcd, eventually, sha256, BASE, MODELS, providers } from './control_harness.mjs';

const PREFIX = '/tollway/policy';
// etcd's own gateway dials its gRPC server with the server certificate, so with --client-cert-auth that certificate
// must allow client authentication too (etcd's documentation: "extended key usage ... clientAuth").
function etcdServerCertificate(ca) {
  const f = (n) => path.join(ca.dir, n);
  const ossl = (...a) => execFileSync('openssl', a, { cwd: ca.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('etcd.key'),
    '-out', f('etcd.csr'), '-subj', '/CN=etcd');
  fs.writeFileSync(f('etcd.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n'
    + 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n');
  ossl('x509', '-req', '-in', f('etcd.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('etcd.pem'), '-days', '2', '-extfile', f('etcd.cnf'));
  return { certFile: f('etcd.pem'), keyFile: f('etcd.key') };
}

const NODES = `nodes:\n  gw-a:\n    labels: {role: gateway}\n    token_sha256: ${sha256('token-of-gw-a')}\n`;

describe('control plane on etcd over TLS', () => {
  let ca; let client; let etcd; let policy; let cp;
  const tlsArgs = () => ['--etcd-ca', ca.caFile, '--etcd-cert', client.certFile, '--etcd-key', client.keyFile];
  const publish = (...more) => runTollway(['control', 'publish', policy.dir, '--etcd', etcd.url, '--prefix', PREFIX,
    ...more]);

  before(async () => {
    ca = makeCA();
    client = ca.clientCert('tollway-control');
    const server = etcdServerCertificate(ca);
    etcd = await startEtcd({ tls: { certFile: server.certFile, keyFile: server.keyFile, caFile: ca.caFile, ca: ca.ca,
      clientCert: fs.readFileSync(client.certFile), clientKey: fs.readFileSync(client.keyFile) } });
    policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers('http://127.0.0.1:9', 'http://127.0.0.1:9'));
    policy.write('models.yaml', MODELS);
    policy.write('nodes.yaml', NODES);
  });
  after(async () => {
    await cp?.stop();
    await etcd?.stop();
    ca?.cleanup();
  });

  it('publish over TLS with a client certificate; without one etcd refuses it', async (t) => {
    const refused = await publish('--etcd-ca', ca.caFile);
    assert.equal(refused.code, 1);
    t.diagnostic(refused.stderr.trim());
    assert.match(refused.stderr, /cannot read \/tollway\/policy\/ from etcd: etcd at 127\.0\.0\.1:\d+: /);
    const r = await publish(...tlsArgs());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^published policy [0-9a-f]{12} to \/tollway\/policy\//);
  });

  it('the control plane serves it, is the writer, and follows the watch stream over TLS', async () => {
    cp = await startControl({ etcd: etcd.url, prefix: PREFIX, extraArgs: tlsArgs() });
    const f = await eventually(async () => { const x = await cp.fleet(); return x.revision && x.role === 'writer' && x; },
      10000, 'the policy served by the writer');
    assert.match(f.revision, /^1-/);
    assert.equal(f.store_error, null);
    policy.write('models.yaml', `${MODELS}  - match: "mistral-*"\n    provider: alt\n`);
    const r = await publish(...tlsArgs());
    assert.equal(r.code, 0, r.stderr);
    await eventually(async () => (await cp.fleet()).revision.startsWith('2-'), 5000, 'the second version');
    const versions = await (await fetch(`${cp.url}/v1/history`, { headers: { authorization: `Bearer ${cp.adminToken}` } })).json();
    assert.equal(versions.versions.length, 2);
  });

  it('a control plane that does not trust etcd\'s CA: etcd unreachable, with the verification error', async (t) => {
    const untrusting = await startControl({ etcd: etcd.url, prefix: PREFIX,
      extraArgs: ['--etcd-cert', client.certFile, '--etcd-key', client.keyFile] });
    try {
      const text = await eventually(async () => {
        const r = await fetch(`${untrusting.url}/readyz`);
        const t = await r.text();
        return r.status === 503 && /etcd unreachable/.test(t) && t;
      }, 10000, 'readyz 503 etcd unreachable');
      assert.match(text, /certificate/);
    t.diagnostic(text.trim());
    } finally {
      await untrusting.stop();
    }
  });

  it('TLS files without an https:// URL are refused at start', async () => {
    const r = await runTollway(['control', '--etcd', 'http://127.0.0.1:1', '--prefix', PREFIX, '--etcd-ca', ca.caFile,
      '--admin-token-file', ca.caFile]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--etcd-ca, --etcd-cert and --etcd-key go with https:\/\/ member URLs/);
  });
});
