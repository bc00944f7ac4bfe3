// Rotating the generated root while the control plane runs, as real processes on loopback, with the openssl CLI as
// the verifier: `tollway control --trust-domain --tls --svid-lifetime 5m` and a gateway joined under root 1 (no
// bootstrap token: its certificate authenticates it) carrying a request every 300 ms. `tollway control ca rotate
// --prepare 0s --overlap …` makes root 2 (key 0600): within a second GET /v1/bundle holds both roots, a new
// certificate chains to root 2 (and not to root 1 alone) while the gateway's first one still verifies against the
// bundle; a second rotation is refused while this one runs; the audit lists it. The control plane restarted in the
// middle serves the same bundle and signs with root 2. The gateway renews during the overlap (at half its lifetime,
// ~1.5–2.5 min in) onto root 2 without a failed request and keeps syncing; after the overlap root 1 leaves the bundle,
// its key is deleted, the control plane's own certificate moves to root 2 and the gateway still syncs. About three
// minutes, most of it waiting for the renewal (the CA's shortest lifetime is 5 minutes).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { runTollway, startMock, tempDir } from '../../lib/harness.mjs';
import { BASE, MODELS, eventually, httpsJson, policyDir, providers, startControl,
  startManagedGateway } from './control_harness.mjs';

const TD = 'example.org';
const GW = `spiffe://${TD}/ns/prod/sa/gw-a`;

