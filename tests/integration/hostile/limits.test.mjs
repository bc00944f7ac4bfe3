// The process-wide limits against abusive clients, on a gateway with two workers (the limits hold for the
// process, not per worker thread):
//  - limits.max_connections_per_peer: one address (127.0.0.2) opening 30 connections keeps 10; the rest are closed
//    at accept, counted, and the control client (127.0.0.1) is not slowed;
//  - limits.max_connections: a flood from several addresses stops at the total; new connections are closed at
//    once, open ones (the control client's) go on;
//  - limits.max_requests_in_flight: a burst beyond it is shed at once with 503 overloaded, retry-after and the
//    route's API's error format, the admitted requests keep their latency, and the gateway recovers by itself;
//  - a flood past the descriptor limit (the gateway under prlimit --nofile 128): accepting pauses (logged once,
//    counted in tollway_accept_errors_total) instead of spinning, the admin listener still answers /healthz and
//    /metrics, and the data listener serves again once the flood is gone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { startGateway, testConfig, getText, metricValue, assertOpenAIError, waitFor, SANITIZED } from '../../lib/harness.mjs';
import {
  startMockProcess, controlClient, duringAttack, openConnection, closedWithin, cpuSeconds, sleep, checkControlP99,
} from './hostile_lib.mjs';

// How long each attack runs while the control client is sampled (bench/hostile/run.sh runs them longer).
const ATTACK_MS = Number(process.env.HOSTILE_ATTACK_MS ?? 2000);
const QUIET_MS = ATTACK_MS / 2;  // the control client's quiet sample, taken before each attack

function chat(port, { scenario, localAddress } = {}) {
  const body = JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] });
  return new Promise((resolve) => {
    const start = Date.now();
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', agent: false,
      localAddress, headers: { 'content-type': 'application/json', ...(scenario ? { 'x-mock-scenario': scenario } : {}) } },
    (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text, ms: Date.now() - start }));
    });
    req.on('error', (e) => resolve({ status: e.code, ms: Date.now() - start }));
    req.end(body);
  });
}

