// `tollway advise` against `tollway demo`'s running fleet (real processes): the demo runs its workload and keeps
// running; `tollway advise --control URL --admin-token-file D/admin.token --ca-file D/ca.pem --json` then reports
// north-south and east-west calls equal to the calls the demo's agents made to the LLM and to each other, north-south
// tokens equal to what the gateway accounted, and calls per trace equal to the demo's calls per task — except that a
// call whose agent dropped the trace context and whose sidecar could not repair it (two requests in flight) starts a
// trace of its own: every such orphan trace has one call and takes exactly one call from one task's trace. The
// control plane's GET /v1/advice gives the same counts; the text table fits one screen; the questionnaire example in
// docs/decision.md runs as written; SIGINT stops the demo.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SOURCE_DIR, TOLLWAY_BIN, sleep, tempDir } from '../../lib/harness.mjs';
import { httpsJson } from '../control/control_harness.mjs';

function advise(args) {
  const r = spawnSync(TOLLWAY_BIN, ['advise', ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `advise ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('tollway advise on the demo fleet', () => {
  let demo; let dir; let url; let summary; let exited; let stdout = '';

  before(async () => {
    dir = tempDir('tollway-advise-');
    demo = spawn(TOLLWAY_BIN, ['demo', '--work-dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    exited = new Promise((resolve) => demo.on('exit', (code) => resolve(code)));
    url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo printed no dashboard URL:\n${stdout}`)), 150_000);
      demo.stdout.on('data', (chunk) => {
        stdout += chunk;
        const m = stdout.match(/dashboard: (https:\/\/127\.0\.0\.1:\d+)\/ui/);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
    });
    summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
  });

  after(async () => {
    if (demo && demo.exitCode === null) demo.kill('SIGINT');
    if (exited) assert.equal(await exited, 0, stdout);
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const control = () => ['--control', url, '--admin-token-file', path.join(dir, 'admin.token'), '--ca-file', path.join(dir, 'ca.pem')];

  it('measures the calls, tokens and calls per trace the demo made', async () => {
    const w = summary.workload;
    const demoCalls = w.north_south_calls + w.east_west_calls;
    assert.equal(demoCalls, w.calls, 'every call of the workload went through a sidecar');
    // The nodes export spans every second: read until every call is in the window (or give up after 20 s).
    let m;
    for (let attempt = 0; attempt < 20; ++attempt) {
      m = JSON.parse(advise([...control(), '--json'])).measured;
      if (m.traces && m.traces.calls.total >= demoCalls) break;
      await sleep(1000);
    }
    const t = m.traces;
    assert.equal(t.calls.north_south, w.north_south_calls, JSON.stringify(t.calls));
    assert.equal(t.calls.east_west + t.calls.tool, w.east_west_calls, JSON.stringify(t.calls));
    assert.equal(t.calls.egress, 0);
    assert.equal(t.tokens.north_south, summary.tokens.total_tokens, JSON.stringify(t.tokens));
    assert.ok(t.tokens.behind_east_west > 0 && t.tokens.behind_east_west < t.tokens.north_south, JSON.stringify(t.tokens));
    assert.equal(t.tokens.east_west, 0);

    // Calls per trace: the orphan traces (one call each) split off task traces.
    const byCalls = { ...t.traces_by_calls };
    const orphans = byCalls['1'] ?? 0;
    delete byCalls['1'];
    assert.equal(t.orphan_traces, orphans, JSON.stringify(t));
    const expand = (hist) => Object.entries(hist).flatMap(([calls, n]) => Array(n).fill(Number(calls))).sort((a, b) => a - b);
    const tasks = expand(w.tasks_by_calls);
    const traces = expand(byCalls);
    assert.equal(traces.length, w.tasks, `one trace per task: ${JSON.stringify(t.traces_by_calls)} vs ${JSON.stringify(w.tasks_by_calls)}`);
    // Which task lost which calls is not known here (a task may lose more than one: under ASan both of the tools
    // agent's calls went unrepaired once), but no call is lost or counted twice.
    const sum = (list) => list.reduce((a, b) => a + b, 0);
    assert.ok(traces.at(-1) <= tasks.at(-1), `no trace has more calls than the largest task: ${traces} vs ${tasks}`);
    assert.equal(sum(tasks) - sum(traces), orphans, 'each orphan trace took one call from a task trace');
    if (orphans === 0) assert.deepEqual(t.traces_by_calls, w.tasks_by_calls);

    // Every path's tax was measured; the fleet, its leased budget and each node's memory are there.
    for (const k of ['gateway', 'sidecar_to_gateway', 'sidecar_to_sidecar']) assert.ok(t.latency_tax_us[k].count > 0, k);
    assert.ok(m.leased_budgets.some((b) => b.key.includes('mesh-llm-tokens') && b.overspend === 0), JSON.stringify(m.leased_budgets));
    assert.equal(m.fleet.nodes.length, 4);
    for (const n of m.fleet.nodes) assert.ok(n.rss_bytes > 0, `${n.id} reports its memory`);
    assert.equal(m.fleet.resources.workload.measured, false);

    // The dashboard's endpoint runs the same measurement in the control plane.
    const token = fs.readFileSync(path.join(dir, 'admin.token'), 'utf8').trim();
    const r = await httpsJson(`${url}/v1/advice`, { ca: fs.readFileSync(path.join(dir, 'ca.pem')), headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.measured.traces.calls, t.calls);
    assert.deepEqual(r.json.measured.traces.traces_by_calls, t.traces_by_calls);
    const denied = await httpsJson(`${url}/v1/advice`, { ca: fs.readFileSync(path.join(dir, 'ca.pem')) });
    assert.equal(denied.status, 401);
  });

  it('the questionnaire example in docs/decision.md runs as written', () => {
    const doc = fs.readFileSync(path.join(SOURCE_DIR, 'docs', 'decision.md'), 'utf8');
    const [, yaml] = doc.split('### The questionnaire')[1].match(/```yaml\n([\s\S]*?)```/);
    const file = path.join(dir, 'questionnaire.yaml');
    fs.writeFileSync(file, yaml);
    const a = JSON.parse(advise(['--questionnaire', file, '--json']));
    assert.deepEqual(a.questionnaire, { traffic: 'mixed', team_size: 6, sre: 'none', compliance: 'standard',
      limits: 'hard', observability: 'dashboard',
      priorities: { topology: 'high', team: 'medium', limits: 'high', compliance: 'low', observability: 'medium' },
      workload: { cpu_cores: 12, memory_mib: 24000 } });
    assert.equal(a.measured, null);
    assert.deepEqual(a.recommendations.map((r) => [r.class, r.advice]),
      [['north_south', 'gateway'], ['east_west', 'gateway'], ['tool', 'gateway']]);
  });

  it('prints one screen, with the questionnaire and the measurement side by side', () => {
    const text = advise([...control(), '--team-size', '6', '--sre', 'none', '--limits', 'hard', '--traffic', 'east-west']);
    const lines = text.trimEnd().split('\n');
    assert.ok(lines.length <= 40, `${lines.length} lines:\n${text}`);
    for (const l of lines) assert.ok([...l].length <= 120, `too wide: ${l}`);
    assert.match(text, /north-south LLM calls +gateway/);
    assert.match(text, /measurement and questionnaire disagree/);
    assert.match(text, /limits: you said hard; \d+ budget key\(s\) are leased/);
    assert.match(text, /topology: you said east-west; the traces show \d+% of calls east-west/);
  });
});
