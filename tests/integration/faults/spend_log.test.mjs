// Dependency faults, the spend log (limits.spend_log, SQLite): its disk full (a 256 KiB tmpfs filled up: ENOSPC)
// and its database locked by another process (python3's sqlite3 holding BEGIN EXCLUSIVE). Nothing accepted is
// lost silently: a batch that cannot be committed is kept and retried, the failure is logged once per episode and
// counted (tollway_limits_spend_log_*), and limits.spend_log.on_error applies meanwhile — `allow` serves, `deny`
// answers 503 spend_log_unavailable — until a commit succeeds; then every record is in the file. A shutdown while
// the disk is still full logs and counts what it could not write. docs/operations.md, "Spend log".
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import {
  startMock, startGateway, testConfig, getText, metricValue, waitFor, tempDir, assertOpenAIError,
} from '../../lib/harness.mjs';

const COMMIT_FAILED = 'spend log: commit failed; records kept and retried';
const RECOVERED = 'spend log: commits succeed again';
const LOST_AT_SHUTDOWN = 'spend log: records lost at shutdown; commits still fail';

const sqlite = (file, query) => spawnSync('sqlite3', [file, query], { encoding: 'utf8' }).stdout.trim();
const rows = (file) => Number(sqlite(file, 'SELECT count(*) FROM spend'));
async function metrics(gw) { return (await getText(`${gw.adminUrl}/metrics`)).text; }
async function post(gw, n) {
  const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content: `spend fault ${n}` }] }) });
  return { status: r.status, text: await r.text() };
}
function gatewayConfig(mock, spendPath, onError) {
  return testConfig({ openaiUrl: mock.url, over: {
    limits: { spend_log: { path: spendPath, flush_interval: '20ms', on_error: onError },
      budgets: [{ name: 'day', unit: 'total_tokens', limit: 10000000, period: 'day' }] },
  } });
}

