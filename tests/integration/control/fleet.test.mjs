// One control plane and two gateways under it (issue 15, first slice): a policy change reaches both and both ACK;
// an invalid change is refused at the control plane; a change that fails only at the gateways is NACKed while
// the old version serves; a node token cannot read another node's snapshot; the control plane killed stops
// nothing, a gateway restarted meanwhile boots from its persisted snapshot, and the control plane back means
// SYNCED again. Real processes on 127.0.0.1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startMock, postJson, tempDir, SOURCE_DIR, metricValue, runTollway } from '../../lib/harness.mjs';
import { policyDir, startControl, startManagedGateway, eventually, sha256, BASE, MODELS, providers } from './control_harness.mjs';

const TOKENS = { 'gw-a': 'token-of-gw-a', 'gw-b': 'token-of-gw-b' };

const NODES = `nodes:
  gw-a:
    labels: {role: gateway, zone: a}
    token_sha256: ${sha256(TOKENS['gw-a'])}
  gw-b:
    labels: {role: gateway, zone: b}
    token_sha256: ${sha256(TOKENS['gw-b'])}
`;

describe('control plane with two gateways', () => {
  let mock; let alt; let policy; let cp; const gw = {}; const stateDirs = {};
  const chat = (g, model) => postJson(`${g.url}/v1/chat/completions`,
    { model, max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] });
  const nodeOf = (fleet, id) => fleet.nodes.find((n) => n.id === id);
  const bothSynced = async (notVersion) => {
    const f = await cp.fleet();
    const a = nodeOf(f, 'gw-a'); const b = nodeOf(f, 'gw-b');
    return a.state === 'SYNCED' && b.state === 'SYNCED' && a.applied_version !== notVersion
      && b.applied_version !== notVersion && f;
  };

  before(async () => {
    mock = await startMock();
    alt = await startMock();
    policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers(mock.url, alt.url));
    policy.write('models.yaml', MODELS);
    policy.write('nodes.yaml', NODES);
    cp = await startControl({ policy: policy.dir });
    for (const id of ['gw-a', 'gw-b']) {
      stateDirs[id] = tempDir(`tollway-state-${id}-`);
      gw[id] = await startManagedGateway({ control: cp.url, node: id, token: TOKENS[id], stateDir: stateDirs[id] });
    }
  });
  after(async () => {
    await Promise.all(Object.values(gw).map((g) => g?.stop()));
    await cp?.stop();
    await mock?.close();
    await alt?.close();
  });

  it('both gateways run the policy and ACK it: SYNCED, the version each reports at /config', async () => {
    const f = await eventually(bothSynced, 15000, 'both nodes SYNCED');
    assert.match(f.revision, /^1-[0-9a-f]{12}$/);
    assert.equal(f.policy_error, null);
    for (const id of ['gw-a', 'gw-b']) {
      const n = nodeOf(f, id);
      assert.equal(n.applied_version, n.desired_version);
      assert.equal((await gw[id].config()).source_version, n.desired_version);
      assert.deepEqual(n.labels, { role: 'gateway', zone: id.slice(-1) });
      assert.ok(n.last_ack && n.connected_since);
      assert.equal((await chat(gw[id], 'gpt-4o')).status, 200);
      assert.ok(fs.existsSync(path.join(stateDirs[id], 'snapshot.yaml')), 'the applied snapshot is persisted');
    }
    assert.notEqual(nodeOf(f, 'gw-a').desired_version, nodeOf(f, 'gw-b').desired_version);
    assert.equal(metricValue(await gw['gw-a'].metrics(), 'tollway_control_connected'), 1);
    const table = await runTollway(['control', 'status', '--url', cp.url, '--admin-token-file', cp.tokenFile]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^gw-a +SYNCED +${nodeOf(f, 'gw-a').desired_version} +${nodeOf(f, 'gw-a').desired_version} `, 'm'));
    const asJson = await runTollway(['control', 'status', '--url', cp.url, '--admin-token-file', cp.tokenFile, '--json']);
    assert.equal(JSON.parse(asJson.stdout).nodes.length, 2);
  });

  it('a policy change (a new model rule) reaches both gateways and both ACK it', async () => {
    const before = await cp.fleet();
    const old = nodeOf(before, 'gw-a').applied_version;
    let n = mock.requests.length;
    assert.equal((await chat(gw['gw-a'], 'mistral-small')).status, 200);
    assert.equal(mock.requests.length, n + 1, 'no rule: the route\'s provider serves it');
    policy.write('models.yaml', `${MODELS}  - match: "mistral-*"\n    provider: alt\n`);
    const f = await eventually(() => bothSynced(old), 15000, 'the new version SYNCED');
    assert.match(f.revision, /^2-/);
    for (const id of ['gw-a', 'gw-b']) {
      assert.equal((await gw[id].config()).source_version, nodeOf(f, id).applied_version);
      n = alt.requests.length;
      assert.equal((await chat(gw[id], 'mistral-small')).status, 200);
      assert.equal(alt.requests.length, n + 1, 'the new rule sends it to the other provider');
    }
    assert.ok(metricValue(await gw['gw-b'].metrics(), 'tollway_control_updates_total', { result: 'applied' }) >= 2);
    // The history (STATE_DIR/history.db) has both versions; a directory is rolled back in Git, not by tollway.
    const h = await runTollway(['control', 'history', '--state-dir', cp.stateDir, '--json']);
    assert.equal(h.code, 0, h.stderr);
    const [v2, v1] = JSON.parse(h.stdout);
    assert.equal(v2.revision, f.revision);
    assert.equal(v2.parent, v1.revision);
    assert.equal(v2.store, `directory ${policy.dir}`);
    assert.deepEqual(v2.changes, [{ file: 'models.yaml', change: 'changed', keys: ['models'] }]);
    const rollback = await runTollway(['control', 'rollback', v1.revision, '--state-dir', cp.stateDir]);
    assert.equal(rollback.code, 1);
    assert.match(rollback.stderr, /the policy store is a directory/);
  });

  it('an invalid policy change is refused at the control plane: policy_error, the gateways keep their version', async () => {
    const before = await cp.fleet();
    policy.write('providers.yaml', `${providers(mock.url, alt.url)}  - path: /v1/embeddings\n    api: openai\n    provider: nowhere\n`);
    const f = await eventually(async () => { const x = await cp.fleet(); return x.policy_error && x; }, 10000,
      'a policy error');
    assert.match(f.policy_error, new RegExp(`${policy.file('providers.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:16: routes\\[1\\]\\.provider: `));
    assert.equal(f.revision, before.revision);
    for (const id of ['gw-a', 'gw-b']) {
      assert.equal(nodeOf(f, id).state, 'SYNCED');
      assert.equal((await gw[id].config()).source_version, nodeOf(before, id).applied_version);
    }
    policy.write('providers.yaml', providers(mock.url, alt.url));
    await eventually(async () => (await cp.fleet()).policy_error === null, 10000, 'the error cleared');
  });

  it('a policy that passes the control plane but fails at the gateways is NACKed; the old version serves', async () => {
    const before = await cp.fleet();
    // A price table beside the policy: the relative path resolves in the policy directory for the control
    // plane's check, and in the gateway's state directory for the gateway, where it does not exist.
    policy.write('data/prices.yaml', fs.readFileSync(path.join(SOURCE_DIR, 'config', 'pricing.yaml'), 'utf8'));
    policy.write('pricing.yaml', 'pricing:\n  file: data/prices.yaml\n');
    const f = await eventually(async () => {
      const x = await cp.fleet();
      return ['gw-a', 'gw-b'].every((id) => nodeOf(x, id).state === 'ERROR') && x;
    }, 15000, 'both nodes in ERROR');
    for (const id of ['gw-a', 'gw-b']) {
      const n = nodeOf(f, id);
      assert.match(n.error, /pricing\.file: cannot read/);
      assert.equal(n.applied_version, nodeOf(before, id).applied_version);
      assert.equal((await gw[id].config()).source_version, nodeOf(before, id).applied_version);
      assert.equal((await chat(gw[id], 'mistral-small')).status, 200);
      assert.equal(metricValue(await gw[id].metrics(), 'tollway_control_updates_total', { result: 'rejected' }), 1);
    }
    // Not resent while the node keeps its version: still ERROR after a few polls.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(nodeOf(await cp.fleet(), 'gw-a').state, 'ERROR');
    policy.remove('pricing.yaml');
    await eventually(async () => {
      const x = await cp.fleet();
      return ['gw-a', 'gw-b'].every((id) => nodeOf(x, id).state === 'SYNCED') && x;
    }, 15000, 'SYNCED again');
    // The NACKs stay on record after the nodes moved on (GET /v1/history/nacks, newest first).
    const nacks = await (await fetch(`${cp.url}/v1/history/nacks?limit=1`,
      { headers: { authorization: `Bearer ${cp.adminToken}` } })).json();
    assert.equal(nacks.total, 2);
    assert.equal(nacks.nodes, 2);
    assert.equal(nacks.nacks.length, 1);
    assert.match(nacks.nacks[0].reason, /pricing\.file: cannot read/);
    assert.ok(['gw-a', 'gw-b'].includes(nacks.nacks[0].node));
    assert.equal(nacks.nacks[0].version, nodeOf(f, nacks.nacks[0].node).rejected_version);
    assert.equal((await fetch(`${cp.url}/v1/history/nacks?limit=0`,
      { headers: { authorization: `Bearer ${cp.adminToken}` } })).status, 400);
    assert.equal((await fetch(`${cp.url}/v1/history/nacks`)).status, 401);
  });

  it('a node token reads only its own node; unknown fields and foreign nonces are 400s', async () => {
    const get = (node, token) => fetch(`${cp.url}/v1/snapshot?node=${node}&have=`,
      { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await get('gw-b', TOKENS['gw-a'])).status, 401);
    assert.equal((await get('gw-x', TOKENS['gw-a'])).status, 401);
    assert.equal((await fetch(`${cp.url}/v1/fleet`, { headers: { authorization: `Bearer ${TOKENS['gw-a']}` } })).status, 401);
    const mine = await get('gw-a', TOKENS['gw-a']);
    assert.equal(mine.status, 200);
    const snap = await mine.json();
    assert.match(snap.document, /^# tollway control plane: node gw-a\n/);
    const ack = (body) => postJson(`${cp.url}/v1/ack`, body, { authorization: `Bearer ${TOKENS['gw-a']}` });
    let r = await ack({ node: 'gw-a', version: snap.version, nonce: snap.nonce, extra: 1 });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /unknown field "extra"/);
    r = await ack({ node: 'gw-a', version: snap.version, nonce: 'feedfeed' });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /was not issued to node gw-a/);
    r = await ack({ node: 'gw-a', version: '000000000000', nonce: snap.nonce });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /was not sent with nonce/);
    r = await postJson(`${cp.url}/v1/ack`, { node: 'gw-b', version: snap.version, nonce: snap.nonce },
      { authorization: `Bearer ${TOKENS['gw-a']}` });
    assert.equal(r.status, 401);
  });

  it('control plane killed: the gateways keep serving; a restarted gateway boots from its snapshot; back: SYNCED', async () => {
    const before = await cp.fleet();
    const port = cp.port;
    await cp.stop('SIGKILL');
    for (const id of ['gw-a', 'gw-b']) assert.equal((await chat(gw[id], 'mistral-small')).status, 200);
    await eventually(async () => metricValue(await gw['gw-a'].metrics(), 'tollway_control_connected') === 0, 15000,
      'tollway_control_connected 0');
    await gw['gw-b'].stop();
    gw['gw-b'] = await startManagedGateway({ control: `http://127.0.0.1:${port}`, node: 'gw-b', token: TOKENS['gw-b'],
      stateDir: stateDirs['gw-b'] });
    assert.ok(gw['gw-b'].logs.some((o) => /booting from the persisted snapshot/.test(o.msg)));
    assert.equal((await gw['gw-b'].config()).source_version, nodeOf(before, 'gw-b').applied_version);
    assert.equal((await chat(gw['gw-b'], 'mistral-small')).status, 200);
    cp = await startControl({ policy: policy.dir, listen: `127.0.0.1:${port}` });
    const f = await eventually(async () => {
      const x = await cp.fleet();
      return ['gw-a', 'gw-b'].every((id) => nodeOf(x, id).state === 'SYNCED') && x;
    }, 20000, 'SYNCED after the control plane came back');
    for (const id of ['gw-a', 'gw-b']) assert.equal(nodeOf(f, id).applied_version, nodeOf(before, id).applied_version);
  });
});
