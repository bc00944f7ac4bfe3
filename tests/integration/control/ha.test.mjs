// HA (issue 15 item 8): two control planes on one 3-member etcd cluster serve the same fleet. One holds the writer
// key (an etcd lease of --writer-lease-ttl) and records the history, in etcd, where the other imports it; the
// follower refuses POST /v1/usage with 503 naming the writer. Two gateways `--control A,B`: a publish reaches both;
// the plane they use killed → they fail over to the other, which takes the writer role within the lease ttl, and
// a new publish reaches them there (SYNCED); the history keeps every version once, on both planes (the first
// restarted); one etcd member killed → nothing noticed (publish still reaches the gateways, never degraded); a plane
// whose history predates etcd (it ran on a directory) shares it in etcd as the writer, and a new plane imports it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, tempDir, runTollway } from '../../lib/harness.mjs';
import { policyDir, startControl, startManagedGateway, startEtcdCluster, eventually, sha256, BASE, MODELS, providers }
  from './control_harness.mjs';

const PREFIX = '/tollway/policy';
const TOKENS = { 'gw-a': 'token-of-gw-a', 'gw-b': 'token-of-gw-b' };
const NODES = `nodes:
  gw-a:
    labels: {role: gateway, zone: a}
    token_sha256: ${sha256(TOKENS['gw-a'])}
  gw-b:
    labels: {role: gateway, zone: b}
    token_sha256: ${sha256(TOKENS['gw-b'])}
`;
const TTL_S = 3;