async function mint(stateDir, identity) {
  const r = await runTollway(['control', 'token', 'create', '--state-dir', stateDir, '--identity', identity]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

// openssl verify LEAF against CAFILE: true when it verifies.
const verifies = (caFile, leafFile) =>
  spawnSync('openssl', ['verify', '-CAfile', caFile, leafFile], { encoding: 'utf8' }).status === 0;
const pemCount = (text) => (text.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
const dateOf = (pemFile, which) => new Date(execFileSync('openssl', ['x509', '-noout', `-${which}`, '-in', pemFile],
  { encoding: 'utf8' }).trim().split('=')[1]).getTime();

describe('tollway control ca rotate: the generated root rotates under a running fleet', () => {
  let mock; let policy; let cp; let gw; let dir; let bundleFile; let identityDir; let firstLeaf; let stateDir;
  let traffic; let retiresAt; const results = [];
  const caFile = (name) => path.join(stateDir, 'ca', name);
  const fleetNode = async () => {
    const bundle = fs.readFileSync(path.join(identityDir, 'bundle.pem'), 'utf8');
    const f = await httpsJson(`${cp.url}/v1/fleet`, { ca: bundle, headers: { authorization: 'Bearer admin-secret' } });
    return f.json?.nodes?.find((n) => n.id === 'gw-a');
  };
  // A policy change the gateway must poll, apply and ACK: SYNCED on a new desired version.
  let models = MODELS;
  const syncsAChange = async (pattern) => {
    const before = await fleetNode();
    models += `  - match: "${pattern}"\n    provider: openai\n`;
    policy.write('models.yaml', models);
    return eventually(async () => {
      const n = await fleetNode().catch(() => null);
      return n?.state === 'SYNCED' && n.desired_version !== before?.desired_version && n;
    }, 30000, `gw-a SYNCED after adding ${pattern}`);
  };

  before(async () => {
    mock = await startMock();
    policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers(mock.url, mock.url));
    policy.write('models.yaml', models);
    policy.write('nodes.yaml', `nodes:\n  gw-a:\n    labels: {role: gateway}\n    spiffe_id: ${GW}\n`);
    cp = await startControl({ policy: policy.dir, extraArgs: ['--trust-domain', TD, '--tls', '--svid-lifetime', '5m'] });
    stateDir = cp.stateDir;
    dir = tempDir('tollway-rotation-');
    bundleFile = path.join(dir, 'bundle.pem');
    fs.copyFileSync(caFile('root.pem'), bundleFile);
    identityDir = path.join(dir, 'identity');
    const joinTokenFile = path.join(dir, 'join.token');
    fs.writeFileSync(joinTokenFile, await mint(stateDir, GW));
    gw = await startManagedGateway({ control: cp.url, node: 'gw-a', token: null, stateDir: path.join(dir, 'state'),
      extraArgs: ['--identity-dir', identityDir, '--control-ca', bundleFile, '--join-token-file', joinTokenFile] });
    firstLeaf = path.join(dir, 'first-leaf.pem');
    fs.copyFileSync(path.join(identityDir, 'svid.pem'), firstLeaf);
    const chat = () => fetch(`${gw.url}/v1/chat/completions`, { method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] }) })
      .then(async (r) => { await r.text(); return r.status; }, (e) => `error ${e.message}`);
    traffic = setInterval(() => { chat().then((s) => results.push(s)); }, 300);
  });
  after(async () => {
    clearInterval(traffic);
    await gw?.stop();
    await cp?.stop();
    await mock?.close();
  });

  it('rotates a running control plane: root 2 (0600) in the bundle at once, new certificates under it only', async () => {
    // The overlap outlasts the gateway's latest possible renewal (60 % of its certificate's span) by 20 s.
    const from = dateOf(firstLeaf, 'startdate'); const to = dateOf(firstLeaf, 'enddate');
    const overlap = Math.ceil((from + 0.6 * (to - from) - Date.now()) / 1000) + 20;
    retiresAt = Date.now() + overlap * 1000;
    const rotated = await runTollway(['control', 'ca', 'rotate', '--state-dir', stateDir, '--prepare', '0s',
      '--overlap', `${overlap}s`]);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /root generation 2 .* is in the trust bundle now; it signs from .*; root generation 1 leaves the bundle at /);
    assert.match(rotated.stderr, /warning: --prepare 0s is shorter than the SVID lifetime 5m/);
    assert.equal(fs.statSync(caFile('root-2.key')).mode & 0o777, 0o600);
    const again = await runTollway(['control', 'ca', 'rotate', '--state-dir', stateDir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /a rotation is in progress: root generation 1 is still in the bundle until /);

    const changed = await cp.waitForLog((o) => o.msg === 'CA roots changed', 5000);
    assert.equal(changed.bundle_generations, '1,2');
    assert.equal(changed.signing_generation, 2);
    assert.equal(changed.listener_generation, 1, 'the listener stays on root 1 while nodes may hold root 1 only');
    const served = await httpsJson(`${cp.url}/v1/bundle`, { ca: fs.readFileSync(bundleFile, 'utf8') });
    assert.equal(served.text, fs.readFileSync(caFile('root.pem'), 'utf8') + fs.readFileSync(caFile('root-2.pem'), 'utf8'));
    const overlapBundle = path.join(dir, 'overlap-bundle.pem');
    fs.writeFileSync(overlapBundle, served.text);
    const jwks = await httpsJson(`${cp.url}/v1/bundle?format=jwks`, { ca: served.text });
    assert.equal(jwks.json.keys.length, 2);
    assert.equal(jwks.json.spiffe_sequence, 2);

    // A certificate issued now chains to root 2; the gateway's first one, to root 1, verifies against the bundle too.
    const keyFile = path.join(dir, 'probe.key');
    execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
    const csr = execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', '/CN=probe'], { encoding: 'utf8' });
    const issued = await httpsJson(`${cp.url}/v1/certs`, { method: 'POST', ca: served.text,
      body: { csr, token: await mint(stateDir, `spiffe://${TD}/ns/prod/sa/probe`) } });
    assert.equal(issued.status, 200, issued.text);
    const newLeaf = path.join(dir, 'new-leaf.pem');
    fs.writeFileSync(newLeaf, issued.json.certificate);
    assert.equal(pemCount(issued.json.bundle), 2, 'the bundle handed out holds both roots');
    assert.ok(verifies(overlapBundle, newLeaf), 'the new leaf verifies against the overlap bundle');
    assert.ok(verifies(overlapBundle, firstLeaf), 'the old leaf verifies against the overlap bundle');
    assert.ok(verifies(caFile('root-2.pem'), newLeaf));
    assert.ok(!verifies(caFile('root.pem'), newLeaf), 'the new leaf does not verify against the old root alone');

    const audit = JSON.parse((await runTollway(['control', 'certs', '--state-dir', stateDir, '--json'])).stdout);
    const rotation = audit.find((e) => e.event === 'ca_rotated');
    assert.equal(rotation.identity, `spiffe://${TD}`);
    assert.equal(rotation.token, 'root-2');
    const serial = execFileSync('openssl', ['x509', '-noout', '-serial', '-in', caFile('root-2.pem')],
      { encoding: 'utf8' }).trim().split('=')[1];
    assert.equal(rotation.serial.toUpperCase(), serial.toUpperCase());
  });

  it('the control plane restarted mid-overlap serves the same bundle and signs with root 2', async () => {
    const port = cp.port;
    await cp.stop();
    cp = await startControl({ policy: policy.dir, stateDir, listen: `127.0.0.1:${port}`,
      extraArgs: ['--trust-domain', TD, '--tls', '--svid-lifetime', '5m'] });
    assert.equal(cp.ready.ca_root_generation, 2);
    const overlapBundle = fs.readFileSync(path.join(dir, 'overlap-bundle.pem'), 'utf8');
    const served = await httpsJson(`${cp.url}/v1/bundle`, { ca: overlapBundle });
    assert.equal(served.text, overlapBundle);
    const status = await runTollway(['control', 'ca', 'status', '--state-dir', stateDir, '--json']);
    assert.deepEqual(JSON.parse(status.stdout).map((r) => [r.generation, r.state]), [[1, 'old'], [2, 'active']]);
    await syncsAChange('o1-*');
  });

  it('the gateway renews during the overlap onto root 2 without a failed request, and keeps syncing', async () => {
    const renewed = await gw.waitForLog((o) => o.msg === 'node identity renewed', 200000);
    assert.equal(renewed.spiffe_id, GW);
    const leaf = path.join(identityDir, 'svid.pem');
    assert.ok(verifies(caFile('root-2.pem'), leaf), 'the renewed certificate chains to root 2');
    assert.ok(!verifies(caFile('root.pem'), leaf));
    assert.equal(pemCount(fs.readFileSync(path.join(identityDir, 'bundle.pem'), 'utf8')), 2);
    const node = await syncsAChange('o3-*');
    assert.equal(node.auth, 'certificate');
    assert.ok(results.length > 100, `${results.length} requests`);
    assert.deepEqual(results.filter((s) => s !== 200), [], 'no request failed across the rotation');
  });

  it('after the overlap root 1 leaves /v1/bundle, its key is deleted, and the gateway still syncs', async () => {
    const retired = await cp.waitForLog((o) => o.msg === 'CA roots changed' && o.bundle_generations === '2',
      Math.max(0, retiresAt - Date.now()) + 20000);
    assert.equal(retired.listener_generation, 2);
    const root2 = fs.readFileSync(caFile('root-2.pem'), 'utf8');
    const served = await httpsJson(`${cp.url}/v1/bundle`, { ca: root2 });
    assert.equal(served.text, root2, 'only root 2 is served');
    assert.equal((await httpsJson(`${cp.url}/v1/bundle?format=jwks`, { ca: root2 })).json.spiffe_sequence, 3);
    assert.ok(!fs.existsSync(caFile('root.key')), 'the retired root\'s key is deleted');
    assert.ok(fs.existsSync(caFile('root.pem')), 'its certificate stays, for the record');
    assert.ok(verifies(caFile('root-2.pem'), path.join(stateDir, 'tls', 'control.pem')),
      'the control plane\'s own certificate moved to root 2');
    await syncsAChange('o4-*');
    const status = await runTollway(['control', 'ca', 'status', '--state-dir', stateDir, '--json']);
    assert.deepEqual(JSON.parse(status.stdout).map((r) => [r.generation, r.state]), [[1, 'retired'], [2, 'active']]);
    assert.deepEqual(results.filter((s) => s !== 200), [], 'no request failed');
  });
});
