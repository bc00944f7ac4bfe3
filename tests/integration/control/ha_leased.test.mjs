// Leased budgets across a change of writer (issue 18, HA): two control planes on one etcd share one Redis lease
// store (--lease-store); eight gateways `--control A,B` share one token budget (`ledger: leased`, the default
// on_lease_exhausted: deny and on_control_unreachable: last_lease) under skewed load (one gateway takes 80 % of the
// requests, random request sizes). Mid-budget the writer is SIGKILLed while the load goes on: the other plane
// becomes the writer and reloads the book from Redis; every gateway fails over to it; nothing reported before the
// kill is lost (the new writer's spent and Redis's aggregate are at least what the old writer had, and at the end the
// new writer's spent is exactly what the mock provider served); while it learns (one lease lifetime) it grants no
// holder more than the old writer had granted it or it already used; at no sample does the book or Redis commit more
// than the limit (Σ used + Σ unused parts of valid leases ≤ limit); and the overspend measured against the
// provider's log is within the documented bound (docs/operations.md *Leased budgets*, B = R + K + U + S with this
// test's settings) and ≤ 1 % of the budget. Real processes on loopback.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { startMock, postJson, tempDir, unusedPort, runTollway, sleep } from '../../lib/harness.mjs';
import { startRedis } from '../../lib/redis.mjs';
import { usageFor } from '../../mock/provider.mjs';
import { policyDir, startControl, startManagedGateway, startEtcd, eventually, sha256, BASE, MODELS, providers }
  from './control_harness.mjs';

const PREFIX = '/tollway/leased-ha';
const NODES = Array.from({ length: 8 }, (_, i) => `gw-${i}`);
const tokenOf = (id) => `token-of-${id}`;
const LIMIT = 40_000;
const KILL_AT = 0.35;  // the writer dies once the provider has served this share of the budget
const SYNC_MS = 200;
const LEASE_TTL_MS = 2000;
const WRITER_TTL_S = 2;  // a takeover takes 1.3 to 2.7 s: about a lease lifetime, so some leases run out meanwhile
const LIMITS = `limits:
  ledger: leased
  budgets:
    - {name: shared-tokens, match: {model: "gpt-shared*"}, unit: total_tokens, limit: ${LIMIT}, period: day}
`;

// A deterministic pseudo-random sequence, so a failure can be replayed.
function rng(seed) {
  let s = seed;
  return () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
}
const words = (n) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ');

// redis-cli without blocking the event loop (the load runs meanwhile).
const redisRaw = (port, ...args) => new Promise((resolve, reject) => {
  execFile('redis-cli', ['-p', String(port), '--raw', ...args], (e, stdout) => (e ? reject(e) : resolve(stdout)));
});
// One budget key's hash in the lease store: {limit, holders: {id: {used, granted, expires_ms, closed}}}.
async function storedKey(port, key) {
  const lines = (await redisRaw(port, 'HGETALL', `tollway:leases:key:${key}`)).split('\n');
  const state = { limit: 0, holders: {} };
  for (let i = 0; i + 1 < lines.length; i += 2) {
    if (lines[i] === 'limit') state.limit = Number(lines[i + 1]);
    if (!lines[i].startsWith('holder:')) continue;
    const [used, granted, expiresMs, closed] = lines[i + 1].split(' ').map(Number);
    state.holders[lines[i].slice('holder:'.length)] = { used, granted, expiresMs, closed: closed === 1 };
  }
  return state;
}
// What a stored key commits at nowMs: every holder's use plus the unused part of every valid lease.
function committed(state, nowMs) {
  let spent = 0; let leased = 0;
  for (const h of Object.values(state.holders)) {
    spent += h.used;
    if (!h.closed && h.expiresMs > nowMs) leased += Math.max(0, h.granted - h.used);
  }
  return { spent, leased };
}