describe('two control planes on one 3-member etcd', () => {
  let mock; let alt; let etcd; let policy; let a; let b; let aState; const gws = {};
  let models = MODELS;
  const publish = async (extra) => {
    models += `  - match: "${extra}-*"\n    provider: alt\n`;
    policy.write('models.yaml', models);
    const r = await runTollway(['control', 'publish', policy.dir, '--etcd', etcd.url, '--prefix', PREFIX]);
    assert.equal(r.code, 0, r.stderr);
  };
  const startPlane = (stateDir) => startControl({ etcd: etcd.url, prefix: PREFIX, stateDir,
    extraArgs: ['--writer-lease-ttl', `${TTL_S}s`] });
  const usage = (plane) => fetch(`${plane.url}/v1/usage`, { method: 'POST', body: '{}',
    headers: { authorization: `Bearer ${TOKENS['gw-a']}`, 'content-type': 'application/json' } });
  const history = async (plane) => {
    const r = await fetch(`${plane.url}/v1/history`, { headers: { authorization: `Bearer ${plane.adminToken}` } });
    assert.equal(r.status, 200);
    return (await r.json()).versions.map((v) => `${v.revision} ${v.published_at}`);
  };
  // Both gateways SYNCED on `plane` at a revision whose counter is `counter`.
  const allSynced = (plane, counter) => eventually(async () => {
    const f = await plane.fleet();
    const ok = f.revision?.startsWith(`${counter}-`) &&
      f.nodes.filter((n) => n.state === 'SYNCED' && n.applied_version.length > 0).length === 2 &&
      Object.values(gws).every((g) => g);
    return ok && f;
  }, 20000, `both gateways SYNCED at version ${counter}`);

  before(async () => {
    mock = await startMock();
    alt = await startMock();
    etcd = await startEtcdCluster(3);
    policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers(mock.url, alt.url));
    policy.write('models.yaml', models);
    policy.write('nodes.yaml', NODES);
    const r = await runTollway(['control', 'publish', policy.dir, '--etcd', etcd.url, '--prefix', PREFIX]);
    assert.equal(r.code, 0, r.stderr);
    aState = tempDir('tollway-control-a-');
    a = await startPlane(aState);
    await eventually(async () => (await a.fleet()).role === 'writer', 10000, 'the first plane the writer');
    b = await startPlane(tempDir('tollway-control-b-'));
    for (const node of Object.keys(TOKENS))
      gws[node] = await startManagedGateway({ control: `${a.url},${b.url}`, node, token: TOKENS[node],
        stateDir: tempDir('tollway-node-') });
  });
  after(async () => {
    for (const g of Object.values(gws)) await g?.stop();
    await a?.stop();
    await b?.stop();
    await etcd?.stop();
    await mock?.close();
    await alt?.close();
  });

  it('one writer, one follower: /readyz and /v1/fleet say so; the follower sends POST /v1/usage to the writer', async () => {
    const fb = await eventually(async () => { const f = await b.fleet(); return f.role === 'follower' && f; }, 10000, 'B a follower');
    assert.equal(fb.writer, a.url);
    const fa = await a.fleet();
    assert.equal(fa.role, 'writer');
    assert.equal(fa.writer, null);
    assert.equal(await (await fetch(`${a.url}/readyz`)).text(), 'ready: writer\n');
    const rb = await fetch(`${b.url}/readyz`);
    assert.equal(rb.status, 200);
    assert.equal(await rb.text(), `ready: follower (writer ${a.url})\n`);
    const status = await runTollway(['control', 'status', '--url', b.url, '--admin-token-file', b.tokenFile]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^role follower \\(writer ${a.url.replace(/[.]/g, '\\.')}\\)$`, 'm'));
    const refused = await usage(b);
    assert.equal(refused.status, 503);
    const body = await refused.json();
    assert.equal(body.error.code, 'not_the_writer');
    assert.match(body.error.message, new RegExp(`aggregated by the writer, ${a.url.replace(/[.]/g, '\\.')}`));
  });

  it('a policy change reaches both gateways; both planes serve the same version and the same history', async () => {
    await allSynced(a, 1);
    await publish('mistral');
    await allSynced(a, 2);
    await eventually(async () => (await b.fleet()).revision === (await a.fleet()).revision, 10000, 'B at the same revision');
    assert.deepEqual(await history(b), await history(a));
    assert.equal((await history(a)).length, 2);
    // The fleet state is per plane: B has never heard from the gateways, which poll A.
    const fb = await b.fleet();
    for (const n of fb.nodes) assert.equal(n.state, 'NOT_SENT', JSON.stringify(n));
  });

  it('the plane the gateways use killed: they fail over, the writer role moves, a new publish reaches them', async (t) => {
    const killedAt = Date.now();
    await a.stop('SIGKILL');
    await eventually(async () => (await b.fleet()).role === 'writer', (TTL_S + 8) * 1000, 'B the writer');
    const takeover = Date.now() - killedAt;
    // Within ttl + ttl/3 (the lease runs out, the follower's next claim), with room for a loaded machine.
    assert.ok(takeover < (TTL_S * 4 / 3 + 4) * 1000, `takeover took ${takeover} ms`);
    t.diagnostic(`writer takeover ${takeover} ms after SIGKILL (writer lease ttl ${TTL_S} s)`);
    assert.equal(await (await fetch(`${b.url}/readyz`)).text(), 'ready: writer\n');
    await publish('claude');
    const fb = await allSynced(b, 3);
    assert.equal(fb.store_error, null);
    const versions = await history(b);
    assert.deepEqual(versions.map((v) => v.split('-')[0]), ['3', '2', '1'], 'every version once');
    // The killed plane back on its state dir: a follower that imports what it missed, the same history.
    a = await startPlane(aState);
    await eventually(async () => (await a.fleet()).revision === fb.revision, 10000, 'A back at the newest revision');
    assert.equal((await a.fleet()).role, 'follower');
    assert.deepEqual(await history(a), versions);
    // The aggregation of leased budgets moved with the role: B takes reports (this one is refused for its body),
    // A sends them to B.
    assert.equal((await usage(b)).status, 400);
    const moved = await usage(a);
    assert.equal(moved.status, 503);
    assert.match((await moved.json()).error.message, new RegExp(`writer, ${b.url.replace(/[.]/g, '\\.')}$`));
  });

  it('one etcd member killed: nothing noticed — a publish still reaches the gateways, never degraded', async () => {
    const before = (await b.fleet()).revision;
    let degraded = 0;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const plane of [a, b]) if ((await fetch(`${plane.url}/readyz`)).status !== 200) degraded += 1;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await etcd.members[0].stop();  // the member every client asks first
    await publish('gemini');
    const fb = await allSynced(b, 4);
    assert.notEqual(fb.revision, before);
    await eventually(async () => (await a.fleet()).revision === fb.revision, 10000, 'A at the newest revision');
    watching = false;
    await watch;
    assert.equal(degraded, 0, '/readyz stayed 200 on both planes');
    assert.equal((await a.fleet()).store_error, null);
    assert.equal(fb.store_error, null);
    assert.equal((await b.fleet()).role, 'writer');
    assert.deepEqual(await history(a), await history(b));
  });

  it('a plane that recorded versions on its own before shares them in etcd as the writer; a new plane imports them', async () => {
    const prefix = '/tollway/upgraded';
    const state = tempDir('tollway-control-c-');
    const alone = await startControl({ policy: policy.dir, stateDir: state });
    await eventually(async () => (await alone.fleet()).revision, 10000, 'the directory plane published');
    await alone.stop();
    policy.write('models.yaml', `${models}  - match: "upgraded-*"\n    provider: alt\n`);
    const r = await runTollway(['control', 'publish', policy.dir, '--etcd', etcd.url, '--prefix', prefix]);
    assert.equal(r.code, 0, r.stderr);
    const c = await startControl({ etcd: etcd.url, prefix, stateDir: state, extraArgs: ['--writer-lease-ttl', `${TTL_S}s`] });
    await eventually(async () => (await c.fleet()).role === 'writer', 10000, 'the upgraded plane the writer');
    const d = await startControl({ etcd: etcd.url, prefix, stateDir: tempDir('tollway-control-d-'),
      extraArgs: ['--writer-lease-ttl', `${TTL_S}s`] });
    try {
      const fc = await eventually(async () => { const f = await c.fleet(); return f.revision?.startsWith('2-') && f; },
        10000, 'the upgraded plane at version 2');
      await eventually(async () => (await d.fleet()).revision === fc.revision, 10000, 'the new plane at the same version');
      const versions = await history(c);
      assert.equal(versions.length, 2);
      assert.deepEqual(await history(d), versions);
    } finally {
      await c.stop();
      await d.stop();
    }
  });
});
