// Dependency faults, Redis: a real redis-server (started as tests/integration/limits/strict.test.mjs starts it)
// behind tests/lib/fault_proxy.mjs, two gateways on the strict ledger through it: `patient` (limits.redis.timeout
// 1s) and `brisk` (150ms). Redis slowed to 200 ms per chunk: the patient gateway stays strict (slower by one round
// trip, the reserve, also for a keep-alive request sent right after another: the previous request's settle runs
// beside the connection, never holds it; each settle runs once, and a drain waits for the settles still pending),
// the brisk one times out and every counter follows its on_store_error (deny 429, allow 200, local 200 counted in process).
// Redis blackholed (connections accepted, nothing answered): both follow on_store_error, no request waits much
// longer than limits.redis.timeout, the outage is logged once. Fault removed: strict again, logged once.
// docs/operations.md, "Strict ledger", "Redis outage".
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  startMock, startGateway, testConfig, getText, metricValue, waitFor, unusedPort, sleep, SANITIZED,
} from '../../lib/harness.mjs';
import { redisCli, startRedis } from '../../lib/redis.mjs';
import { startFaultProxy } from '../../lib/fault_proxy.mjs';

const UNREACHABLE = 'strict ledger: redis unreachable; counters follow their on_store_error';
const REACHABLE = 'strict ledger: redis reachable again; counters are strict again';
const MODELS = { deny: 'gpt-4o-mini', allow: 'gpt-4.1-mini', local: 'gpt-4.1-nano' };

async function post(gw, model) {
  const started = Date.now();
  const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, max_tokens: 20, messages: [{ role: 'user', content: 'hello redis fault' }] }) });
  const text = await r.text();
  return { status: r.status, text, ms: Date.now() - started };
}
async function metrics(gw) { return (await getText(`${gw.adminUrl}/metrics`)).text; }
/** One request through `agent` (null: a fresh connection, closed after): {status, ms, usage}. */
function rawPost(gw, model, agent) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(`${gw.url}/v1/chat/completions`, { method: 'POST', agent: agent ?? false,
      headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        let usage = null;
        try { usage = JSON.parse(Buffer.concat(chunks).toString('utf8')).usage ?? null; } catch { /* not JSON */ }
        resolve({ status: res.statusCode, ms: Date.now() - started, usage });
      });
    });
    req.on('error', reject);
    req.end(JSON.stringify({ model, max_tokens: 20, messages: [{ role: 'user', content: 'hello redis fault' }] }));
  });
}