describe('leased budgets across a writer change: two control planes, one Redis, eight gateways', () => {
  let mock; let etcd; let redis; let policy; let a; let b; const gw = {};
  let budgetKey;
  const served = () => mock.requests.filter((r) => r.json?.model?.startsWith('gpt-shared'));
  const servedTokens = () => served().reduce((sum, r) => sum + usageFor(r.json).total, 0);
  const startPlane = () => startControl({ etcd: etcd.url, prefix: PREFIX, stateDir: tempDir('tollway-control-'),
    extraArgs: ['--writer-lease-ttl', `${WRITER_TTL_S}s`, '--lease-sync-interval', `${SYNC_MS}ms`,
      '--lease-ttl', `${LEASE_TTL_MS}ms`, '--lease-store', `redis://127.0.0.1:${redis.port}`] });

  before(async () => {
    mock = await startMock();
    etcd = await startEtcd();
    redis = await startRedis(await unusedPort());
    policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers(mock.url, mock.url));
    policy.write('models.yaml', MODELS);
    policy.write('limits.yaml', LIMITS);
    policy.write('nodes.yaml', `nodes:\n${NODES.map((id) => `  ${id}:\n    labels: {role: gateway}\n    token_sha256: ${sha256(tokenOf(id))}\n`).join('')}`);
    const published = await runTollway(['control', 'publish', policy.dir, '--etcd', etcd.url, '--prefix', PREFIX]);
    assert.equal(published.code, 0, published.stderr);
    a = await startPlane();
    await eventually(async () => (await a.fleet()).role === 'writer', 15000, 'the first plane the writer');
    b = await startPlane();
    await eventually(async () => (await b.fleet()).role === 'follower', 15000, 'the second plane a follower');
    await Promise.all(NODES.map(async (id) => {
      gw[id] = await startManagedGateway({ control: `${a.url},${b.url}`, node: id, token: tokenOf(id),
        stateDir: tempDir(`tollway-${id}-`) });
    }));
    // Past the writer's learning period after its start (it began before the gateways did).
    await sleep(LEASE_TTL_MS + 100);
  });
  after(async () => {
    await Promise.all(Object.values(gw).map((g) => g?.stop('SIGKILL')));
    await a?.stop('SIGKILL');
    await b?.stop();
    await etcd?.stop();
    await redis?.kill();
    await mock?.close();
  });

  it('the writer SIGKILLed mid-budget: the follower takes over, nothing reported is lost, nothing granted twice, overspend within the bound', async (t) => {
    const random = rng(18);
    // The load: four requests at a time, 80 % of them on gw-0, until told to stop.
    const load = { stop: false, admitted: 0, denied: 0, deniedInARow: 0, other: [] };
    const loadDone = (async () => {
      while (!load.stop) {
        const batch = Array.from({ length: 4 }, () => {
          const node = random() < 0.8 ? NODES[0] : NODES[1 + Math.floor(random() * (NODES.length - 1))];
          return postJson(`${gw[node].url}/v1/chat/completions`, {
            model: 'gpt-shared-4o', max_tokens: 8 + Math.floor(random() * 56),
            messages: [{ role: 'user', content: words(5 + Math.floor(random() * 60)) }],
          });
        });
        for (const r of await Promise.all(batch)) {
          if (r.status === 200) { load.admitted += 1; load.deniedInARow = 0; } else if (r.status === 429) {
            load.denied += 1; load.deniedInARow += 1;
          } else load.other.push(`${r.status} ${r.text}`);
        }
        if (load.deniedInARow > 0) await sleep(20);  // no lease room: do not spin while the fleet waits
      }
    })();

    // The samplers: the lease store (whoever writes it) and the writer's own book, every 50 ms, for the whole run.
    const samples = { store: 0, book: 0, whileLearning: 0, violations: [], learning: null, learningViolations: [] };
    let writer = a;
    let sampling = true;
    let atKill = null;  // the store's state right after the kill: what the dead writer last wrote
    const sampler = (async () => {
      while (sampling) {
        if (budgetKey) {
          const nowMs = Date.now();
          const state = await storedKey(redis.port, budgetKey);
          const c = committed(state, nowMs);
          samples.store += 1;
          if (c.spent + c.leased > LIMIT) samples.violations.push(`store at ${nowMs}: spent ${c.spent} + leased ${c.leased} > ${LIMIT}`);
          if (samples.learning && atKill && nowMs < samples.learning.until - 200) {
            samples.whileLearning += 1;
            for (const [id, h] of Object.entries(state.holders)) {
              const before = atKill.holders[id]?.granted ?? 0;
              if (h.granted > Math.max(before, h.used))
                samples.learningViolations.push(`${id} granted ${h.granted} while learning (held ${before}, used ${h.used})`);
            }
          }
          if (writer) {
            try {
              const f = await writer.fleet();
              const bk = f.role === 'writer' && f.budgets.find((x) => x.key === budgetKey);
              if (bk) {
                samples.book += 1;
                if (bk.spent + bk.leased > LIMIT) samples.violations.push(`book at ${Date.now()}: spent ${bk.spent} + leased ${bk.leased} > ${LIMIT}`);
              }
            } catch { /* the writer being killed */ }
          }
        }
        await sleep(50);
      }
    })();

    try {
      // Mid-budget: the writer's view of what was reported, then SIGKILL.
      await eventually(async () => servedTokens() >= LIMIT * KILL_AT, 30000, `${KILL_AT * 100} % of the budget served`);
      const reported = (await a.fleet()).budgets.find((x) => x.key.startsWith('budget|shared-tokens|'));
      budgetKey = reported.key;
      writer = null;
      const servedAtKill = servedTokens();
      await a.stop('SIGKILL');
      const killedAt = Date.now();
      atKill = await storedKey(redis.port, budgetKey);
      const storedAtKill = committed(atKill, killedAt);
      assert.ok(storedAtKill.spent >= reported.spent,
        `the store has ${storedAtKill.spent} spent, the writer had reported ${reported.spent}`);

      // The follower takes over within the writer lease's ttl (+ room for a loaded machine) and reloads the book.
      await eventually(async () => (await b.fleet()).role === 'writer', (WRITER_TTL_S * 4 / 3 + 8) * 1000, 'B the writer');
      const takeover = Date.now() - killedAt;
      const reloaded = await b.waitForLog((o) => o.msg?.startsWith('leased budgets reloaded for the writer role'), 5000);
      const learningFrom = Date.parse(reloaded.ts);
      samples.learning = { from: learningFrom, until: learningFrom + LEASE_TTL_MS };
      writer = b;

      // Every gateway fails over to B: each has a holder there that reported after B took over.
      const failedOver = await eventually(async () => {
        const bk = (await b.fleet()).budgets.find((x) => x.key === budgetKey);
        const fresh = NODES.filter((id) => bk?.holders.some((h) => h.holder.startsWith(`${id}/`) && !h.closed &&
          h.expires_in_ms > LEASE_TTL_MS - (Date.now() - killedAt)));
        return fresh.length === NODES.length && { at: Date.now(), bk };
      }, 15000, 'every gateway to report to the new writer');
      // Nothing reported before the kill is lost.
      assert.ok(failedOver.bk.spent >= storedAtKill.spent,
        `the new writer has ${failedOver.bk.spent} spent, the old one had written ${storedAtKill.spent}`);
      // Every gateway reached the new writer while it learned, so none stays cut off: K = 0.
      const allReportedWhileLearning = failedOver.at < samples.learning.until;

      // Past the learning period the budget is drained: the fleet is refused 60 times in a row.
      await eventually(async () => Date.now() > samples.learning.until + 500, 10000, 'the learning period to end');
      load.deniedInARow = 0;
      await eventually(async () => load.deniedInARow >= 60, 30000, 'the budget to run out');
      load.stop = true;
      await loadDone;

      // Everything served is reported, to the new writer.
      const total = servedTokens();
      await eventually(async () => (await b.fleet()).budgets.find((x) => x.key === budgetKey).spent === total, 8000,
        `the new writer to count all ${total} tokens the provider served`);
      assert.ok(committed(await storedKey(redis.port, budgetKey), Date.now()).spent === total,
        'the lease store holds what the new writer counts');
      sampling = false;
      await sampler;

      // The bound (docs/operations.md): B = R + K + U + S. U = S = 0 (deny, last_lease). R: output beyond the
      // reservation (max_tokens; the mock's input count is whitespace words, never more than the tokenizer's).
      // K: the unused leases of nodes cut off past the new writer's learning period — none when every gateway
      // reported to it while it learned; otherwise what the store had leased out at the kill.
      const R = served().reduce((sum, r) => sum + Math.max(0, usageFor(r.json).completion - r.json.max_tokens), 0);
      const K = allReportedWhileLearning ? 0 : storedAtKill.leased;
      const bound = R + K;
      const overspend = Math.max(0, total - LIMIT);
      const summary = `budget ${LIMIT}: served ${total} over ${load.admitted} requests (${load.denied} denied); ` +
        `${servedAtKill} served at the kill, ${reported.spent} reported, ${storedAtKill.leased} leased out; ` +
        `takeover ${takeover} ms, every gateway on the new writer ${failedOver.at - killedAt} ms after the kill; ` +
        `overspend ${overspend}, bound ${bound} (R ${R}, K ${K}); ${samples.store} store samples (${samples.whileLearning} ` +
        `while the new writer learned), ${samples.book} book samples`;
      t.diagnostic(summary);
      console.log(summary);
      assert.deepEqual(load.other, [], 'only 200 and 429 answers');
      assert.deepEqual(samples.violations, [], 'capacity committed beyond the limit');
      assert.deepEqual(samples.learningViolations, [], 'the new writer granted new capacity while learning');
      assert.ok(samples.store > 20 && samples.book > 10 && samples.whileLearning > 3,
        `too few samples (${samples.store} store, ${samples.whileLearning} of them while learning, ${samples.book} book)`);
      assert.ok(overspend <= bound, `overspend ${overspend} is over the bound ${bound}`);
      assert.ok(overspend <= LIMIT / 100, `overspend ${overspend} is over 1 % of ${LIMIT}`);
      assert.ok(total >= LIMIT * 0.9, `only ${total} of ${LIMIT} was usable`);
      assert.ok(load.denied > 0, 'the budget never ran out');
    } finally {
      load.stop = true;
      sampling = false;
      await loadDone;
      await sampler;
    }
  });
});
