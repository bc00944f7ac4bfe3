// Staged rollout (issue 15 item 7): one control plane on a policy directory with rollout.yaml (canary zone=a,
// hold 2s, 20 requests), four gateways under it (zone a and b), traffic against each. A version that makes its
// nodes deny every request (`auth: {}`, no caller has a key) reaches only the zone-a canary, is rolled back
// automatically on the canary's deny rate, and the zone-b nodes never receive it; status and history say why. A
// good version is promoted to every node after the hold. On etcd, `tollway control publish --canary zone=a` asks
// for the canary (overriding rollout.yaml's) and a selector matching no node or a percentage outside 1–99 is
// refused before anything is written. Real processes on 127.0.0.1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, postJson, tempDir, metricValue, runTollway, sleep } from '../../lib/harness.mjs';
import { policyDir, startControl, startManagedGateway, startEtcd, eventually, sha256, BASE, MODELS, providers }
  from './control_harness.mjs';

const IDS = ['gw-a1', 'gw-a2', 'gw-b1', 'gw-b2'];
const token = (id) => `token-of-${id}`;
// nodes.yaml for these gateways, each labelled with its zone (the letter after "gw-").
const nodesYaml = (ids) => `nodes:\n${ids.map((id) => `  ${id}:
    labels: {zone: ${id[3]}}
    token_sha256: ${sha256(token(id))}
`).join('')}`;
const NODES = nodesYaml(IDS);
// The policy's shared files, its nodes and (when given) its rollout.yaml.
function writePolicy(policy, mockUrl, nodes, rollout) {
  policy.write('base.yaml', BASE);
  policy.write('providers.yaml', providers(mockUrl, mockUrl));
  policy.write('models.yaml', MODELS);
  policy.write('nodes.yaml', nodes);
  if (rollout) policy.write('rollout.yaml', rollout);
}
// A request in flight when a node switches versions may count toward the new one: nearly every request, not all.
const DENIED_REASON = /^canary deny rate (100\.0|9\d\.\d)% over \d+ requests vs baseline 0\.0% \(threshold \+5%\)$/;
const ROLLOUT = `canary:
  selector: {zone: a}
hold: 2s
min_requests: 20
thresholds:
  error_rate: 1%
  deny_rate: 5%
`;

