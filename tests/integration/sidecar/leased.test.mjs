// Leased budgets across roles (issue 18): ten nodes under one control plane — seven gateways and three sidecars —
// share one token budget. The gateways spend it on the chat calls they serve (`limits.budgets`, `ledger: leased`);
// the sidecars spend it on their agents' LLM calls, which they send over mTLS to an edge gateway of their own
// (`limits.budgets` with `match: {to: gateway}` in the sidecars' shared section). Both roles name the budget
// `shared-tokens`, so the control plane aggregates one key. Under skewed load (one gateway takes 80 % of the calls,
// random request sizes) what the provider served stays within the budget plus the documented bound (≤ 1 % of it
// here), nearly all of it is usable, every sidecar held a lease and was refused once the budget ran out, and a
// sidecar's report for a budget its document does not declare is refused. Real processes on loopback.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, startMock, testConfig, makeCA, postJson, tempDir } from '../../lib/harness.mjs';
import { usageFor } from '../../mock/provider.mjs';
import {
  BASE, MODELS, eventually, policyDir, providers, sha256, startControl, startManagedGateway, startManagedSidecar,
} from '../control/control_harness.mjs';

const TD = 'example.org';
const id = (name) => `spiffe://${TD}/ns/prod/sa/${name}`;
const GATEWAYS = Array.from({ length: 7 }, (_, i) => `gw-${i}`);
const SIDECARS = Array.from({ length: 3 }, (_, i) => `sc-${i}`);
const tokenOf = (node) => `token-of-${node}`;
const LIMIT = 30_000;

function rng(seed) {
  let s = seed;
  return () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
}
const words = (n) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');