describe('faults: Redis slowed and blackholed behind the strict ledger', () => {
  const prefix = `itest-faults-${process.pid}:`;
  let redis; let proxy; let mock; let patient; let brisk;
  const limitsFor = (timeout) => ({
    ledger: 'strict',
    redis: { url: `redis://127.0.0.1:${proxy.port}`, timeout, key_prefix: prefix, local_fallback_max: '30s' },
    default_max_tokens: 100,
    budgets: Object.entries(MODELS).map(([mode, model]) => ({ name: `${mode}-budget`, match: { model },
      unit: 'total_tokens', limit: 1000000, period: 'day', on_store_error: mode })),
  });
  before(async () => {
    redis = await startRedis(await unusedPort());
    proxy = await startFaultProxy({ target: { port: redis.port } });
    mock = await startMock();
    patient = await startGateway({ config: testConfig({ openaiUrl: mock.url, over: { limits: limitsFor('1s') } }) });
    brisk = await startGateway({ config: testConfig({ openaiUrl: mock.url, over: { limits: limitsFor('150ms') } }) });
  });
  after(async () => {
    await patient?.stop(); await brisk?.stop(); await proxy?.close(); await mock?.close(); await redis?.kill();
  });

  const counterKeys = () => redisCli(redis.port, '--scan', '--pattern', `${prefix}*`).split('\n').filter(Boolean);
  const budgetUsed = (mode) => {
    const key = counterKeys().find((k) => k.includes(`${mode}-budget`));
    return key ? Number(redisCli(redis.port, 'hget', key, 'v')) : 0;
  };

  it('slowed to 200 ms per chunk: strict within limits.redis.timeout, on_store_error beyond it, strict again after', async (t) => {
    for (const g of [patient, brisk]) for (const model of Object.values(MODELS)) assert.equal((await post(g, model)).status, 200);
    const keysBefore = counterKeys();
    assert.ok(keysBefore.length >= 3, `the budgets are in Redis: ${keysBefore}`);
    const quiet = await post(patient, MODELS.deny);

    proxy.setMode({ kind: 'delay', ms: 200, direction: 'both' });
    // patient (timeout 1 s): each reserve takes ~400 ms (200 each way) and is still decided by Redis.
    const errorsBefore = metricValue(await metrics(patient), 'tollway_limits_store_errors_total');
    const slow = await post(patient, MODELS.deny);
    assert.equal(slow.status, 200, slow.text);
    assert.ok(slow.ms >= 350, `a reserve through the slowed Redis took ${slow.ms} ms (quiet: ${quiet.ms} ms)`);
    t.diagnostic(`timeout 1s: request ${slow.ms} ms through the slowed Redis, ${quiet.ms} ms before`);
    assert.equal(metricValue(await metrics(patient), 'tollway_limits_store_errors_total'), errorsBefore);
    assert.equal(metricValue(await metrics(patient), 'tollway_ledger_redis_up'), 1);
    // The settle is on neither the request's path nor its connection's (docs/operations.md, Round trips): a
    // request pays one round trip (the reserve), on a fresh connection and right after another on the same
    // keep-alive connection alike (before, it also waited for the previous request's settle: >= 800 ms).
    await sleep(1000);  // earlier settles are done
    const settlesBefore = metricValue(await metrics(patient), 'tollway_settles_total', { mode: 'background' });
    const usedBefore = budgetUsed('deny');
    const fresh = await rawPost(patient, MODELS.deny, null);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    await sleep(1000);
    const first = await rawPost(patient, MODELS.deny, agent);
    const followOn = await rawPost(patient, MODELS.deny, agent);
    const third = await rawPost(patient, MODELS.deny, agent);
    agent.destroy();
    t.diagnostic(`timeout 1s: ${fresh.ms} ms on a fresh connection; on one keep-alive connection ${first.ms}, ` +
      `${followOn.ms}, ${third.ms} ms`);
    for (const r of [fresh, first, followOn, third]) assert.equal(r.status, 200);
    assert.ok(fresh.ms >= 380, `one Redis round trip is 400 ms here, the request took ${fresh.ms} ms`);
    for (const r of [followOn, third]) {
      assert.ok(r.ms >= 380, `the reserve is a round trip: ${r.ms} ms`);
      assert.ok(r.ms < 760, `the previous request's settle must not hold the connection: ${r.ms} ms (two round trips: >= 800)`);
    }
    // Every settle ran once, in the background: the budget holds exactly the usage the provider reported.
    await waitFor(async () => metricValue(await metrics(patient), 'tollway_settles_pending') === 0, { timeoutMs: 5000 });
    assert.equal(metricValue(await metrics(patient), 'tollway_settles_total', { mode: 'background' }), settlesBefore + 4);
    assert.equal(metricValue(await metrics(patient), 'tollway_limits_reservations_open'), 0);
    const charged = [fresh, first, followOn, third].reduce((sum, r) => sum + r.usage.total_tokens, 0);
    assert.equal(budgetUsed('deny') - usedBefore, charged, 'settled to the reported usage, once each');

    // brisk (timeout 150 ms): Redis is too slow, each counter follows its on_store_error.
    const denied = await post(brisk, MODELS.deny);
    assert.equal(denied.status, 429, denied.text);
    assert.match(JSON.parse(denied.text).error.message, /limits store could not be reached/);
    assert.ok(denied.ms < 150 + (SANITIZED ? 3000 : 1500), `denied after ${denied.ms} ms`);
    t.diagnostic(`timeout 150ms: deny answered 429 after ${denied.ms} ms`);
    assert.equal((await post(brisk, MODELS.allow)).status, 200, 'allow: fail open');
    assert.equal((await post(brisk, MODELS.local)).status, 200, 'local: counted in process');
    const m = await metrics(brisk);
    assert.equal(metricValue(m, 'tollway_ledger_redis_up'), 0);
    assert.ok(metricValue(m, 'tollway_ledger_store_error_decisions_total', { behaviour: 'deny' }) >= 1);
    assert.ok(metricValue(m, 'tollway_ledger_store_error_decisions_total', { behaviour: 'allow' }) >= 1);
    assert.ok(metricValue(m, 'tollway_ledger_store_error_decisions_total', { behaviour: 'local' }) >= 1);
    // Logged once per outage, not per request (a loaded machine can add outages of its own at a 150 ms timeout).
    assert.ok(metricValue(m, 'tollway_ledger_redis_outages_total') >= 1);
    assert.equal(brisk.logs.filter((o) => o.msg === UNREACHABLE).length, metricValue(m, 'tollway_ledger_redis_outages_total'));

    proxy.setMode({ kind: 'pass' });
    const healed = Date.now();
    await waitFor(async () => (await post(brisk, MODELS.deny)).status === 200, { timeoutMs: 10000, intervalMs: 100 });
    t.diagnostic(`strict again ${Date.now() - healed} ms after the delay was removed`);
    await brisk.waitForLog((o) => o && o.msg === REACHABLE);
    assert.equal(metricValue(await metrics(brisk), 'tollway_ledger_redis_up'), 1);
    const used = budgetUsed('deny');
    assert.equal((await post(brisk, MODELS.deny)).status, 200);
    await waitFor(() => budgetUsed('deny') > used, { timeoutMs: 5000 });
    assert.ok(budgetUsed('deny') > used, 'charged in Redis again');
  });

  it('slowed: a drain waits for the settles of requests already answered', async (t) => {
    const drainer = await startGateway({ config: testConfig({ openaiUrl: mock.url, over: { limits: limitsFor('1s') } }) });
    try {
      assert.equal((await post(drainer, MODELS.deny)).status, 200);  // its Redis connection is up
      proxy.setMode({ kind: 'delay', ms: 200, direction: 'both' });
      await sleep(500);  // the warm-up's settle is done
      const usedBefore = budgetUsed('deny');
      const r = await rawPost(drainer, MODELS.deny, null);
      assert.equal(r.status, 200);
      // Answered; its settle (400 ms through the slowed Redis) is still pending.
      const m = await metrics(drainer);
      assert.equal(metricValue(m, 'tollway_settles_pending'), 1);
      assert.notEqual(budgetUsed('deny') - usedBefore, r.usage.total_tokens, 'the reservation is held until the settle');
      const stopping = Date.now();
      const exit = await drainer.stop('SIGTERM');
      t.diagnostic(`drained in ${Date.now() - stopping} ms with one settle pending`);
      assert.equal(exit.code, 0);
      assert.equal(drainer.logs.filter((o) => o.msg === 'drain deadline reached; closing remaining connections').length, 0);
      assert.equal(budgetUsed('deny') - usedBefore, r.usage.total_tokens, 'settled before the process exited');
    } finally {
      proxy.setMode({ kind: 'pass' });
      await drainer.stop('SIGKILL');
    }
  });

  it('blackholed: every counter follows on_store_error within about limits.redis.timeout; recovers when it answers', async (t) => {
    // Both strict before the fault (the connection state changes when a request uses it).
    for (const g of [brisk, patient]) {
      const up = await waitFor(async () => (await post(g, MODELS.deny)).status === 200 &&
        metricValue(await metrics(g), 'tollway_ledger_redis_up') === 1, { timeoutMs: 10000, intervalMs: 100 });
      assert.ok(up, 'strict before the blackhole');
    }
    proxy.setMode({ kind: 'blackhole' });
    const blackholedAt = new Date().toISOString();
    const outagesBefore = { patient: metricValue(await metrics(patient), 'tollway_ledger_redis_outages_total'),
      brisk: metricValue(await metrics(brisk), 'tollway_ledger_redis_outages_total') };
    for (const [g, timeoutMs] of [[brisk, 150], [patient, 1000]]) {
      const slack = SANITIZED ? 3000 : 1500;
      const waits = [];
      for (let i = 0; i < 3; i++) {
        const d = await post(g, MODELS.deny);
        assert.equal(d.status, 429, d.text);
        assert.ok(d.ms < timeoutMs + slack, `a request waited ${d.ms} ms on a blackholed Redis (timeout ${timeoutMs} ms)`);
        waits.push(d.ms);
        const a = await post(g, MODELS.allow);
        assert.equal(a.status, 200);
        assert.ok(a.ms < timeoutMs + slack, `allow took ${a.ms} ms`);
        waits.push(a.ms);
        assert.equal((await post(g, MODELS.local)).status, 200);
      }
      t.diagnostic(`timeout ${timeoutMs} ms, Redis blackholed: deny/allow answered after ${waits.join(', ')} ms`);
      const m = await metrics(g);
      assert.equal(metricValue(m, 'tollway_ledger_redis_up'), 0);
      const name = g === brisk ? 'brisk' : 'patient';
      const outages = metricValue(m, 'tollway_ledger_redis_outages_total');
      assert.ok(outages > outagesBefore[name], `${name}: an outage`);
      assert.equal(g.logs.filter((o) => o.msg === UNREACHABLE).length, outages, `${name}: logged once per outage`);
    }
    assert.ok(proxy.stats.swallowedBytes > 0, 'the blackhole read what the gateways sent');

    proxy.setMode({ kind: 'pass' });
    for (const g of [brisk, patient]) {
      await waitFor(async () => (await post(g, MODELS.deny)).status === 200, { timeoutMs: 10000, intervalMs: 100 });
      assert.equal(metricValue(await metrics(g), 'tollway_ledger_redis_up'), 1);
      await g.waitForLog((o) => o && o.msg === REACHABLE && o.ts > blackholedAt);
      const outages = metricValue(await metrics(g), 'tollway_ledger_redis_outages_total');
      await waitFor(() => g.logs.filter((o) => o.msg === REACHABLE).length === outages);
      assert.equal(g.logs.filter((o) => o.msg === REACHABLE).length, outages, 'each outage ends with one line');
    }
  });
});