describe('connection and request limits', { timeout: 120000 }, () => {
  let mock; let gw; let control;
  before(async () => {
    mock = await startMockProcess();
    gw = await startGateway({ workers: 2, config: testConfig({ openaiUrl: mock.url, over: {
      gateway: { workers: 2 },
      limits: { max_connections: 60, max_connections_per_peer: 10, max_requests_in_flight: 6 },
      timeouts: { idle: `${2 * ATTACK_MS + 3000}ms` },  // the flood's connections are held through an attack
    } }) });
    control = controlClient(gw.port);
    await control.sample(300);  // warm-up
  });
  after(async () => {
    control?.close();
    await gw?.stop('SIGKILL');
    await mock?.close();
  });

  const check = (name, quiet, attack) => checkControlP99(control, name, quiet, attack, QUIET_MS);
  const refused = async (reason) => metricValue((await getText(`${gw.adminUrl}/metrics`)).text,
    'tollway_connections_refused_total', { reason });

  it('max_connections_per_peer: one address keeps 10 connections, the rest are closed at accept', async () => {
    const quiet = await duringAttack(control, QUIET_MS);  // just before: the machine's load drifts
    const before = await refused('max_connections_per_peer');
    let opened = 0; let running = true; const held = [];
    const attacker = async () => {  // keeps reconnecting from 127.0.0.2: a flood of one peer
      while (running) {
        const s = await openConnection(gw.port, { localAddress: '127.0.0.2' });
        if (!s) continue;
        opened++;
        // Refused: again after 20 ms (up to 1,500 attempts a second from the 30; faster, this process's own
        // event loop, which the control client shares, becomes what is measured).
        if (await closedWithin(s, 200)) { await sleep(20); continue; }
        held.push(s);
        await new Promise((r) => s.once('close', r));
      }
    };
    const attackers = Array.from({ length: 30 }, attacker);
    const attack = await duringAttack(control, ATTACK_MS);
    const stillOpen = held.filter((s) => !s.destroyed).length;
    running = false;
    for (const s of held) s.destroy();
    await Promise.all(attackers);
    await check(`per-peer limit (30 connections from 127.0.0.2, reconnecting; ${opened} attempts)`, quiet, attack);
    assert.equal(stillOpen, 10);
    assert.ok(await refused('max_connections_per_peer') - before >= 20);
    // Another address is not affected by 127.0.0.2's count.
    const other = await chat(gw.port, { localAddress: '127.0.0.3' });
    assert.equal(other.status, 200);
  });

  it('max_connections: a flood from many addresses stops at the total', async () => {
    const quiet = await duringAttack(control, QUIET_MS);  // just before: the machine's load drifts
    await waitFor(async () => metricValue((await getText(`${gw.adminUrl}/metrics`)).text, 'tollway_open_connections') <= 1);
    const before = await refused('max_connections');
    const socks = [];
    for (let a = 10; a < 20; a++)  // 10 addresses x 8: 80 connections, none over the per-peer limit
      for (let i = 0; i < 8; i++) socks.push(await openConnection(gw.port, { localAddress: `127.0.0.${a}` }));
    try {
      const closed = await Promise.all(socks.map((s) => (s ? closedWithin(s, 200) : true)));
      const survived = socks.filter((s, i) => !closed[i]);
      const attack = await duringAttack(control, ATTACK_MS);
      await check('total limit (80 connections from 10 addresses)', quiet, attack);
      // 60 in all: the control client's connection and 59 of the flood's.
      assert.equal(survived.length, 59);
      assert.ok(await refused('max_connections') - before >= 21);
      const fresh = await chat(gw.port, { localAddress: '127.0.0.30' });
      assert.notEqual(fresh.status, 200, 'a new connection over the total is refused');
    } finally {
      for (const s of socks) s?.destroy();
    }
    await waitFor(async () => (await chat(gw.port, { localAddress: '127.0.0.30' })).status === 200);
  });

  it('max_requests_in_flight: a burst is shed with 503 overloaded and retry-after, and the gateway recovers', async () => {
    const burst = await Promise.all(Array.from({ length: 30 }, (_, i) =>
      chat(gw.port, { scenario: 'slow-first-byte:400', localAddress: `127.0.1.${i + 1}` })));
    const ok = burst.filter((r) => r.status === 200);
    const shed = burst.filter((r) => r.status === 503);
    assert.equal(ok.length + shed.length, 30, JSON.stringify(burst.map((r) => r.status)));
    // At most 6 in flight; the control client's keep-alive connection is idle, so 6 of the burst get through.
    assert.equal(ok.length, 6);
    for (const r of shed) {
      assert.equal(r.headers['retry-after'], '1');
      assertOpenAIError(JSON.parse(r.text), { code: 'overloaded' });
      assert.ok(r.ms < 300, `shed after ${r.ms} ms: not queued behind the admitted requests`);
    }
    for (const r of ok) assert.ok(r.ms < 400 + 600, `admitted request took ${r.ms} ms`);
    const metrics = (await getText(`${gw.adminUrl}/metrics`)).text;
    assert.ok(metricValue(metrics, 'tollway_requests_shed_total') >= 24);
    assert.equal(metricValue(metrics, 'tollway_requests_in_flight'), 0);
    const again = await Promise.all(Array.from({ length: 6 }, () => chat(gw.port)));
    assert.deepEqual(again.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
  });
});

describe('a connection flood past the descriptor limit', { timeout: 120000 }, () => {
  // Not under the sanitizers: UBSan's vptr check tests that an object's memory is readable by writing it into a
  // pipe, which cannot be opened when the process is out of descriptors — so every virtual call there is reported
  // as an "invalid vptr" and the process halts (seen: shared_ptr's release in the admin listener).
  const sanitizerCannotRunOutOfDescriptors = SANITIZED
    && 'the sanitizers need descriptors of their own to check memory (UBSan reports a false invalid vptr)';
  it('pauses accepting instead of spinning, keeps the admin listener answering, and recovers',
    { skip: sanitizerCannotRunOutOfDescriptors }, async () => {
    const mock = await startMockProcess();
    const gw = await startGateway({ workers: 2, config: testConfig({ openaiUrl: mock.url, over: {
      gateway: { workers: 2 }, timeouts: { idle: '30s', header_read: '30s' } } }) });
    try {
      execFileSync('prlimit', ['--pid', String(gw.proc.pid), '--nofile=128:128']);
      const flood = [];
      for (let i = 0; i < 300; i += 50)
        flood.push(...await Promise.all(Array.from({ length: 50 }, () => openConnection(gw.port))));
      const paused = await gw.waitForLog((o) => o.msg?.startsWith('accepting paused'), 5000);
      assert.equal(paused.reason, 'emfile');
      // The control thread is not starved and has its spare descriptor: /healthz and /metrics answer.
      const cpuBefore = cpuSeconds(gw.proc.pid);
      for (let i = 0; i < 5; i++) {
        const health = await getText(`${gw.adminUrl}/healthz`);
        assert.equal(health.status, 200);
      }
      const metrics = (await getText(`${gw.adminUrl}/metrics`)).text;
      assert.ok(metricValue(metrics, 'tollway_accept_errors_total', { listener: 'api', reason: 'emfile' }) > 0);
      await sleep(1000);
      const cpu = cpuSeconds(gw.proc.pid) - cpuBefore;
      process.stderr.write(`hostile: descriptor flood: ${cpu.toFixed(2)} s of CPU over ~1.5 s while paused\n`);
      assert.ok(cpu < 0.5, `${cpu} s of CPU: accepting spins`);
      const failures = metricValue((await getText(`${gw.adminUrl}/metrics`)).text, 'tollway_accept_errors_total');
      const lines = gw.logs.filter((o) => o.msg?.startsWith('accepting paused')).length;
      assert.ok(failures >= 10 && lines <= 6, `${lines} log lines for ${failures} failed accepts: one per episode`);
      for (const s of flood) s?.destroy();
      const served = await waitFor(async () => (await chat(gw.port)).status === 200, { timeoutMs: 5000 });
      assert.ok(served, 'the data listener serves again after the flood');
      await gw.waitForLog((o) => o.msg === 'accepting again', 5000);
    } finally {
      await gw.stop('SIGKILL');
      await mock.close();
    }
  });
});
