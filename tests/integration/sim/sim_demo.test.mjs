// `tollway sim` validated against `tollway demo` (issue 21): the demo runs 450 tasks, its traces are read from the
// control plane's trace window while it runs, and its overspend (every budget in its summary: spent beyond the
// limit) is measured. Its complete warm tasks are split, held out (demo_traces.mjs): the even-numbered ones give
// the per-pass costs, the LLM's latency, the orchestrator's own time and the call mix of the demo's scenario
// (demo_scenario.mjs); the odd-numbered ones give the measured latency tax (the tollway spans' self time on each
// task's critical path, median over tasks). `tollway sim` composes the costs through the graph into a
// hybrid-topology tax that must be within 15 % of the measured one, and must predict the same overspend (0: the
// demo's budgets never run out, so this part checks only that nothing is predicted beyond them). The costs come
// from this run, not from docs/benchmarks.md: the demo's dozen processes share the machine's cores, and a pass
// costs about ten times what bench/hops measures (docs/decision.md, "## sim").
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TOLLWAY_BIN, sleep, tempDir } from '../../lib/harness.mjs';
import { httpsJson } from '../control/control_harness.mjs';
import { measureDemo } from './demo_traces.mjs';
import { demoScenario } from './demo_scenario.mjs';

const TASKS = 450;

function startDemo(dir) {
  const proc = spawn(TOLLWAY_BIN, ['demo', '--work-dir', dir, '--duration', '120s', '--tasks', String(TASKS)],
                     { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = ''; let stderr = '';
  proc.stdout.on('data', (c) => { stdout += c; });
  proc.stderr.on('data', (c) => { stderr += c; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const dashboard = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no dashboard line:\n${stdout}\n${stderr}`)), 120_000);
    proc.stdout.on('data', () => {
      const m = stdout.match(/dashboard: (https:\/\/127\.0\.0\.1:\d+)\/ui/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => reject(new Error(`the demo exited ${code}:\n${stdout}\n${stderr}`)));
  });
  return { proc, exited, dashboard, output: () => `${stdout}\n${stderr}` };
}

describe('tollway sim on the demo', () => {
  it('predicts the demo\'s measured latency tax within 15 % and its overspend', { timeout: 180_000 }, async () => {
    const dir = tempDir('tollway-sim-demo-');
    const demo = startDemo(dir);
    try {
      const url = await demo.dashboard;
      const token = fs.readFileSync(path.join(dir, 'admin.token'), 'utf8').trim();
      const ca = fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8');
      const get = async (p) => {
        const r = await httpsJson(`${url}${p}`, { ca, headers: { authorization: `Bearer ${token}` } });
        assert.equal(r.status, 200, `${p}: ${r.text}`);
        return r.json;
      };
      // Nodes export every second: read once the window has stopped growing (the same span count 1.5 s apart).
      let list; let held = -1;
      for (let i = 0; i < 20; ++i) {
        list = await get('/v1/traces?limit=1000');
        if (list.spans_held === held) break;
        held = list.spans_held;
        await sleep(1500);
      }
      const traces = [];
      for (const t of list.traces) traces.push(await get(`/v1/traces/${t.trace_id}`));
      const measured = measureDemo(traces);
      const summary = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
      assert.equal(measured.tasks, summary.workload.tasks, 'every task has its trace in the window');
      const counts = { ...measured, costs: undefined };
      assert.ok(measured.validationTasks >= 150, `complete warm tasks: ${JSON.stringify(counts)}`);

      // Overspend as the demo measured it: what each budget spent beyond its limit.
      const overspend = summary.budgets.reduce((sum, b) => sum + Math.max(0, b.spent - b.limit), 0);
      const mesh = summary.budgets.find((b) => b.name === 'mesh-llm-tokens');
      assert.ok(mesh, JSON.stringify(summary.budgets));

      const scenarioFile = path.join(dir, 'demo-scenario.yaml');
      fs.writeFileSync(scenarioFile, demoScenario(measured.costs, {
        tasksPerSecond: (summary.workload.tasks / summary.workload.seconds).toFixed(3),
        seconds: summary.workload.seconds.toFixed(3), meshLimit: mesh.limit }));
      const sim = spawnSync(TOLLWAY_BIN, ['sim', scenarioFile, '--json'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(sim.status, 0, sim.stderr);
      const result = JSON.parse(sim.stdout);
      const hybrid = result.latency.topologies.find((t) => t.topology === 'hybrid');
      const error = (hybrid.tax_p50_us - measured.taxMedianUs) / measured.taxMedianUs;
      const ms = (v) => (v / 1000).toFixed(3);
      const report = `measured median tax ${ms(measured.taxMedianUs)} ms over ${measured.validationTasks} held-out ` +
        `tasks (costs from ${measured.calibrationTasks} others); sim (hybrid) ${ms(hybrid.tax_p50_us)} ms; ` +
        `error ${(100 * error).toFixed(1)} %; mean tax measured ${ms(measured.taxMeanUs)} ms, sim ` +
        `${ms(hybrid.tax_mean_us)} ms; overspend measured ${overspend}, simulated ${result.budget.overspend}`;
      console.log(report);
      fs.writeFileSync(path.join(dir, 'validation.txt'), `${report}\n`);
      assert.ok(Math.abs(error) <= 0.15, report);
      assert.equal(overspend, 0, `the demo's budgets: ${JSON.stringify(summary.budgets)}`);
      assert.equal(result.budget.overspend, overspend, report);
      assert.equal(result.budget.within_bound, true);
    } finally {
      demo.proc.kill('SIGTERM');
      const end = await demo.exited;
      assert.ok(end.code === 0 || end.signal === 'SIGTERM' || end.code === 143,
                `demo: ${JSON.stringify(end)}\n${demo.output()}`);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
