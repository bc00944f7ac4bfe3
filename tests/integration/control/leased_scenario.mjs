// Leased budgets end to end (issue 18), shared by leased.test.mjs (the control plane's aggregates in SQLite,
// STATE_DIR/leases.db) and leased_redis.test.mjs (in Redis, --lease-store): ten gateways under one control plane
// share a token budget (`ledger: leased`) under skewed load (one node takes 80 % of the requests, random request
// sizes). What the provider actually served stays within the budget plus the documented bound (here: each admitted
// request's use beyond its reservation; ≤ 1 % of the budget with default settings), nearly all of it is usable, and
// the control plane's view agrees. Then the control plane is killed: `on_control_unreachable: deny` stops spending
// once leases expire, `last_lease` spends what its leases still allow and no more; restarted, it has lost no
// reported use. A node SIGKILLed gives its lease back once the lease expires. A report replayed after a restart
// of the control plane is refused (its sequence number persisted) and changes nothing. With Redis: the aggregates
// are in Redis (no leases.db), and a report Redis cannot take is answered 503 and changes nothing. Real processes
// on loopback.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startMock, postJson, tempDir, unusedPort } from '../../lib/harness.mjs';
import { startRedis, redisCli } from '../../lib/redis.mjs';
import { usageFor } from '../../mock/provider.mjs';
import { policyDir, startControl, startManagedGateway, eventually, sha256, BASE, MODELS, providers } from './control_harness.mjs';

const NODES = Array.from({ length: 10 }, (_, i) => `gw-${i}`);
const tokenOf = (id) => `token-of-${id}`;
const LIMIT = 40_000;
const SMALL = 3_000;
const SAFE_ALLOWANCE = 400;
const LIMITS = `limits:
  ledger: leased
  budgets:
    - {name: shared-tokens, match: {model: "gpt-shared*"}, unit: total_tokens, limit: ${LIMIT}, period: day}
    - {name: deny-when-cut-off, match: {model: "gpt-deny*"}, unit: total_tokens, limit: ${SMALL}, period: day,
       on_control_unreachable: deny}
    - {name: last-lease-when-cut-off, match: {model: "gpt-last*"}, unit: total_tokens, limit: ${SMALL}, period: day,
       on_control_unreachable: last_lease}
    - {name: safe-when-cut-off, match: {model: "gpt-safe*"}, unit: total_tokens, limit: ${SMALL}, period: day,
       on_control_unreachable: safe, safe_allowance: ${SAFE_ALLOWANCE}}
`;

// A deterministic pseudo-random sequence, so a failure can be replayed.
function rng(seed) {
  let s = seed;
  return () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
}
const words = (n) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');