describe('staged rollout: canary, automatic rollback, promotion', () => {
  let mock; let policy; let cp; const gw = {}; let traffic = true; const statuses = {};
  const fleetNode = (f, id) => f.nodes.find((n) => n.id === id);
  const allSynced = async () => {
    const f = await cp.fleet();
    return f.nodes.every((n) => n.state === 'SYNCED') && f;
  };
  // Each gateway gets a request every ~20 ms for the whole test; statuses are tallied per gateway.
  const drive = async (id) => {
    while (traffic) {
      try {
        const r = await postJson(`${gw[id].url}/v1/chat/completions`,
          { model: 'gpt-4o', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] });
        statuses[id][r.status] = (statuses[id][r.status] ?? 0) + 1;
      } catch { /* a gateway stopping */ }
      await sleep(20);
    }
  };
  const received = (id) => gw[id].logs.filter((l) => l.msg === 'snapshot received from the control plane');

  before(async () => {
    mock = await startMock();
    policy = policyDir();
    writePolicy(policy, mock.url, NODES, ROLLOUT);
    cp = await startControl({ policy: policy.dir });
    await Promise.all(IDS.map(async (id) => {
      gw[id] = await startManagedGateway({ control: cp.url, node: id, token: token(id), stateDir: tempDir(`tollway-state-${id}-`) });
      statuses[id] = {};
    }));
    for (const id of IDS) drive(id);
  });
  after(async () => {
    traffic = false;
    await sleep(50);
    await Promise.all(Object.values(gw).map((g) => g?.stop()));
    await cp?.stop();
    await mock?.close();
  });

  it('the first version goes to every node at once (nothing to compare a canary with)', async () => {
    const f = await eventually(allSynced, 15000, 'every node SYNCED');
    assert.equal(f.rollout, null);
    for (const id of IDS) assert.equal(received(id).length, 0, `${id} took its first snapshot at start`);
  });

  it('a version that denies every request reaches only the canary and is rolled back on its deny rate', async () => {
    const stable = await cp.fleet();
    const stableVersion = Object.fromEntries(IDS.map((id) => [id, fleetNode(stable, id).applied_version]));
    policy.write('auth.yaml', 'auth: {}\n');
    const canary = await eventually(async () => {
      const f = await cp.fleet();
      return f.rollout?.phase === 'canary' && f;
    }, 10000, 'the canary to start');
    assert.deepEqual(canary.rollout.canary_nodes, ['gw-a1', 'gw-a2']);
    assert.deepEqual(canary.rollout.baseline_nodes, ['gw-b1', 'gw-b2']);
    assert.equal(canary.rollout.stable, stable.revision);
    for (const id of ['gw-b1', 'gw-b2']) assert.equal(fleetNode(canary, id).desired_version, stableVersion[id]);
    for (const id of ['gw-a1', 'gw-a2']) assert.notEqual(fleetNode(canary, id).desired_version, stableVersion[id]);

    const ended = await eventually(async () => {
      const f = await cp.fleet();
      return f.rollout?.phase === 'rolled_back' && f;
    }, 15000, 'the canary to be rolled back');
    assert.match(ended.rollout.reason,
      DENIED_REASON);
    const badRevision = ended.rollout.revision;
    assert.notEqual(badRevision, stable.revision);
    // The canary nodes denied while they ran it, and run the stable version again.
    for (const id of ['gw-a1', 'gw-a2']) assert.ok(statuses[id][401] > 0, `${id} denied: ${JSON.stringify(statuses[id])}`);
    await eventually(async () => {
      const f = await cp.fleet();
      return IDS.every((id) => fleetNode(f, id).state === 'SYNCED' && fleetNode(f, id).applied_version === stableVersion[id]);
    }, 10000, 'the canary nodes back on the stable version');
    for (const id of ['gw-a1', 'gw-a2']) {
      const r = await postJson(`${gw[id].url}/v1/chat/completions`,
        { model: 'gpt-4o', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(r.status, 200, `${id} serves again`);
      assert.equal((await gw[id].config()).source_version, stableVersion[id]);
    }
    // The other nodes never received the version: no snapshot since their first, nothing but 200s.
    for (const id of ['gw-b1', 'gw-b2']) {
      assert.equal(received(id).length, 0, `${id} received: ${JSON.stringify(received(id))}`);
      assert.equal(metricValue(await gw[id].metrics(), 'tollway_control_updates_total', { result: 'applied' }), 1);
      assert.equal((await gw[id].config()).source_version, stableVersion[id]);
      assert.deepEqual(Object.keys(statuses[id]), ['200']);
    }
    // Not offered again: the canary nodes took it once and the stable version back once.
    await sleep(1500);
    for (const id of ['gw-a1', 'gw-a2']) assert.equal(received(id).length, 2, JSON.stringify(received(id)));

    const text = await runTollway(['control', 'status', '--url', cp.url, '--admin-token-file', cp.tokenFile]);
    assert.equal(text.code, 0, text.stderr);
    assert.ok(text.stdout.includes(`rollout: the canary of ${badRevision} on gw-a1,gw-a2 was ROLLED BACK at `), text.stdout);
    assert.ok(text.stdout.includes(`: ${ended.rollout.reason}\n`), text.stdout);
    const history = await fetch(`${cp.url}/v1/history`, { headers: { authorization: `Bearer ${cp.adminToken}` } });
    const bad = (await history.json()).versions.find((v) => v.revision === badRevision);
    assert.equal(bad.rollout.phase, 'rolled_back');
    assert.equal(bad.rollout.reason, ended.rollout.reason);
    assert.deepEqual(bad.rollout.canary_nodes, ['gw-a1', 'gw-a2']);
    const cli = await runTollway(['control', 'history', '--state-dir', cp.stateDir]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.ok(cli.stdout.includes(`    rollout: canary zone=a on gw-a1,gw-a2 beside ${stable.revision}: ROLLED BACK: ${ended.rollout.reason}\n`),
      cli.stdout);
    const metrics = await cp.metrics();
    assert.equal(metricValue(metrics, 'tollway_control_rollouts_total', { result: 'rolled_back' }), 1);
    assert.equal(metricValue(metrics, 'tollway_control_rollout_canary'), 0);
  });

  it('a good version holds on the canary, then is promoted to every node', async () => {
    const before = await cp.fleet();
    const stableVersion = Object.fromEntries(IDS.map((id) => [id, fleetNode(before, id).applied_version]));
    policy.remove('auth.yaml');
    policy.write('models.yaml', `${MODELS}  - match: "o1-*"\n    provider: openai\n`);
    const canary = await eventually(async () => {
      const f = await cp.fleet();
      return f.rollout?.phase === 'canary' && fleetNode(f, 'gw-a1').state === 'SYNCED' && f;
    }, 10000, 'the good canary to run on the canary nodes');
    for (const id of ['gw-b1', 'gw-b2']) assert.equal(fleetNode(canary, id).desired_version, stableVersion[id]);
    assert.equal(metricValue(await cp.metrics(), 'tollway_control_rollout_canary'), 1);
    const promoted = await eventually(async () => {
      const f = await cp.fleet();
      return f.rollout?.phase === 'promoted' && f.nodes.every((n) => n.state === 'SYNCED') && f;
    }, 15000, 'the promotion');
    assert.match(promoted.rollout.reason, /^canary error rate 0\.0% and deny rate 0\.0% over \d+ requests vs baseline 0\.0% and 0\.0% over \d+ requests, within \+1% and \+5% after a hold of 2s$/);
    for (const id of IDS) assert.notEqual(fleetNode(promoted, id).applied_version, stableVersion[id]);
    for (const id of ['gw-b1', 'gw-b2']) assert.equal(received(id).length, 1, `${id} got the promoted version once`);
    const rolls = await runTollway(['control', 'history', '--state-dir', cp.stateDir, '--json']);
    const newest = JSON.parse(rolls.stdout)[0];
    assert.equal(newest.rollout.phase, 'promoted');
  });

  it('a poll with response counts that do not add up is refused 400', async () => {
    const poll = (q) => fetch(`${cp.url}/v1/snapshot?node=gw-b1&have=&${q}`, { headers: { authorization: `Bearer ${token('gw-b1')}` } });
    for (const q of ['requests=5&errors=3&denials=3', 'requests=5&errors=1', 'requests=-1&errors=0&denials=0',
      'requests=x&errors=0&denials=0']) {
      const r = await poll(q);
      assert.equal(r.status, 400, q);
      assert.equal((await r.json()).error.code, 'invalid_response_counts', q);
    }
    assert.equal((await poll('requests=5&errors=1&denials=4')).status, 200);
  });

  it('bad rollout input is refused with the file and line; the published version stays', async () => {
    const before = await cp.fleet();
    policy.write('rollout.yaml', 'canary:\n  selector: {zone: c}\nhold: -5s\n');
    const refused = await eventually(async () => {
      const f = await cp.fleet();
      return f.policy_error && f;
    }, 10000, 'the refusal');
    assert.match(refused.policy_error, /rollout\.yaml:3: hold: "-5s" is negative/);
    assert.equal(refused.revision, before.revision);
    const dir = tempDir('tollway-rollout-validate-');
    const v = policyDir();
    v.write('base.yaml', BASE);
    v.write('providers.yaml', providers(mock.url, mock.url));
    v.write('nodes.yaml', NODES);
    v.write('rollout.yaml', 'canary:\n  selector: {zone: c}\n');
    const none = await runTollway(['validate', v.dir]);
    assert.equal(none.code, 1);
    assert.match(none.stdout + none.stderr, /rollout\.yaml: canary: the canary selector zone=c matches none of the declared nodes/);
    v.write('rollout.yaml', 'canary:\n  percent: 100\n');
    const all = await runTollway(['validate', v.dir]);
    assert.match(all.stdout + all.stderr, /rollout\.yaml:2: canary\.percent: "100" is not a percentage of nodes from 1 to 99/);
    assert.ok(dir);
  });
});

describe('staged rollout on etcd: publish --canary', () => {
  const PREFIX = '/tollway/canary';
  const ETCD_IDS = ['gw-a1', 'gw-b1'];
  let mock; let etcd; let policy; let cp; const gw = {}; let traffic = true; const statuses = {};
  const publish = (...more) => runTollway(['control', 'publish', policy.dir, '--etcd', etcd.url, '--prefix', PREFIX, ...more]);
  const received = (id) => gw[id].logs.filter((l) => l.msg === 'snapshot received from the control plane');

  before(async () => {
    mock = await startMock();
    etcd = await startEtcd();
    policy = policyDir();
    writePolicy(policy, mock.url, nodesYaml(ETCD_IDS));
    const first = await publish();
    assert.equal(first.code, 0, first.stderr);
    cp = await startControl({ etcd: etcd.url, prefix: PREFIX });
    await Promise.all(ETCD_IDS.map(async (id) => {
      gw[id] = await startManagedGateway({ control: cp.url, node: id, token: token(id), stateDir: tempDir(`tollway-state-${id}-`) });
      statuses[id] = {};
    }));
    for (const id of ETCD_IDS) {
      (async () => {
        while (traffic) {
          try {
            const r = await postJson(`${gw[id].url}/v1/chat/completions`,
              { model: 'gpt-4o', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] });
            statuses[id][r.status] = (statuses[id][r.status] ?? 0) + 1;
          } catch { /* a gateway stopping */ }
          await sleep(20);
        }
      })();
    }
  });
  after(async () => {
    traffic = false;
    await sleep(50);
    await Promise.all(Object.values(gw).map((g) => g?.stop()));
    await cp?.stop();
    await etcd?.stop();
    await mock?.close();
  });

  it('refuses a canary that selects no node, or a percentage outside 1-99, before writing anything', async () => {
    const none = await publish('--canary', 'zone=c');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^--canary: the canary selector zone=c matches none of the declared nodes: nothing published$/m);
    const all = await publish('--canary', '100%');
    assert.equal(all.code, 1);
    assert.match(all.stderr, /--canary: "100%" is not a percentage of nodes from 1 to 99/);
    const negative = await publish('--canary', 'zone');
    assert.match(negative.stderr, /--canary: "zone" is not a canary: give LABEL=VALUE/);
  });

  it('--canary zone=a overrides rollout.yaml: the denying version reaches gw-a1 only and is rolled back', async () => {
    const stable = await eventually(async () => {
      const f = await cp.fleet();
      return f.nodes.every((n) => n.state === 'SYNCED') && f;
    }, 15000, 'both nodes SYNCED');
    const stableB = stable.nodes.find((n) => n.id === 'gw-b1').applied_version;
    policy.write('rollout.yaml', 'canary:\n  percent: 50\nhold: 30s\nmin_requests: 20\n');
    policy.write('auth.yaml', 'auth: {}\n');
    const r = await publish('--canary', 'zone=a', '--author', 'Ana');
    assert.equal(r.code, 0, r.stderr);
    const ended = await eventually(async () => {
      const f = await cp.fleet();
      return f.rollout?.phase === 'rolled_back' && f;
    }, 15000, 'the rollback');
    assert.deepEqual(ended.rollout.canary_nodes, ['gw-a1']);
    assert.equal(ended.rollout.canary, 'zone=a');
    assert.match(ended.rollout.reason, DENIED_REASON);
    assert.ok(statuses['gw-a1'][401] > 0);
    assert.equal(received('gw-b1').length, 0);
    assert.deepEqual(Object.keys(statuses['gw-b1']), ['200']);
    assert.equal((await gw['gw-b1'].config()).source_version, stableB);
    const history = await runTollway(['control', 'history', '--state-dir', cp.stateDir, '--json']);
    const newest = JSON.parse(history.stdout)[0];
    assert.equal(newest.canary, 'zone=a');
    assert.equal(newest.rollout.phase, 'rolled_back');
  });
});

