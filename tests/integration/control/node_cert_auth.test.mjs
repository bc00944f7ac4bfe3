// Nodes authenticated to the control plane by their certificate alone, as real processes on loopback: `tollway
// control --trust-domain --tls` with nodes.yaml naming each node's SPIFFE ID (`spiffe_id`), and `tollway gateway
// --control https://… --identity-dir` started without any --token-file: it joins with its one-time join token, then
// polls and ACKs with its certificate only (SYNCED through a policy change; the fleet and the control plane's metrics
// say `certificate`). Node A's certificate acting as node B is refused (403 wrong_node) on the snapshot, ACK and usage
// APIs; a node's bootstrap token alone works until its identity is issued and is refused after (401
// certificate_required), unless the control plane runs with --accept-node-token-after-join; a certificate of
// another CA and an expired one of the right CA fail the handshake, counted by reason on the control plane.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { issueCertificate, makeCA, metricValue, runTollway, startMock, tempDir } from '../../lib/harness.mjs';
import { BASE, MODELS, eventually, httpsJson, policyDir, providers, sha256, startControl,
  startManagedGateway } from './control_harness.mjs';

const TD = 'example.org';
const GW_A = `spiffe://${TD}/ns/prod/sa/gw-a`;
const GW_B = `spiffe://${TD}/ns/prod/sa/gw-b`;
const TOKEN_A = 'node-token-of-gw-a';
const TOKEN_B = 'node-token-of-gw-b';
const NODES = `nodes:\n  gw-a:\n    labels: {role: gateway}\n    spiffe_id: ${GW_A}\n    token_sha256: ${sha256(TOKEN_A)}\n`
  + `  gw-b:\n    labels: {role: gateway}\n    spiffe_id: ${GW_B}\n    token_sha256: ${sha256(TOKEN_B)}\n`;