// Fills the file system holding `dir` with one file until ENOSPC; returns its path.
function fillDisk(dir) {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const block = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (e) {
    if (e.code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

describe('faults: the spend log on a full disk (ENOSPC), on_error: allow', () => {
  let mock; let gw; let mnt; let mounted = false; let skipReason = null;
  before(async () => {
    mock = await startMock();
    mnt = tempDir('tollway-faults-enospc-');
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt], { encoding: 'utf8' });
    if (m.status !== 0) { skipReason = `mounting a 256 KiB tmpfs is not permitted here: ${(m.stderr || m.error?.message || '').trim()}`; return; }
    mounted = true;
    gw = await startGateway({ config: gatewayConfig(mock, path.join(mnt, 'spend.db'), 'allow') });
  });
  after(async () => {
    await gw?.stop();
    await mock?.close();
    if (mounted) spawnSync('umount', [mnt]);
  });

  it('keeps serving, keeps and retries the records, alarms once, writes them all once there is room', async (t) => {
    if (skipReason) { t.skip(skipReason); return; }
    const db = path.join(mnt, 'spend.db');
    assert.equal((await post(gw, 0)).status, 200);
    await waitFor(async () => metricValue(await metrics(gw), 'tollway_limits_spend_records_total') === 1);
    const filler = fillDisk(mnt);
    const full = Date.now();

    let served = 1;
    for (let i = 1; i <= 10; i++) {
      const r = await post(gw, i);
      assert.equal(r.status, 200, `on_error: allow serves while the disk is full: ${r.text}`);
      served++;
    }
    const alarm = await gw.waitForLog((o) => o && o.msg === COMMIT_FAILED, 5000);
    assert.match(alarm.error, /full/i, JSON.stringify(alarm));
    t.diagnostic(`alarm ${Date.now() - full} ms after the disk filled: ${alarm.step}: ${alarm.error}`);
    let m = await waitFor(async () => {
      const text = await metrics(gw);
      return metricValue(text, 'tollway_limits_spend_log_commit_failures_total') >= 2 ? text : null;
    }, { timeoutMs: 5000 });
    assert.ok(m, 'the writer retries by itself');
    assert.equal(metricValue(m, 'tollway_limits_spend_log_failing'), 1);
    assert.equal(metricValue(m, 'tollway_limits_spend_log_records_waiting'), served - 1);
    assert.equal(metricValue(m, 'tollway_limits_spend_records_dropped_total'), 0, 'nothing accepted is dropped');
    assert.equal(metricValue(m, 'tollway_limits_spend_records_total'), 1);
    assert.equal(gw.logs.filter((o) => o.msg === COMMIT_FAILED).length, 1, 'logged once per episode, not per attempt');

    fs.rmSync(filler);
    const room = Date.now();
    const recovered = await gw.waitForLog((o) => o && o.msg === RECOVERED, 5000);
    t.diagnostic(`written ${Date.now() - room} ms after there was room: ${recovered.records} records, failed for ${recovered.failed_for_ms} ms`);
    m = await waitFor(async () => {
      const text = await metrics(gw);
      return metricValue(text, 'tollway_limits_spend_records_total') === served ? text : null;
    }, { timeoutMs: 5000 });
    assert.ok(m, 'every served request is committed after the disk has room again');
    assert.equal(metricValue(m, 'tollway_limits_spend_log_failing'), 0);
    assert.equal(metricValue(m, 'tollway_limits_spend_log_records_waiting'), 0);
    assert.equal(rows(db), served);

    // Full again and shut down before there is room: one last attempt, then the loss is logged and counted.
    const again = fillDisk(mnt);
    for (let i = 0; i < 3; i++) assert.equal((await post(gw, 100 + i)).status, 200);
    await waitFor(() => gw.logs.filter((o) => o.msg === COMMIT_FAILED).length === 2, { timeoutMs: 5000 });
    const stopped = await gw.stop();
    assert.equal(stopped.code, 0);
    const lost = gw.logs.find((o) => o.msg === LOST_AT_SHUTDOWN);
    assert.ok(lost, 'a shutdown that cannot write says so');
    assert.equal(lost.records, 3);
    gw = null;
    fs.rmSync(again);
    assert.equal(rows(db), served, 'what was committed stays committed');
  });
});

describe('faults: the spend log locked by another process, on_error: deny', () => {
  let mock; let gw; let dir; let locker;
  before(async () => {
    mock = await startMock();
    dir = tempDir('tollway-faults-locked-');
    gw = await startGateway({ config: gatewayConfig(mock, path.join(dir, 'spend.db'), 'deny') });
  });
  after(async () => { locker?.kill('SIGKILL'); await gw?.stop(); await mock?.close(); });

  it('503 spend_log_unavailable once a commit failed, served again once the lock is gone, every record kept', async (t) => {
    const db = path.join(dir, 'spend.db');
    assert.equal((await post(gw, 0)).status, 200);
    await waitFor(async () => metricValue(await metrics(gw), 'tollway_limits_spend_records_total') === 1);

    locker = spawn('python3', ['-c', [
      'import sqlite3, sys',
      `c = sqlite3.connect(${JSON.stringify(db)}, isolation_level=None)`,
      "c.execute('BEGIN EXCLUSIVE')",
      "print('locked', flush=True)",
      'sys.stdin.read()',
      "c.execute('COMMIT')",
    ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise((resolve, reject) => {
      locker.stdout.on('data', (d) => { if (String(d).includes('locked')) resolve(); });
      locker.on('exit', (code) => reject(new Error(`python3 sqlite3 locker exited with ${code}`)));
    });

    // Accepted before any commit failed: served; its record waits behind the lock (5 s busy timeout per attempt).
    assert.equal((await post(gw, 1)).status, 200);
    const locked = Date.now();
    const alarm = await gw.waitForLog((o) => o && o.msg === COMMIT_FAILED, 10000);
    assert.match(alarm.error, /locked/, JSON.stringify(alarm));
    t.diagnostic(`alarm ${Date.now() - locked} ms after the lock (busy timeout 5 s): ${alarm.step}: ${alarm.error}`);
    const denied = await post(gw, 2);
    assert.equal(denied.status, 503, denied.text);
    const e = assertOpenAIError(JSON.parse(denied.text), { code: 'spend_log_unavailable' });
    assert.match(e.message, /spend log cannot record charges/);
    const m = await metrics(gw);
    assert.equal(metricValue(m, 'tollway_limits_spend_log_failing'), 1);
    assert.equal(metricValue(m, 'tollway_limits_denials_total', { rule: 'spend_log' }), 1);
    assert.equal(metricValue(m, 'tollway_limits_spend_log_records_waiting'), 1);

    locker.stdin.end();  // COMMIT, release
    const released = Date.now();
    await gw.waitForLog((o) => o && o.msg === RECOVERED, 10000);
    t.diagnostic(`commits succeed ${Date.now() - released} ms after the lock was released`);
    assert.equal((await post(gw, 3)).status, 200, 'served again once a commit succeeded');
    await waitFor(async () => metricValue(await metrics(gw), 'tollway_limits_spend_records_total') === 3, { timeoutMs: 5000 });
    assert.equal(rows(db), 3, 'the record held during the lock was written');
    assert.equal(metricValue(await metrics(gw), 'tollway_limits_spend_records_dropped_total'), 0);
  });
});