describe('leased budgets: gateways and sidecars share one budget', () => {
  let ca; let mock; let edge; let policy; let cp; const nodes = {};
  const usedBy = (model) => mock.requests.filter((r) => r.json?.model?.startsWith(model))
    .reduce((sum, r) => sum + usageFor(r.json).total, 0);
  const chatBody = (random) => ({ model: 'gpt-shared-4o', max_tokens: 8 + Math.floor(random() * 56),
    messages: [{ role: 'user', content: words(5 + Math.floor(random() * 60)) }] });
  // A gateway serves the call itself; a sidecar's agent calls its sidecar's outbound listener as its SDK's base URL.
  const call = (node, random) => (node.startsWith('gw-')
    ? postJson(`${nodes[node].url}/v1/chat/completions`, chatBody(random))
    : postJson(`http://127.0.0.1:${nodes[node].listeners.outbound}/v1/chat/completions`, chatBody(random)));

  before(async () => {
    ca = makeCA({ name: 'leased-ca' });
    mock = await startMock();
    // The sidecars' gateway: mTLS, callers attributed by SPIFFE ID, no budget of its own.
    const svid = ca.svid('edge-gateway', id('edge-gateway'));
    const cfg = testConfig({ openaiUrl: mock.url });
    cfg.gateway.tls = { cert_file: svid.certFile, key_file: svid.keyFile, client_ca_file: ca.caFile,
      require_client_cert: true, trust_domain: TD };
    cfg.auth = { spiffe: { callers: [{ id: `spiffe://${TD}/ns/prod/sa/*`, tenant: 'acme', agent_group: 'prod' }] } };
    edge = await startGateway({ config: cfg });

    policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers(mock.url, mock.url));
    policy.write('models.yaml', MODELS);
    policy.write('limits.yaml', `limits:\n  ledger: leased\n  budgets:\n    - {name: shared-tokens, match: {model: "gpt-shared*"}, unit: total_tokens, limit: ${LIMIT}, period: day}\n`);
    policy.write('sidecars/limits.yaml', `version: 1\nlimits:\n  ledger: leased\n  budgets:\n    - {name: shared-tokens, match: {to: gateway}, unit: total_tokens, limit: ${LIMIT}, period: day}\n`);
    for (const sc of SIDECARS) {
      const s = ca.svid(sc, id(sc));
      policy.write(`groups/${sc}.yaml`, `selector:\n  app: ${sc}\nsections:\n  sidecar:\n    spiffe_id: ${id(sc)}\n`
        + '    outbound: 127.0.0.1:0\n    inbound: 127.0.0.1:0\n    agent: 127.0.0.1:9\n'
        + `    tls: {cert_file: ${s.certFile}, key_file: ${s.keyFile}, bundle_file: ${ca.caFile}}\n`
        + `    gateway: {address: 127.0.0.1:${edge.port}, spiffe_id: ${id('edge-gateway')}}\n`);
    }
    policy.write('nodes.yaml', `nodes:\n${[
      ...GATEWAYS.map((n) => `  ${n}:\n    labels: {app: gateway}\n    token_sha256: ${sha256(tokenOf(n))}\n`),
      ...SIDECARS.map((n) => `  ${n}:\n    role: sidecar\n    labels: {app: ${n}}\n    token_sha256: ${sha256(tokenOf(n))}\n`),
    ].join('')}`);
    cp = await startControl({ policy: policy.dir, stateDir: tempDir('tollway-control-state-'),
      extraArgs: ['--lease-sync-interval', '200ms', '--lease-ttl', '2s'] });
    await Promise.all([
      ...GATEWAYS.map(async (n) => {
        nodes[n] = await startManagedGateway({ control: cp.url, node: n, token: tokenOf(n), stateDir: tempDir(`tollway-${n}-`) });
      }),
      ...SIDECARS.map(async (n) => {
        nodes[n] = await startManagedSidecar({ control: cp.url, node: n, token: tokenOf(n), stateDir: tempDir(`tollway-${n}-`) });
      }),
    ]);
    await new Promise((r) => setTimeout(r, 2100));  // the control plane's learning period after its start
  });
  after(async () => {
    await Promise.all(Object.values(nodes).map((n) => n?.stop('SIGKILL')));
    await cp?.stop();
    await edge?.stop();
    await mock?.close();
    ca?.cleanup();
  });

  it('a skewed fleet of gateways and sidecars spends the shared budget within the bound, and nearly all of it', async () => {
    const random = rng(11);
    const others = [...GATEWAYS.slice(1), ...SIDECARS];
    const deniedAt = {}; let admitted = 0; let deniedInARow = 0; let firstDenial = '';
    for (let n = 0; n < 4000 && deniedInARow < 60; n += 4) {
      const picks = Array.from({ length: 4 }, () => (random() < 0.8 ? GATEWAYS[0] : others[Math.floor(random() * others.length)]));
      const results = await Promise.all(picks.map((node) => call(node, random)));
      results.forEach((r, i) => {
        if (r.status === 200) { admitted += 1; deniedInARow = 0; return; }
        assert.equal(r.status, 429, `${picks[i]}: ${r.text}`);
        if (!firstDenial) firstDenial = `${picks[i]} after ${admitted} admitted: ${r.text}`;
        deniedAt[picks[i]] = (deniedAt[picks[i]] ?? 0) + 1; deniedInARow += 1;
      });
    }
    assert.ok(Object.keys(deniedAt).length > 0, 'the budget never ran out');
    // What other nodes' leases still hold returns to the pool as they report or expire: each sidecar spends until
    // the budget is gone for it too, and is then refused by name.
    for (const sc of SIDECARS) {
      let last;
      for (let i = 0; i < 200; i += 1) {
        last = await call(sc, random);
        if (last.status !== 200) break;
        admitted += 1;
      }
      assert.equal(last.status, 429, `${sc} still spends past the shared budget: ${last.text}`);
      assert.match(last.json.error.message, /budget "shared-tokens" exceeded/);
    }
    const spent = usedBy('gpt-shared');
    const overspend = Math.max(0, spent - LIMIT);
    console.log(`shared budget ${LIMIT}: served ${spent} over ${admitted} requests, denials ${JSON.stringify(deniedAt)}, overspend ${overspend}`);
    assert.ok(overspend <= LIMIT / 100, `overspend ${overspend} is over 1 % of ${LIMIT}`);
    assert.ok(spent >= LIMIT * 0.9, `only ${spent} of ${LIMIT} was usable; first denial ${firstDenial}`);
    // One key, held by both roles; the control plane has every node's reported use.
    const key = (await cp.fleet()).budgets.find((b) => b.key.startsWith('budget|shared-tokens|'));
    for (const sc of SIDECARS) assert.ok(key.holders.some((h) => h.holder.startsWith(`${sc}/`)), `${sc} never held a lease`);
    await eventually(async () => {
      const b = (await cp.fleet()).budgets.find((x) => x.key === key.key);
      return b.spent === spent;
    }, 5000, 'the control plane to have every node\'s reported use');
    const metrics = await nodes[SIDECARS[0]].metrics();
    assert.match(metrics, /tollway_limits_lease_syncs_total\{result="ok"\} [1-9]/);
  });

  it('a sidecar\'s report for a budget its document does not declare is refused', async () => {
    const r = await postJson(`${cp.url}/v1/usage`, { node: SIDECARS[0], incarnation: 'forged', seq: 1,
      keys: [{ key: 'budget|not-declared|2026-12-06', limit: 10, used: 0, rate: 0, held: 0, ends_in_ms: 1000 }] },
    { authorization: `Bearer ${tokenOf(SIDECARS[0])}` });
    assert.equal(r.status, 422, r.text);
    assert.match(r.text, /unknown_budget/);
  });
});