async function mint(stateDir, identity) {
  const r = await runTollway(['control', 'token', 'create', '--state-dir', stateDir, '--identity', identity]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

// A key and an X.509-SVID for `identity` from the control plane at `url`, paid with a fresh join token.
async function join(cp, bundle, identity) {
  const dir = tempDir('tollway-join-');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  const csr = execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', '/CN=n'], { encoding: 'utf8' });
  const issued = await httpsJson(`${cp.url}/v1/certs`,
    { method: 'POST', ca: bundle, body: { csr, token: await mint(cp.stateDir, identity) } });
  assert.equal(issued.status, 200, issued.text);
  return { cert: issued.json.chain, key: fs.readFileSync(keyFile, 'utf8') };
}

describe('nodes authenticated to the control plane by their certificate alone', () => {
  let mock; let policy; let cp; let gw; let bundle; let identityDir;
  const fleetNode = async (id) => {
    const f = await httpsJson(`${cp.url}/v1/fleet`, { ca: bundle, headers: { authorization: 'Bearer admin-secret' } });
    return f.json?.nodes?.find((n) => n.id === id);
  };
  const certOfA = () => ({ cert: fs.readFileSync(path.join(identityDir, 'svid.pem'), 'utf8'),
    key: fs.readFileSync(path.join(identityDir, 'svid.key'), 'utf8') });

  before(async () => {
    mock = await startMock();
    policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers(mock.url, mock.url));
    policy.write('models.yaml', MODELS);
    policy.write('nodes.yaml', NODES);
    cp = await startControl({ policy: policy.dir, extraArgs: ['--trust-domain', TD, '--tls', '--svid-lifetime', '5m'] });
    bundle = fs.readFileSync(path.join(cp.stateDir, 'ca', 'root.pem'), 'utf8');
    const dir = tempDir('tollway-cert-auth-');
    const bundleFile = path.join(dir, 'bundle.pem');
    fs.writeFileSync(bundleFile, bundle);
    identityDir = path.join(dir, 'identity');
    const joinTokenFile = path.join(dir, 'join.token');
    fs.writeFileSync(joinTokenFile, await mint(cp.stateDir, GW_A));
    gw = await startManagedGateway({ control: cp.url, node: 'gw-a', token: null, stateDir: path.join(dir, 'state'),
      extraArgs: ['--identity-dir', identityDir, '--control-ca', bundleFile, '--join-token-file', joinTokenFile] });
  });
  after(async () => {
    await gw?.stop();
    await cp?.stop();
    await mock?.close();
  });

  it('a joined gateway with no token syncs by its certificate: polls and ACKs through a policy change', async () => {
    const first = await eventually(async () => {
      const n = await fleetNode('gw-a');
      return n?.state === 'SYNCED' && n;
    }, 15000, 'gw-a SYNCED');
    assert.equal(first.auth, 'certificate');
    assert.equal(first.spiffe_id, GW_A);
    const changedAt = Math.floor(Date.now() / 1000) * 1000;  // last_ack has whole seconds
    policy.write('models.yaml', `${MODELS}  - match: "o1-*"\n    provider: openai\n`);
    const second = await eventually(async () => {
      const n = await fleetNode('gw-a');
      return n?.state === 'SYNCED' && n.desired_version !== first.desired_version && Date.parse(n.last_ack) >= changedAt
        && n;
    }, 15000, 'gw-a SYNCED on the new policy (polled and ACKed)');
    assert.equal(second.auth, 'certificate');
    assert.equal(second.applied_version, second.desired_version);
    const text = (await httpsJson(`${cp.url}/metrics`, { ca: bundle })).text;
    assert.ok(metricValue(text, 'tollway_control_node_auth_total', { method: 'certificate', result: 'accepted' }) >= 3,
      'polls and ACKs authenticated by certificate');
    assert.equal(metricValue(text, 'tollway_control_node_auth_total', { method: 'token', result: 'accepted' }), 0,
      'no request of the gateway authenticated by token');
  });

  it('node A\'s certificate cannot act as node B: 403 wrong_node on the snapshot, ACK and usage APIs', async () => {
    const asB = { ca: bundle, ...certOfA() };
    const poll = await httpsJson(`${cp.url}/v1/snapshot?node=gw-b&have=`, asB);
    assert.equal(poll.status, 403, poll.text);
    assert.equal(poll.json.error.code, 'wrong_node');
    assert.match(poll.json.error.message, /spiffe:\/\/example\.org\/ns\/prod\/sa\/gw-a is node gw-a's identity .*cannot act as node gw-b/);
    const ack = await httpsJson(`${cp.url}/v1/ack`, { ...asB, method: 'POST',
      body: { node: 'gw-b', version: 'abc', nonce: 'n' } });
    assert.equal(ack.status, 403, ack.text);
    const usage = await httpsJson(`${cp.url}/v1/usage`, { ...asB, method: 'POST',
      body: { node: 'gw-b', incarnation: 'i1', seq: 1, keys: [] } });
    assert.equal(usage.status, 403, usage.text);
    assert.equal(usage.json.error.code, 'wrong_node');
    // As itself, the same certificate is accepted.
    const own = await httpsJson(`${cp.url}/v1/snapshot?node=gw-a&have=`, asB);
    assert.equal(own.status, 200, own.text);
  });

  it('a token alone works until the node\'s identity is issued, and is refused after (401 certificate_required)',
    async () => {
      const byToken = (node, token) => httpsJson(`${cp.url}/v1/snapshot?node=${node}&have=`,
        { ca: bundle, headers: { authorization: `Bearer ${token}` } });
      const refused = await byToken('gw-a', TOKEN_A);
      assert.equal(refused.status, 401, refused.text);
      assert.equal(refused.json.error.code, 'certificate_required');
      assert.match(refused.json.error.message, /node gw-a holds an identity \(spiffe:\/\/example\.org\/ns\/prod\/sa\/gw-a/);
      const before = await byToken('gw-b', TOKEN_B);
      assert.equal(before.status, 200, 'gw-b has no identity yet: its bootstrap token is accepted');
      const b = await join(cp, bundle, GW_B);
      const after = await byToken('gw-b', TOKEN_B);
      assert.equal(after.status, 401, after.text);
      assert.equal(after.json.error.code, 'certificate_required');
      const byCert = await httpsJson(`${cp.url}/v1/snapshot?node=gw-b&have=`, { ca: bundle, ...b });
      assert.equal(byCert.status, 200, byCert.text);
      assert.equal((await fleetNode('gw-b')).auth, 'certificate');
      const text = (await httpsJson(`${cp.url}/metrics`, { ca: bundle })).text;
      assert.equal(metricValue(text, 'tollway_control_node_auth_refusals_total', { code: 'certificate_required' }), 2);
      assert.ok(metricValue(text, 'tollway_control_node_auth_refusals_total', { code: 'wrong_node' }) >= 3);
    });

  it('an expired certificate of this CA and one of another CA fail the handshake, counted by reason', async () => {
    const signer = { dir: tempDir('tollway-expired-') };
    fs.copyFileSync(path.join(cp.stateDir, 'ca', 'root.pem'), path.join(signer.dir, 'ca.pem'));
    fs.copyFileSync(path.join(cp.stateDir, 'ca', 'root.key'), path.join(signer.dir, 'ca.key'));
    const expired = issueCertificate(signer, 'expired', `URI:${GW_A}`, { start: '20200101000000Z', end: '20200102000000Z' });
    const other = makeCA({ name: 'other-ca' });
    const foreign = issueCertificate(other, 'foreign', `URI:${GW_A}`);
    for (const credential of [expired, foreign])
      await assert.rejects(httpsJson(`${cp.url}/v1/snapshot?node=gw-a&have=`, { ca: bundle, ...credential }));
    const text = (await httpsJson(`${cp.url}/metrics`, { ca: bundle })).text;
    const failures = (reason) => metricValue(text, 'tollway_tls_handshake_failures_total', { listener: 'control', reason });
    assert.equal(failures('certificate_expired'), 1);
    assert.equal(failures('unknown_ca'), 1);
  });

  it('with --accept-node-token-after-join an identity-holding node may still use its token alone', async () => {
    const compat = await startControl({ policy: policy.dir,
      extraArgs: ['--trust-domain', TD, '--tls', '--svid-lifetime', '5m', '--accept-node-token-after-join'] });
    try {
      const compatBundle = fs.readFileSync(path.join(compat.stateDir, 'ca', 'root.pem'), 'utf8');
      await join(compat, compatBundle, GW_B);
      const r = await httpsJson(`${compat.url}/v1/snapshot?node=gw-b&have=`,
        { ca: compatBundle, headers: { authorization: `Bearer ${TOKEN_B}` } });
      assert.equal(r.status, 200, r.text);
      assert.equal(compat.ready.accept_node_token_after_join, true);
    } finally {
      await compat.stop();
    }
  });
});