describe('staged rollout across a control-plane restart', () => {
  const IDS2 = ['gw-a1', 'gw-b1'];
  let policy; let cp; let mock; const gw = {}; const stateDir = tempDir('tollway-canary-state-');
  const received = (id) => gw[id].logs.filter((l) => l.msg === 'snapshot received from the control plane');

  before(async () => {
    mock = await startMock();
    policy = policyDir();
    writePolicy(policy, mock.url, nodesYaml(IDS2), 'canary: {selector: {zone: a}}\nhold: 1h\nmin_requests: 1\n');
    cp = await startControl({ policy: policy.dir, stateDir });
    await Promise.all(IDS2.map(async (id) => {
      gw[id] = await startManagedGateway({ control: cp.url, node: id, token: token(id), stateDir: tempDir(`tollway-state-${id}-`) });
    }));
  });
  after(async () => {
    await Promise.all(Object.values(gw).map((g) => g?.stop()));
    await cp?.stop();
    await mock?.close();
  });

  it('a restarted control plane resumes the canary: the same nodes, the baseline still never sent it', async () => {
    const stable = await eventually(async () => {
      const f = await cp.fleet();
      return f.nodes.every((n) => n.state === 'SYNCED') && f;
    }, 15000, 'both nodes SYNCED');
    policy.write('models.yaml', `${MODELS}  - match: "o1-*"\n    provider: openai\n`);
    const canary = await eventually(async () => {
      const f = await cp.fleet();
      return f.rollout?.phase === 'canary' && f.nodes.find((n) => n.id === 'gw-a1').state === 'SYNCED' && f;
    }, 10000, 'the canary on gw-a1');
    await cp.stop();
    cp = await startControl({ policy: policy.dir, stateDir, listen: `127.0.0.1:${cp.port}` });
    const resumed = await eventually(async () => {
      const f = await cp.fleet();
      return f.rollout?.phase === 'canary' && f.nodes.every((n) => n.state === 'SYNCED') && f;
    }, 20000, 'the canary resumed, both nodes back');
    assert.equal(resumed.rollout.revision, canary.rollout.revision);
    assert.deepEqual(resumed.rollout.canary_nodes, ['gw-a1']);
    assert.ok(resumed.rollout.hold_left_s > 3000, 'the hold counts from the recorded start');
    assert.match(resumed.rollout.waiting_for, /^(holding|waiting for the canary)/);
    const b = resumed.nodes.find((n) => n.id === 'gw-b1');
    assert.equal(b.applied_version, stable.nodes.find((n) => n.id === 'gw-b1').applied_version);
    assert.ok(cp.logs.some((l) => l.msg === 'resuming the canary recorded before the restart (its counts begin again)'));
    assert.equal(received('gw-b1').length, 0);
    assert.equal(received('gw-a1').length, 1);

    // A version published without a canary supersedes it and goes to every node.
    policy.remove('rollout.yaml');
    const whole = await eventually(async () => {
      const f = await cp.fleet();
      return f.rollout?.phase === 'superseded' && f.nodes.every((n) => n.state === 'SYNCED') && f;
    }, 15000, 'the canary superseded, every node on the new version');
    assert.match(whole.rollout.reason, /^superseded by \d+-[0-9a-f]{12}, published to every node without a canary$/);
    assert.equal(received('gw-b1').length, 1);
    const history = await runTollway(['control', 'history', '--state-dir', stateDir, '--json']);
    const versions = JSON.parse(history.stdout);
    assert.equal(versions.find((v) => v.revision === canary.rollout.revision).rollout.phase, 'superseded');
    assert.equal(versions[0].rollout, undefined);
  });
});
