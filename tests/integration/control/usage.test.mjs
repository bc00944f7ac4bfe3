// POST /v1/usage, the control plane's side of leased budgets, driven as nodes drive it: a node's report is answered
// with its next lease (demand with a fair-share floor, never beyond what is left), checked against the node's own
// policy, ordered per incarnation (a replay refused, a retry answered again and counted once), refused whole when
// malformed, visible in /v1/fleet and /metrics, and kept across a control-plane restart (which then learns for one
// lease lifetime before it grants new capacity). Real `tollway control` on loopback.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../lib/harness.mjs';
import { policyDir, startControl, sha256, BASE, MODELS, providers } from './control_harness.mjs';

const TOKENS = { 'gw-a': 'token-of-gw-a', 'gw-b': 'token-of-gw-b' };
const LIMIT = 1_000_000;
const NODES = `nodes:
  gw-a:
    labels: {role: gateway}
    token_sha256: ${sha256(TOKENS['gw-a'])}
  gw-b:
    labels: {role: gateway}
    token_sha256: ${sha256(TOKENS['gw-b'])}
`;
const LIMITS = `limits:
  budgets:
    - {name: fleet-tokens, unit: total_tokens, limit: ${LIMIT}, period: month}
`;
const KEY = 'budget|fleet-tokens|2026-12';

async function usage(cp, node, body, token = TOKENS[node]) {
  const r = await fetch(`${cp.url}/v1/usage`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify({ node, ...body }),
  });
  return { status: r.status, json: await r.json() };
}
const key = (used, { rate = 0, held = 0, limit = LIMIT, k = KEY } = {}) => ({ key: k, limit, used, rate, held, ends_in_ms: 86_400_000 });