async function usage(cp, node, body) {
  const r = await fetch(`${cp.url}/v1/usage`, {
    method: 'POST', headers: { authorization: `Bearer ${tokenOf(node)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ node, ...body }),
  });
  return { status: r.status, json: await r.json() };
}

// store: 'sqlite' (STATE_DIR/leases.db) or 'redis' (a redis-server started here, --lease-store).
export function leasedFleetScenario(store) {
describe(`leased budgets: ten gateways, one budget (aggregates in ${store})`, () => {
  let mock; let policy; let cp; let stateDir; let redis; const gw = {};
  let controlArgs = ['--lease-sync-interval', '200ms', '--lease-ttl', '2s'];
  const served = (model) => mock.requests.filter((r) => r.json?.model?.startsWith(model));
  const usedBy = (model) => served(model).reduce((sum, r) => sum + usageFor(r.json).total, 0);
  const chat = (g, model, random) => postJson(`${g.url}/v1/chat/completions`, {
    model, max_tokens: 8 + Math.floor(random() * 56), messages: [{ role: 'user', content: words(5 + Math.floor(random() * 60)) }],
  });

  before(async () => {
    mock = await startMock();
    policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers(mock.url, mock.url));
    policy.write('models.yaml', MODELS);
    policy.write('limits.yaml', LIMITS);
    policy.write('nodes.yaml', `nodes:\n${NODES.map((id) => `  ${id}:\n    labels: {role: gateway}\n    token_sha256: ${sha256(tokenOf(id))}\n`).join('')}`);
    stateDir = tempDir('tollway-control-state-');
    if (store === 'redis') {
      redis = await startRedis(await unusedPort());
      controlArgs = [...controlArgs, '--lease-store', `redis://127.0.0.1:${redis.port}`];
    }
    cp = await startControl({ policy: policy.dir, stateDir, extraArgs: controlArgs });
    if (store === 'redis') assert.equal(cp.ready.lease_store, `redis://127.0.0.1:${redis.port}/0`);
    else assert.equal(cp.ready.lease_store, `sqlite:${path.join(stateDir, 'leases.db')}`);
    await Promise.all(NODES.map(async (id) => {
      gw[id] = await startManagedGateway({ control: cp.url, node: id, token: tokenOf(id), stateDir: tempDir(`tollway-${id}-`) });
    }));
    await new Promise((r) => setTimeout(r, 2100));  // the control plane's learning period after its start
  });
  after(async () => {
    await Promise.all(Object.values(gw).map((g) => g?.stop('SIGKILL')));
    await cp?.stop();
    await mock?.close();
    await redis?.kill();
  });

  it('a skewed fleet spends the shared budget within the bound, and nearly all of it', async () => {
    const random = rng(42);
    let admitted = 0; let denied = 0; let deniedInARow = 0; let firstDenial = '';
    for (let n = 0; n < 4000 && deniedInARow < 60; n += 4) {
      const batch = Array.from({ length: 4 }, () => {
        const node = random() < 0.8 ? NODES[0] : NODES[1 + Math.floor(random() * 9)];
        return chat(gw[node], 'gpt-shared-4o', random);
      });
      for (const r of await Promise.all(batch)) {
        if (r.status === 200) { admitted += 1; deniedInARow = 0; } else {
          assert.equal(r.status, 429, r.text);
          if (!firstDenial) firstDenial = `after ${admitted} admitted: ${r.text}`;
          denied += 1; deniedInARow += 1;
        }
      }
    }
    const spent = usedBy('gpt-shared');
    const overspend = Math.max(0, spent - LIMIT);
    console.log(`shared budget ${LIMIT}: served ${spent} over ${admitted} requests (${denied} denied), overspend ${overspend}`);
    assert.ok(denied > 0, 'the budget never ran out');
    assert.ok(overspend <= LIMIT / 100, `overspend ${overspend} is over 1 % of ${LIMIT} (${admitted} admitted)`);
    assert.ok(spent >= LIMIT * 0.9, `only ${spent} of ${LIMIT} was usable; first denial ${firstDenial}`);
    const fleet = await cp.fleet();
    const budget = fleet.budgets.find((b) => b.key.startsWith('budget|shared-tokens|'));
    await eventually(async () => {
      const f = await cp.fleet();
      return f.budgets.find((b) => b.key === budget.key).spent === spent;
    }, 5000, 'the control plane to have every node\'s reported use');
    const metrics = await gw[NODES[0]].metrics();
    assert.match(metrics, /tollway_limits_lease_syncs_total\{result="ok"\} [1-9]/);
  });

  it('control plane cut off: deny stops at lease expiry, last_lease spends its leases and no more, safe its allowance and no more; nothing reported is lost', async () => {
    const random = rng(7);
    // Leases for the three budgets on gw-0.
    for (const model of ['gpt-deny-1', 'gpt-last-1', 'gpt-safe-1']) assert.equal((await chat(gw[NODES[0]], model, random)).status, 200);
    await new Promise((r) => setTimeout(r, 500));
    const before = (await cp.fleet()).budgets;
    const port = cp.port;
    await cp.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 2500));  // past every lease's lifetime
    assert.equal((await chat(gw[NODES[0]], 'gpt-deny-1', random)).status, 429);
    const held = before.find((b) => b.key.startsWith('budget|last-lease-when-cut-off|')).holders
      .find((h) => h.holder.startsWith(`${NODES[0]}/`));
    const lastBefore = usedBy('gpt-last');
    for (let i = 0; i < 200; i += 1) if ((await chat(gw[NODES[0]], 'gpt-last-1', random)).status !== 200) break;
    const lastSpent = usedBy('gpt-last');
    assert.ok(lastSpent > lastBefore, 'last_lease spent nothing of its lease');
    assert.ok(lastSpent <= held.granted + 64 + 200, `last_lease spent ${lastSpent}, its lease allowed ${held.granted}`);
    // safe: once its lease expired, the node spends safe_allowance more (what it reserves: prompt + max_tokens, at
    // most one request's worth beyond what the calls used), then refuses.
    const safeBefore = usedBy('gpt-safe');
    let safeStatus = 200;
    for (let i = 0; i < 200 && safeStatus === 200; i += 1) safeStatus = (await chat(gw[NODES[0]], 'gpt-safe-1', random)).status;
    assert.equal(safeStatus, 429, 'safe never stopped');
    const safeSpent = usedBy('gpt-safe') - safeBefore;
    assert.ok(safeSpent > 0, 'safe spent nothing of its allowance');
    assert.ok(safeSpent <= SAFE_ALLOWANCE, `safe spent ${safeSpent} past its lease, its allowance is ${SAFE_ALLOWANCE}`);
    cp = await startControl({ policy: policy.dir, stateDir, listen: `127.0.0.1:${port}`, extraArgs: controlArgs });
    const after = (await cp.fleet()).budgets;
    for (const b of before) assert.ok(after.find((a) => a.key === b.key).spent >= b.spent, `${b.key} lost reported use`);
  });

  it('a node SIGKILLed gives its lease back once it expires', async () => {
    const victim = NODES[9];
    const random = rng(3);
    await eventually(async () => (await chat(gw[victim], 'gpt-deny-2', random)).status === 200, 8000, 'a lease on the victim');
    await gw[victim].stop('SIGKILL');
    const leasedTo = async () => {
      const b = (await cp.fleet()).budgets.find((x) => x.key.startsWith('budget|deny-when-cut-off|'));
      return b.holders.filter((h) => h.holder.startsWith(`${victim}/`)).reduce((s, h) => s + (h.expires_in_ms > 0 && !h.closed ? h.granted - h.used : 0), 0);
    };
    await eventually(async () => (await leasedTo()) === 0, 6000, 'the dead node\'s lease to expire');
  });

  it('a report replayed after the control plane restarted is refused and changes nothing; a retry is answered', async () => {
    const budget = (await cp.fleet()).budgets.find((b) => b.key.startsWith('budget|deny-when-cut-off|'));
    const report = (seq, used) => ({ incarnation: 'replay-check', seq, keys: [{ key: budget.key, limit: SMALL, used, rate: 0, held: 0, ends_in_ms: 3_600_000 }] });
    const first = await usage(cp, NODES[8], report(5, 40));
    assert.equal(first.status, 200, JSON.stringify(first.json));
    const port = cp.port;
    await cp.stop('SIGKILL');
    cp = await startControl({ policy: policy.dir, stateDir, listen: `127.0.0.1:${port}`, extraArgs: controlArgs });
    const spentBefore = (await cp.fleet()).budgets.find((b) => b.key === budget.key).spent;
    const replay = await usage(cp, NODES[8], report(4, 0));
    assert.equal(replay.status, 409, JSON.stringify(replay.json));
    assert.equal(replay.json.error.code, 'replayed');
    assert.equal((await cp.fleet()).budgets.find((b) => b.key === budget.key).spent, spentBefore);
    const retry = await usage(cp, NODES[8], report(5, 40));  // the same report again: answered, counted once
    assert.equal(retry.status, 200, JSON.stringify(retry.json));
    assert.equal((await cp.fleet()).budgets.find((b) => b.key === budget.key).spent, spentBefore);
    if (store === 'redis') {
      assert.ok(!fs.existsSync(path.join(stateDir, 'leases.db')), 'leases.db was written although Redis holds the leases');
      assert.ok(redisCli(redis.port, 'SMEMBERS', 'tollway:leases:keys').split('\n').includes(budget.key));
      assert.equal(redisCli(redis.port, 'HGET', 'tollway:leases:seq', `replay-check|${NODES[8]}`), '5');
    }
  });

  it('redis gone: a report is answered 503 store_unavailable and changes nothing', { skip: store !== 'redis' }, async () => {
    const budget = (await cp.fleet()).budgets.find((b) => b.key.startsWith('budget|deny-when-cut-off|'));
    const spentBefore = budget.spent;
    await redis.kill();
    const r = await usage(cp, NODES[8], { incarnation: 'replay-check', seq: 6, keys: [{ key: budget.key, limit: SMALL, used: 90, rate: 0, held: 0, ends_in_ms: 3_600_000 }] });
    assert.equal(r.status, 503, JSON.stringify(r.json));
    assert.equal(r.json.error.code, 'store_unavailable');
    assert.match(r.json.error.message, /redis 127\.0\.0\.1/);
    assert.equal((await cp.fleet()).budgets.find((b) => b.key === budget.key).spent, spentBefore);
    // (the gateways' own reports are refused the same way meanwhile)
    assert.match(await cp.metrics(), /tollway_control_usage_reports_total\{result="refused",reason="store_unavailable"\} [1-9]/);
    redis = null;
  });
});
}
