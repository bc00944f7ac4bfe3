// Sidecars under a control plane, as real processes on loopback: `tollway control --trust-domain --tls` serves a
// policy whose nodes.yaml declares two sidecar nodes (role: sidecar), their shared sections under sidecars/ and one
// group each for what differs. Each `tollway sidecar --control … --identity-dir` joins with a one-time token (no
// certificate files are handed to it: `tls: {identity: node}`), takes its document from the control plane, ACKs it,
// and agent A reaches agent B over mTLS with the identities the CA issued. A policy change to B's authorization
// reaches B and is enforced; a policy with an invalid sidecar section is refused at its file and line while the
// sidecars keep serving; `tollway validate` checks the same policy and a sidecar's own document offline.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { runTollway, tempDir, unusedPort, metricValue } from '../../lib/harness.mjs';
import { eventually, httpsJson, policyDir, sha256, startControl, startManagedSidecar } from '../control/control_harness.mjs';

const TD = 'example.org';
const A_ID = `spiffe://${TD}/ns/prod/sa/agent-a`;
const B_ID = `spiffe://${TD}/ns/prod/sa/agent-b`;
const NODE_TOKENS = { 'agent-a': 'node-token-of-agent-a', 'agent-b': 'node-token-of-agent-b' };

function startAgent() {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
    server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, close: () => new Promise((r) => server.close(r)) }));
  });
}

// A call from agent A as an HTTP_PROXY client sends it.
function viaProxy(port, url) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: url, headers: { host: new URL(url).host } }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, text, json: (() => { try { return JSON.parse(text); } catch { return null; } })() }));
    });
    req.on('error', reject);
    req.end();
  });
}

const group = (app, sidecar, extra = '') => `selector:\n  app: ${app}\nsections:\n  sidecar:\n${
  Object.entries(sidecar).map(([k, v]) => `    ${k}: ${v}\n`).join('')}${extra}`;