describe('control plane: POST /v1/usage (leased budgets)', () => {
  let policy; let cp; let stateDir;
  before(async () => {
    policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers('http://127.0.0.1:9', 'http://127.0.0.1:9'));
    policy.write('models.yaml', MODELS);
    policy.write('limits.yaml', LIMITS);
    policy.write('nodes.yaml', NODES);
    stateDir = tempDir('tollway-control-state-');
    cp = await startControl({ policy: policy.dir, stateDir, extraArgs: ['--lease-sync-interval', '200ms', '--lease-ttl', '1s'] });
    await new Promise((r) => setTimeout(r, 1100));  // past the learning period of a fresh start
  });
  after(async () => { await cp?.stop(); });

  it('answers a node with a lease: a fair-share floor when idle, its demand when busy, never beyond what is left', async () => {
    const a = await usage(cp, 'gw-a', { incarnation: 'boot-1', seq: 1, keys: [key(0)] });
    assert.equal(a.status, 200, JSON.stringify(a.json));
    assert.equal(a.json.sync_interval_ms, 200);
    assert.equal(a.json.leases[0].granted, LIMIT / 4);
    assert.equal(a.json.leases[0].ttl_ms, 1000);
    const b = await usage(cp, 'gw-b', { incarnation: 'boot-1', seq: 1, keys: [key(0, { rate: 1e9 })] });
    assert.equal(b.status, 200);
    assert.equal(b.json.leases[0].granted, LIMIT - LIMIT / 4);  // everything not leased to gw-a
    assert.equal(b.json.leases[0].remaining, 0);
  });

  it('a retry of the same report is answered again and counted once; an older one is a replay, refused', async () => {
    const body = { incarnation: 'boot-1', seq: 2, keys: [key(1000, { held: LIMIT / 4 })] };
    const first = await usage(cp, 'gw-a', body);
    const retry = await usage(cp, 'gw-a', body);
    assert.equal(first.status, 200);
    assert.equal(retry.status, 200);
    assert.equal(retry.json.leases[0].spent, first.json.leases[0].spent);
    const replay = await usage(cp, 'gw-a', { ...body, seq: 1 });
    assert.equal(replay.status, 409);
    assert.equal(replay.json.error.code, 'replayed');
    const fleet = await cp.fleet();
    const budget = fleet.budgets.find((x) => x.key === KEY);
    assert.equal(budget.spent, 1000);
    assert.equal(budget.limit, LIMIT);
    assert.equal(budget.holders.length, 2);
  });

  it('refuses what the node\'s policy does not vouch for, bad numbers and bad tokens, and changes nothing', async () => {
    const cases = [
      [{ incarnation: 'boot-1', seq: 9, keys: [key(10, { k: 'budget|no-such-budget|2026-12' })] }, 422, 'unknown_budget'],
      [{ incarnation: 'boot-1', seq: 9, keys: [key(10, { limit: LIMIT * 10 })] }, 422, 'limit_mismatch'],
      [{ incarnation: 'boot-1', seq: 9, keys: [key(-5)] }, 422, 'invalid_report'],
      [{ incarnation: 'boot-1', seq: 9, keys: [key(10, { rate: -1 })] }, 422, 'invalid_report'],
      [{ incarnation: 'boot-1', seq: 9, keys: [key(LIMIT * 5)] }, 422, 'invalid_report'],
      [{ incarnation: 'boot-1', seq: 9, keys: [{ ...key(10), extra: 1 }] }, 400, 'invalid_field'],
      [{ incarnation: 'boot 1', seq: 9, keys: [key(10)] }, 400, 'invalid_field'],
      [{ incarnation: 'boot-1', seq: 0, keys: [key(10)] }, 400, 'invalid_field'],
      ['{"node":"gw-a",', 400, 'invalid_json'],
    ];
    for (const [body, status, code] of cases) {
      const r = await usage(cp, 'gw-a', body);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.equal(r.json.error.code, code, JSON.stringify(r.json));
    }
    const stolen = await usage(cp, 'gw-a', { incarnation: 'boot-1', seq: 9, keys: [key(10)] }, TOKENS['gw-b']);
    assert.equal(stolen.status, 401);
    const budget = (await cp.fleet()).budgets.find((x) => x.key === KEY);
    assert.equal(budget.spent, 1000);
    const metrics = await cp.metrics();
    assert.match(metrics, /tollway_control_usage_reports_total\{result="refused",reason="replayed"\} 1/);
    assert.match(metrics, /tollway_control_budget_spent\{key="budget\|fleet-tokens\|2026-12"\} 1000/);
    const file = path.join(tempDir('tollway-promtool-'), 'metrics.txt');
    fs.writeFileSync(file, metrics);
    execFileSync('promtool', ['check', 'metrics'], { input: metrics });
  });

  it('a restarted node is a new incarnation: its old lease comes back, its old use stays spent', async () => {
    const r = await usage(cp, 'gw-a', { incarnation: 'boot-2', seq: 1, keys: [key(0)] });
    assert.equal(r.status, 200);
    assert.equal(r.json.leases[0].spent, 1000);
    const holders = (await cp.fleet()).budgets.find((x) => x.key === KEY).holders;
    assert.equal(holders.find((h) => h.holder === 'gw-a/boot-1').closed, true);
  });

  it('a restarted control plane keeps what was reported and granted, then learns for one lease lifetime', async () => {
    const port = cp.port;
    const before = (await cp.fleet()).budgets.find((x) => x.key === KEY);
    await cp.stop();
    cp = await startControl({ policy: policy.dir, stateDir, listen: `127.0.0.1:${port}`,
      extraArgs: ['--lease-sync-interval', '200ms', '--lease-ttl', '1s'] });
    const after = (await cp.fleet()).budgets.find((x) => x.key === KEY);
    assert.equal(after.spent, before.spent);
    // Learning: a node is confirmed in what it holds, and nothing new is granted.
    const learning = await usage(cp, 'gw-b', { incarnation: 'boot-1', seq: 2, keys: [key(50, { rate: 1e9, held: 300 })] });
    assert.equal(learning.status, 200);
    assert.ok(learning.json.leases[0].granted <= Math.max(300, before.holders.find((h) => h.holder === 'gw-b/boot-1').granted));
    const fresh = await usage(cp, 'gw-a', { incarnation: 'boot-3', seq: 1, keys: [key(0, { rate: 1e9 })] });
    assert.equal(fresh.json.leases[0].granted, 0);
    const replay = await usage(cp, 'gw-b', { incarnation: 'boot-1', seq: 1, keys: [key(50)] });
    assert.equal(replay.status, 409, 'sequence numbers survive the restart');
  });
});
