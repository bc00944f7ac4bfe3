// Scoped node documents (issue 15, item 2): two tenants' gateways under one control plane, both tenants' providers
// in one shared policy file, each tenant's group routing to its own. A gateway's snapshot holds only its own
// provider (its API key and credential source), never the other tenant's; each gateway serves its tenant with its
// own key; a change to tenant b's secret gives gw-b a new version and leaves gw-a's version (and gw-a) alone.
// Real processes on 127.0.0.1.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startMock, postJson, tempDir } from '../../lib/harness.mjs';
import { policyDir, startControl, startManagedGateway, eventually, sha256, BASE } from './control_harness.mjs';

const TOKENS = { 'gw-a': 'token-of-tenant-a-gw', 'gw-b': 'token-of-tenant-b-gw' };
const NODES = `nodes:
  gw-a:
    labels: {tenant: a}
    token_sha256: ${sha256(TOKENS['gw-a'])}
  gw-b:
    labels: {tenant: b}
    token_sha256: ${sha256(TOKENS['gw-b'])}
`;
const providers = (urlA, urlB, keyB, keyDir) => `providers:
  openai-a:
    api: openai
    base_url: ${urlA}
    api_key: sk-tenant-a-secret
  openai-b:
    api: openai
    base_url: ${urlB}
    api_key: ${keyB}
credentials:
  providers:
    openai-a:
      - {file: ${keyDir}/a.key}
    openai-b:
      - {file: ${keyDir}/b.key}
`;
const group = (tenant) => `selector:
  tenant: ${tenant}
sections:
  routes:
    - path: /v1/chat/completions
      api: openai
      provider: openai-${tenant}
`;

describe('scoped node documents', () => {
  let mockA; let mockB; let policy; let cp; let keyDir; const gw = {};
  const nodeOf = (fleet, id) => fleet.nodes.find((n) => n.id === id);
  const snapshot = async (node, have = '') => {
    const r = await fetch(`${cp.url}/v1/snapshot?node=${node}&have=${have}`,
      { headers: { authorization: `Bearer ${TOKENS[node]}` } });
    return { status: r.status, body: r.status === 200 ? await r.json() : null };
  };
  const chat = (g) => postJson(`${g.url}/v1/chat/completions`,
    { model: 'gpt-4o-mini', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] });

  before(async () => {
    mockA = await startMock();
    mockB = await startMock();
    policy = policyDir();
    policy.write('base.yaml', BASE);
    // A provider listed in credentials.providers takes its key from there, not from api_key: one file per tenant.
    keyDir = tempDir('tollway-keys-');
    fs.writeFileSync(`${keyDir}/a.key`, 'sk-tenant-a-from-file\n');
    fs.writeFileSync(`${keyDir}/b.key`, 'sk-tenant-b-from-file\n');
    policy.write('providers.yaml', providers(mockA.url, mockB.url, 'sk-tenant-b-secret', keyDir));
    policy.write('nodes.yaml', NODES);
    policy.write('groups/a.yaml', group('a'));
    policy.write('groups/b.yaml', group('b'));
    cp = await startControl({ policy: policy.dir });
    for (const id of ['gw-a', 'gw-b'])
      gw[id] = await startManagedGateway({ control: cp.url, node: id, token: TOKENS[id], stateDir: tempDir(`tollway-state-${id}-`) });
    await eventually(async () => {
      const f = await cp.fleet();
      return ['gw-a', 'gw-b'].every((id) => nodeOf(f, id).state === 'SYNCED');
    }, 15000, 'both gateways SYNCED on their scoped documents');
  });
  after(async () => {
    await Promise.all(Object.values(gw).map((g) => g?.stop()));
    await cp?.stop();
    await mockA?.close();
    await mockB?.close();
  });

  it("a node's snapshot holds its own provider and never the other tenant's key or credential source", async () => {
    const a = await snapshot('gw-a');
    assert.equal(a.status, 200);
    assert.match(a.body.document, /openai-a:\n {4}api: openai\n/);
    assert.match(a.body.document, /api_key: sk-tenant-a-secret/);
    assert.doesNotMatch(a.body.document, /openai-b|sk-tenant-b|b\.key/);
    assert.match(a.body.document, /credentials:\n {2}providers:\n {4}openai-a:\n/);
    const b = await snapshot('gw-b');
    assert.match(b.body.document, /api_key: sk-tenant-b-secret/);
    assert.doesNotMatch(b.body.document, /openai-a|sk-tenant-a|a\.key/);
    // Each gateway serves its tenant through its own provider, with the key its credential source gives.
    for (const [id, mine, other, key] of [['gw-a', mockA, mockB, 'a'], ['gw-b', mockB, mockA, 'b']]) {
      const n = mine.requests.length; const o = other.requests.length;
      const r = await chat(gw[id]);
      assert.equal(r.status, 200, `${id}: ${JSON.stringify(r.json)}`);
      assert.equal(mine.requests.length, n + 1);
      assert.equal(other.requests.length, o);
      assert.equal(mine.requests.at(-1).headers.authorization, `Bearer sk-tenant-${key}-from-file`);
    }
  });

  it("a change to tenant b's secret gives gw-b a new version and leaves gw-a's as it was", async () => {
    const before = await cp.fleet();
    const versionA = nodeOf(before, 'gw-a').desired_version;
    const versionB = nodeOf(before, 'gw-b').desired_version;
    // gw-a waits on a long poll with its version: nothing for it in this change, so no answer but 304.
    const pollA = snapshot('gw-a', versionA);
    policy.write('providers.yaml', providers(mockA.url, mockB.url, 'sk-tenant-b-rotated', keyDir));
    const f = await eventually(async () => {
      const fleet = await cp.fleet();
      const b = nodeOf(fleet, 'gw-b');
      return fleet.revision !== before.revision && b.desired_version !== versionB && b.state === 'SYNCED' && fleet;
    }, 15000, 'gw-b SYNCED on its new version');
    assert.equal(nodeOf(f, 'gw-a').desired_version, versionA);
    assert.equal(nodeOf(f, 'gw-a').applied_version, versionA);
    assert.equal(nodeOf(f, 'gw-a').state, 'SYNCED');
    assert.equal((await pollA).status, 304, 'gw-a is not sent a document it already runs');
    assert.match((await snapshot('gw-b')).body.document, /api_key: sk-tenant-b-rotated/);
    assert.doesNotMatch((await snapshot('gw-a')).body.document, /sk-tenant-b/);
  });
});