describe('sidecars take their documents and identities from the control plane', () => {
  let cp; let agentB; let a; let b; let policy; let inboundB; let bundleFile; const dirs = [];
  const fleet = async () => (await httpsJson(`${cp.url}/v1/fleet`, { ca: fs.readFileSync(bundleFile, 'utf8'),
    headers: { authorization: 'Bearer admin-secret' } })).json;

  const bAuthorization = (paths) => `  authorization:\n    - {action: allow, from: ["${A_ID}"], paths: [${paths}]}\n`;
  const writeGroupB = (paths) => policy.write('groups/agent-b.yaml', group('agent-b', {
    spiffe_id: B_ID, outbound: '127.0.0.1:0', inbound: `127.0.0.1:${inboundB}`, agent: `127.0.0.1:${agentB.port}`,
    tls: '{identity: node}' }, bAuthorization(paths)));

  async function startNode(node, identity) {
    const dir = tempDir(`tollway-${node}-`);
    dirs.push(dir);
    const minted = await runTollway(['control', 'token', 'create', '--state-dir', cp.stateDir, '--identity', identity]);
    assert.equal(minted.code, 0, minted.stderr);
    const joinTokenFile = path.join(dir, 'join.token');
    fs.writeFileSync(joinTokenFile, minted.stdout.trim());
    return startManagedSidecar({ control: cp.url, node, token: NODE_TOKENS[node], stateDir: path.join(dir, 'state'),
      extraArgs: ['--identity-dir', path.join(dir, 'identity'), '--join-token-file', joinTokenFile,
        '--control-ca', bundleFile] });
  }

  before(async () => {
    agentB = await startAgent();
    inboundB = await unusedPort();
    policy = policyDir();
    policy.write('sidecars/mesh.yaml', `version: 1\npeers:\n  agent-b: {address: 127.0.0.1:${inboundB}, spiffe_id: ${B_ID}}\n`);
    policy.write('groups/agent-a.yaml', group('agent-a', {
      spiffe_id: A_ID, outbound: '127.0.0.1:0', inbound: '127.0.0.1:0', agent: '127.0.0.1:9', tls: '{identity: node}' }));
    writeGroupB('/tasks');
    policy.write('nodes.yaml', `nodes:\n${Object.entries(NODE_TOKENS).map(([node, token]) =>
      `  ${node}:\n    role: sidecar\n    labels: {app: ${node}}\n    token_sha256: ${sha256(token)}\n`
      + `    spiffe_id: ${node === 'agent-a' ? A_ID : B_ID}\n`).join('')}`);
    cp = await startControl({ policy: policy.dir, extraArgs: ['--trust-domain', TD, '--tls', '--svid-lifetime', '1h'] });
    const dir = tempDir('tollway-bundle-');
    dirs.push(dir);
    bundleFile = path.join(dir, 'bundle.pem');
    fs.copyFileSync(path.join(cp.stateDir, 'ca', 'root.pem'), bundleFile);
    b = await startNode('agent-b', B_ID);
    a = await startNode('agent-a', A_ID);
  });
  after(async () => {
    await a?.stop(); await b?.stop(); await cp?.stop(); await agentB?.close();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('validate checks the policy with each role\'s own check', async () => {
    const r = await runTollway(['validate', policy.dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: .* \(policy [0-9a-f]{12}; 2 nodes\)$/m);
  });

  it('A reaches B over mTLS with the identities the CA issued; both nodes are SYNCED as sidecars', async () => {
    const r = await viaProxy(a.listeners.outbound, 'http://agent-b/tasks/1');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.headers['x-tollway-caller-spiffe-id'], A_ID);
    const synced = await eventually(async () => {
      const f = await fleet();
      return f.nodes.every((n) => n.state === 'SYNCED') && f;
    }, 15000, 'both sidecars SYNCED');
    assert.deepEqual(synced.nodes.map((n) => [n.id, n.role]), [['agent-a', 'sidecar'], ['agent-b', 'sidecar']]);
    assert.ok(metricValue(await b.metrics(), 'tollway_identity_expiry_seconds') > 3000);
  });

  it('a change to B\'s authorization reaches B and is enforced', async () => {
    const before = (await fleet()).revision;
    writeGroupB('/status');
    await eventually(async () => {
      const f = await fleet();
      return f.revision !== before && f.nodes.every((n) => n.state === 'SYNCED');
    }, 15000, 'the new revision applied');
    const r = await viaProxy(a.listeners.outbound, 'http://agent-b/tasks/1');
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.error.code, 'forbidden');
    const ok = await viaProxy(a.listeners.outbound, 'http://agent-b/status');
    assert.equal(ok.status, 200, ok.text);
  });

  it('an invalid sidecar section is refused at its file and line; the sidecars keep serving', async () => {
    const good = fs.readFileSync(path.join(policy.dir, 'sidecars/mesh.yaml'), 'utf8');
    policy.write('sidecars/mesh.yaml', `version: 1\npeers:\n  agent-b: {address: 127.0.0.1:${inboundB}, spiffe_id: spiffe://other.org/ns/prod/sa/agent-b}\n`);
    const refused = await eventually(async () => {
      const f = await fleet();
      return f.policy_error && f;
    }, 15000, 'the policy error');
    assert.match(refused.policy_errors.join('\n'), /sidecars\/mesh\.yaml:3: peers\.agent-b\.spiffe_id: .*trust domain/);
    const offline = await runTollway(['validate', policy.dir]);
    assert.equal(offline.code, 1);
    assert.match(offline.stderr, /sidecars\/mesh\.yaml:3: peers\.agent-b\.spiffe_id: /);
    const r = await viaProxy(a.listeners.outbound, 'http://agent-b/status');
    assert.equal(r.status, 200, r.text);
    policy.write('sidecars/mesh.yaml', good);
    await eventually(async () => !(await fleet()).policy_error, 15000, 'the error cleared');
  });

  it('validate checks a sidecar\'s own document, and a sidecar without --identity-dir cannot run identity: node', async () => {
    const dir = tempDir('tollway-sidecar-doc-');
    dirs.push(dir);
    const file = path.join(dir, 'sidecar.yaml');
    fs.writeFileSync(file, `version: 1\nsidecar:\n  spiffe_id: ${A_ID}\n  agent: 127.0.0.1:9\n  tls: {identity: node}\n`
      + 'peers:\n  agent-b: {address: 127.0.0.1:1, spiffe_id: not-an-id}\n');
    const bad = await runTollway(['validate', file]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /sidecar\.yaml:7: peers\.agent-b\.spiffe_id: /);
    fs.writeFileSync(file, `version: 1\nsidecar:\n  spiffe_id: ${A_ID}\n  agent: 127.0.0.1:9\n  tls: {identity: node}\n`);
    const ok = await runTollway(['validate', file]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`^ok: .*sidecar\\.yaml \\(sidecar ${A_ID}, version `));
    const run = await runTollway(['sidecar', '--config', file, '--admin', '127.0.0.1:0']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /sidecar\.tls\.identity: this node holds no identity: start it with --identity-dir/);
  });
});
