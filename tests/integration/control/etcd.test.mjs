// The control plane on etcd (issue 15, second slice), with a real etcd 3.4 on 127.0.0.1 (listed after a member
// that does not answer): `tollway control publish` writes a checked policy in one guarded txn, `tollway control
// --etcd` serves it, a gateway under control applies and ACKs it; a new publish reaches the gateway; an invalid publish is refused with file:line errors; of two
// publishes guarded by the same revision one wins and one gets the conflict; the history lists every version
// with its author and Git commit, diffs two, and a rollback publishes an old version again; a key written past
// publish that is not a policy file is refused and shown; etcd down: the control plane serves on, degraded.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startMock, postJson, tempDir, runTollway, unusedPort } from '../../lib/harness.mjs';
import { policyDir, startControl, startManagedGateway, startEtcd, eventually, sha256, base64, BASE, MODELS, providers }
  from './control_harness.mjs';

const TOKEN = 'token-of-gw-a';
const PREFIX = '/tollway/policy';
const NODES = `nodes:
  gw-a:
    labels: {role: gateway, zone: a}
    token_sha256: ${sha256(TOKEN)}
`;

const git = (dir, ...args) => {
  const r = spawnSync('git', ['-C', dir, '-c', 'user.name=Ana', '-c', 'user.email=ana@example.com', ...args],
    { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
};

describe('control plane on etcd', () => {
  let mock; let alt; let etcd; let policy; let cp; let gw; let stateDir;
  const publish = (dir, ...more) => runTollway(['control', 'publish', dir, '--etcd', etcd.url, '--prefix', PREFIX,
    ...more]);
  const history = async () => {
    const r = await runTollway(['control', 'history', '--state-dir', stateDir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const node = async () => (await cp.fleet()).nodes.find((n) => n.id === 'gw-a');
  const synced = async (notVersion) => {
    const n = await node();
    return n.state === 'SYNCED' && n.applied_version !== notVersion && n;
  };
  let firstVersion;  // gw-a's version of the first policy
  const chat = (model) => postJson(`${gw.url}/v1/chat/completions`,
    { model, max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] });

  before(async () => {
    mock = await startMock();
    alt = await startMock();
    etcd = await startEtcd();
    policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers(mock.url, alt.url));
    policy.write('models.yaml', MODELS);
    policy.write('nodes.yaml', NODES);
    git(policy.dir, 'init', '-q');
    git(policy.dir, 'add', '.');
    git(policy.dir, 'commit', '-q', '-m', 'first policy');
    const r = await publish(policy.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^published policy [0-9a-f]{12} to ${PREFIX}/ \\(4 files, etcd revision \\d+\\)`));
    stateDir = tempDir('tollway-control-state-');
    // A member that does not answer listed first: the control plane goes on to the next.
    const deadMember = `http://127.0.0.1:${await unusedPort()}`;
    cp = await startControl({ etcd: `${deadMember},${etcd.url}`, prefix: PREFIX, stateDir });
    gw = await startManagedGateway({ control: cp.url, node: 'gw-a', token: TOKEN, stateDir: tempDir('tollway-node-') });
  });
  after(async () => {
    await gw?.stop();
    await cp?.stop();
    await etcd?.stop();
    await mock?.close();
    await alt?.close();
  });

  it('a published policy is served from etcd: the gateway applies and ACKs it (SYNCED)', async () => {
    const n = await eventually(() => synced(), 15000, 'gw-a SYNCED');
    firstVersion = n.applied_version;
    const f = await cp.fleet();
    assert.match(f.revision, /^1-[0-9a-f]{12}$/);
    assert.equal(f.store_error, null);
    assert.equal(f.policy_error, null);
    assert.equal((await gw.config()).source_version, n.applied_version);
    assert.equal((await chat('gpt-4o')).status, 200);
    assert.equal((await fetch(`${cp.url}/readyz`)).status, 200);
    // Publishing the same policy again writes nothing.
    const again = await publish(policy.dir);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^unchanged: etcd already holds this policy/);
  });

  it('a new publish reaches the gateway', async () => {
    const old = (await node()).applied_version;
    policy.write('models.yaml', `${MODELS}  - match: "mistral-*"\n    provider: alt\n`);
    const r = await publish(policy.dir, '--author', 'Bo');
    assert.equal(r.code, 0, r.stderr);
    const n = await eventually(() => synced(old), 15000, 'the new version SYNCED');
    assert.match((await cp.fleet()).revision, /^2-/);
    assert.equal((await gw.config()).source_version, n.applied_version);
    const before = alt.requests.length;
    assert.equal((await chat('mistral-small')).status, 200);
    assert.equal(alt.requests.length, before + 1, 'the new model rule routes to the other provider');
  });

  it('an invalid policy is refused at publish with file:line errors; etcd keeps the published one', async () => {
    const bad = policyDir();
    bad.write('base.yaml', BASE);
    bad.write('providers.yaml', `${providers(mock.url, alt.url)}  - path: /v1/embeddings\n    api: openai\n    provider: nowhere\n`);
    bad.write('nodes.yaml', NODES);
    const before = await etcd.kv('range', { key: base64(`${PREFIX}/`), range_end: base64(`${PREFIX}0`) });
    const r = await publish(bad.dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${bad.file('providers.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:16: routes\\[1\\]\\.provider: `));
    assert.match(r.stderr, /1 error in .*: nothing published/);
    const after = await etcd.kv('range', { key: base64(`${PREFIX}/`), range_end: base64(`${PREFIX}0`) });
    assert.deepEqual(after.kvs, before.kvs);
  });

  it('two publishes guarded by the same revision: one wins, the other gets the conflict and writes nothing', async () => {
    const { header } = await etcd.kv('range', { key: base64(`${PREFIX}/`), range_end: base64(`${PREFIX}0`), keys_only: true });
    const one = policyDir(); const two = policyDir();
    for (const p of [one, two]) {
      p.write('base.yaml', BASE);
      p.write('providers.yaml', providers(mock.url, alt.url));
      p.write('nodes.yaml', NODES);
    }
    one.write('models.yaml', `${MODELS}  - match: "claude-*"\n    provider: alt\n`);
    two.write('models.yaml', `${MODELS}  - match: "llama-*"\n    provider: alt\n`);
    const results = await Promise.all([
      publish(one.dir, '--author', 'one', '--expect-revision', header.revision),
      publish(two.dir, '--author', 'two', '--expect-revision', header.revision),
    ]);
    const codes = results.map((r) => r.code).sort();
    assert.deepEqual(codes, [0, 2], results.map((r) => r.stderr).join('\n'));
    const loser = results.find((r) => r.code === 2);
    assert.match(loser.stderr, new RegExp(`conflict: the policy under ${PREFIX}/ changed after etcd revision ${header.revision} \\(--expect-revision\\): another publish won\\. Nothing was written`));
    const winner = results[0].code === 0 ? 'one' : 'two';
    await eventually(async () => (await history())[0]?.author === winner, 15000, 'the winner recorded');
    // A stale revision loses outright, even alone.
    const stale = await publish(policy.dir, '--expect-revision', header.revision);
    assert.equal(stale.code, 2, stale.stderr);
    // And the directory's policy back, for the tests below.
    const back = await publish(policy.dir, '--author', 'Bo');
    assert.equal(back.code, 0, back.stderr);
    await eventually(async () => (await history())[0]?.counter === 4, 15000, 'version 4 recorded');
  });

  it('history lists every version with its author and commit; diff shows what changed', async () => {
    const versions = await history();
    assert.deepEqual(versions.map((v) => v.counter), [4, 3, 2, 1]);
    const [v4, v3, v2, v1] = versions;
    assert.equal(v1.author, 'Ana <ana@example.com>');
    assert.equal(v1.commit_author, 'Ana <ana@example.com>');
    assert.equal(v1.commit, git(policy.dir, 'rev-parse', 'HEAD'));
    assert.equal(v1.parent, '');
    assert.equal(v1.store, `etcd ${PREFIX}`);
    assert.equal(v2.author, 'Bo');
    assert.equal(v2.parent, v1.revision);
    assert.match(v2.note, /uncommitted changes/);
    assert.deepEqual(v2.changes, [{ file: 'models.yaml', change: 'changed', keys: ['models'] }]);
    assert.equal(v4.content_hash, v2.content_hash);
    assert.equal(v3.parent, v2.revision);
    const table = await runTollway(['control', 'history', '--state-dir', stateDir]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^${v2.revision} +\\S+ +Bo +${v1.commit.slice(0, 12)}$`, 'm'));
    assert.match(table.stdout, /^ {4}changed models\.yaml \(models\)$/m);
    const diff = await runTollway(['control', 'diff', v1.revision, '2', '--state-dir', stateDir]);
    assert.equal(diff.code, 0, diff.stderr);
    assert.equal(diff.stdout, `--- ${v1.revision}/models.yaml\n+++ ${v2.revision}/models.yaml\n@@ -1,3 +1,5 @@\n`
      + ' models:\n   - match: "gpt-*"\n     provider: openai\n+  - match: "mistral-*"\n+    provider: alt\n');
    const unknown = await runTollway(['control', 'diff', '1', '99', '--state-dir', stateDir]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no version "99" in the history/);
  });

  it('rollback publishes an old version again as a new version; a directory store is refused', async () => {
    const v1 = (await history()).at(-1);
    const first = await firstVersion;
    const refused = await runTollway(['control', 'rollback', v1.revision, '--state-dir', stateDir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /the policy store is a directory .*roll back in Git/);
    const r = await runTollway(['control', 'rollback', v1.revision, '--state-dir', stateDir, '--etcd', etcd.url,
      '--prefix', PREFIX, '--author', 'Cy']);
    assert.equal(r.code, 0, r.stderr);
    const latest = await eventually(async () => { const h = await history(); return h[0].counter === 5 && h[0]; },
      15000, 'version 5');
    assert.equal(latest.content_hash, v1.content_hash);
    assert.equal(latest.author, 'Cy');
    assert.equal(latest.note, `rollback to ${v1.revision}`);
    assert.equal((await cp.fleet()).revision, latest.revision);
    // The same policy content gives the node the same document, so it runs its first version again.
    const n = await eventually(async () => { const x = await node(); return x.state === 'SYNCED' && x.applied_version === first && x; },
      15000, 'the rolled-back version SYNCED');
    assert.equal((await gw.config()).source_version, n.applied_version);
  });

  it('a key under the prefix that is not a policy file is refused and shown; removing it clears it', async () => {
    const before = await cp.fleet();
    const key = base64(`${PREFIX}/notes.txt`);
    await etcd.kv('put', { key, value: base64('hello') });
    const f = await eventually(async () => { const x = await cp.fleet(); return x.policy_error && x; }, 10000,
      'a policy error');
    assert.equal(f.policy_error, `${PREFIX}/notes.txt: not a policy file (keys under ${PREFIX}/ are NAME.yaml, groups/NAME.yaml and .publish)`);
    assert.equal(f.revision, before.revision);
    const status = await runTollway(['control', 'status', '--url', cp.url, '--admin-token-file', cp.tokenFile]);
    assert.match(status.stdout, /policy error \(the revision above stays published\):\n.*notes\.txt: not a policy file/);
    await etcd.kv('deleterange', { key });
    await eventually(async () => (await cp.fleet()).policy_error === null, 10000, 'the error cleared');
    assert.equal((await cp.fleet()).revision, before.revision);
  });

  it('etcd down: the control plane serves on, /readyz says degraded; etcd back: ready', async () => {
    const { revision } = await cp.fleet();
    await etcd.stop();
    const degraded = await eventually(async () => {
      const r = await fetch(`${cp.url}/readyz`);
      return r.status === 503 && r.text();
    }, 15000, '/readyz 503');
    assert.match(degraded, new RegExp(`^degraded: etcd unreachable: .*; serving revision ${revision}\\n$`));
    const f = await cp.fleet();
    assert.match(f.store_error, /^etcd unreachable: /);
    assert.equal(f.revision, revision);
    assert.equal((await node()).state, 'SYNCED');
    assert.equal((await chat('gpt-4o')).status, 200);
    const status = await runTollway(['control', 'status', '--url', cp.url, '--admin-token-file', cp.tokenFile]);
    assert.match(status.stdout, /^degraded: etcd unreachable: /m);
    await etcd.start();
    await eventually(async () => (await fetch(`${cp.url}/readyz`)).status === 200, 15000, '/readyz 200');
    assert.equal((await cp.fleet()).revision, revision);
  });
});
