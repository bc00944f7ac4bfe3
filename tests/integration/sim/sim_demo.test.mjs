// `tollway sim` validated against `tollway demo` (issue 21), three demo runs.
// 1. Latency: the demo runs 450 tasks, its traces are read from the control plane's trace window, and its complete
//    warm tasks are split, held out (demo_traces.mjs): the even-numbered ones give the per-pass costs, the LLM's
//    latency, the orchestrator's own time, the call mix and the request sizes of the demo's scenario
//    (demo_scenario.mjs); the odd-numbered ones give the measured latency tax (the tollway spans' self time on each
//    task's critical path, median over tasks). `tollway sim` composes the costs through the graph into a
//    hybrid-topology tax that must be within 15 % of the measured one; the budgets never run out there (overspend
//    0, predicted 0). The costs come from this run, not from docs/benchmarks.md: the demo's dozen processes share
//    the machine's cores, and a pass costs about ten times what bench/hops measures (docs/decision.md, "## sim").
// 2. Overspend: the leased mesh budget made small (--mesh-budget 5000) and its sidecars admitting beyond their
//    leases (--mesh-on-exhausted allow): the measured overspend (spent − limit as GET /v1/fleet gives it once
//    every sidecar has reported) within 15 % of the simulated one.
// 3. No overspend: a 2,000-token mesh budget run out with --mesh-on-exhausted deny: measured 0, as the documented
//    bound B = R = 0 says, and predicted 0.
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

function startDemo(dir, args) {
  const proc = spawn(TOLLWAY_BIN, ['demo', '--work-dir', dir, '--duration', '120s', ...args],
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

// Runs the demo with these flags, reads every trace of the run the control plane's trace window holds (it keeps
// the latest 10,000 spans: about 500 of the demo's tasks) and the summary, and gives them to `check` with a function
// that runs `tollway sim` on the run's scenario and one that reads the mesh budget once it has settled; the demo is
// stopped and its directory removed on every path.
async function withDemo(args, check) {
  const dir = tempDir('tollway-sim-demo-');
  const demo = startDemo(dir, args);
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
    const mesh = summary.budgets.find((b) => b.name === 'mesh-llm-tokens');
    assert.ok(mesh, JSON.stringify(summary.budgets));
    const simulate = (meshOnExhausted, seed = 1, benchCosts = false) => {
      const scenarioFile = path.join(dir, 'demo-scenario.yaml');
      fs.writeFileSync(scenarioFile, demoScenario(measured.costs, {
        tasksPerSecond: (summary.workload.tasks / summary.workload.seconds).toFixed(3),
        seconds: summary.workload.seconds.toFixed(3), meshLimit: mesh.limit, meshOnExhausted, benchCosts,
        agentWork: summary.agents_own_time_us }));
      const sim = spawnSync(TOLLWAY_BIN, ['sim', scenarioFile, '--json', '--seed', String(seed)],
                            { encoding: 'utf8', timeout: 60_000 });
      assert.equal(sim.status, 0, sim.stderr);
      return JSON.parse(sim.stdout);
    };
    // The mesh budget as the control plane holds it once every sidecar has reported what it spent: every LLM call
    // went through a sidecar, so that is the provider's total (summary.json reads it after at most 5 s of waiting,
    // which a loaded machine can outlast).
    const settledMesh = async () => {
      let budget;
      for (let i = 0; i < 40; ++i) {
        budget = (await get('/v1/fleet')).budgets.find((b) => b.key.includes('mesh-llm-tokens'));
        if (budget && budget.spent === summary.provider.total_tokens) break;
        await sleep(500);
      }
      assert.equal(budget?.spent, summary.provider.total_tokens,
                   `the mesh budget's spend (GET /v1/fleet) is not the provider's total: ${JSON.stringify(budget)}`);
      return budget;
    };
    await check({ measured, summary, simulate, settledMesh });
  } finally {
    demo.proc.kill('SIGTERM');
    const end = await demo.exited;
    assert.ok(end.code === 0 || end.signal === 'SIGTERM' || end.code === 143,
              `demo: ${JSON.stringify(end)}\n${demo.output()}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (v) => (v / 1000).toFixed(3);

describe('tollway sim on the demo', () => {
  it('predicts the demo\'s measured latency tax within 15 % and its overspend', { timeout: 180_000 }, async () => {
    await withDemo(['--tasks', String(TASKS)], async ({ measured, summary, simulate }) => {
      assert.equal(measured.tasks, summary.workload.tasks, 'every task has its trace in the window');
      const counts = { ...measured, costs: undefined };
      assert.ok(measured.validationTasks >= 150, `complete warm tasks: ${JSON.stringify(counts)}`);
      // Overspend as the demo measured it: what each budget spent beyond its limit.
      const overspend = summary.budgets.reduce((sum, b) => sum + Math.max(0, b.spent - b.limit), 0);
      const result = simulate('wait');
      const hybrid = result.latency.topologies.find((t) => t.topology === 'hybrid');
      const error = (hybrid.tax_p50_us - measured.taxMedianUs) / measured.taxMedianUs;
      const report = `measured median tax ${ms(measured.taxMedianUs)} ms over ${measured.validationTasks} held-out ` +
        `tasks (costs from ${measured.calibrationTasks} others); sim (hybrid) ${ms(hybrid.tax_p50_us)} ms; ` +
        `error ${(100 * error).toFixed(1)} %; mean tax measured ${ms(measured.taxMeanUs)} ms, sim ` +
        `${ms(hybrid.tax_mean_us)} ms; overspend measured ${overspend}, simulated ${result.budget.overspend}`;
      console.log(report);
      // The same tasks with the benchmarks' per-pass costs (bench/hops) instead of the run's, beside the agents'
      // own time the demo measured in its process and the LLM's latency: reported, not checked — the demo's passes
      // cost several times the benchmarks' on this shared machine (docs/decision.md, "Validation").
      const bench = simulate('wait', 1, true).latency.topologies.find((t) => t.topology === 'hybrid');
      const off = (sim, real) => `${(100 * (sim - real) / real).toFixed(1)} %`;
      const own = Object.entries(summary.agents_own_time_us)
        .map(([agent, w]) => `${agent} ${w.p50 == null ? '-' : w.p50.toFixed(1)}`).join(', ');
      console.log(`agents' own time p50 (µs): ${own}; bench/hops costs: tax p50 ${ms(bench.tax_p50_us)} ms against ` +
        `${ms(measured.taxMedianUs)} measured (${off(bench.tax_p50_us, measured.taxMedianUs)}); end to end p50 ` +
        `${ms(bench.e2e_p50_us)} ms against ` +
        `${ms(measured.e2eMedianUs)} measured (${off(bench.e2e_p50_us, measured.e2eMedianUs)}); with the run's costs ` +
        `end to end ${ms(hybrid.e2e_p50_us)} ms (${off(hybrid.e2e_p50_us, measured.e2eMedianUs)})`);
      assert.ok(Math.abs(error) <= 0.15, report);
      assert.equal(overspend, 0, `the demo's budgets: ${JSON.stringify(summary.budgets)}`);
      assert.equal(result.budget.overspend, overspend, report);
      assert.equal(result.budget.within_bound, true);
    });
  });

  // The mesh budget exhausted under load, its sidecars admitting beyond their leases (--mesh-on-exhausted allow):
  // the overspend is the bound's term U, everything the fleet asked for beyond the limit. The simulator predicts
  // it from the held-out half's call mix and request sizes (tokens per task) and the run's task rate.
  it('predicts the overspend of a leased budget exhausted with on_lease_exhausted: allow within 15 %',
     { timeout: 180_000 }, async () => {
    await withDemo(['--tasks', String(TASKS), '--mesh-budget', '5000', '--mesh-on-exhausted', 'allow'],
                   async ({ measured, summary, simulate, settledMesh }) => {
      const mesh = await settledMesh();
      const overspend = mesh.spent - mesh.limit;
      // The simulator's demand is Poisson (a fleet's arrivals), the demo's a fixed number of tasks: one seed's
      // overspend here varies by about 7 % (a standard deviation); the prediction is the mean over five seeds.
      const runs = [1, 2, 3, 4, 5].map((seed) => simulate('allow', seed));
      const predicted = runs.reduce((sum, r) => sum + r.budget.overspend, 0) / runs.length;
      const error = (predicted - overspend) / overspend;
      const report = `allow: limit ${mesh.limit}, spent ${mesh.spent}, overspend measured ${overspend}; sim ` +
        `overspend ${predicted.toFixed(0)} (seeds 1-5: ${runs.map((r) => r.budget.overspend.toFixed(0)).join(', ')}; ` +
        `bound U ${runs[0].budget.bound_u.toFixed(0)}), error ${(100 * error).toFixed(1)} %; tokens per task sim ` +
        `${runs[0].tokens.per_task.toFixed(2)}, measured ${(mesh.spent / summary.workload.tasks).toFixed(2)}`;
      console.log(report);
      assert.ok(overspend >= mesh.limit, `the budget was not overspent by its own size: ${report}`);
      assert.equal(measured.costs.refusedAtSidecar, 0, report);
      assert.ok(Math.abs(error) <= 0.15, report);
      for (const r of runs) assert.equal(r.budget.within_bound, true, report);
    });
  });

  // The same budget with the sidecars refusing once their lease has no room (--mesh-on-exhausted deny): the bound
  // is B = R = 0 (no node lost, no allow, no safe allowance), and the demo must spend nothing beyond the limit; the
  // simulator, with the same nodes, sync interval, leases and demand, predicts 0 too. What the fleet served of the
  // limit depends on how fast the leases follow the demand, and is reported, not checked.
  it('measures and predicts no overspend when the leased budget is exhausted with on_lease_exhausted: deny',
     { timeout: 180_000 }, async () => {
    await withDemo(['--tasks', String(TASKS), '--mesh-budget', '2000', '--mesh-on-exhausted', 'deny'],
                   async ({ measured, simulate, settledMesh }) => {
      const mesh = await settledMesh();
      const result = simulate('deny');
      const b = result.budget;
      const spentShare = (100 * mesh.spent / mesh.limit).toFixed(1);
      const report = `deny: limit ${mesh.limit}, spent ${mesh.spent} (${spentShare} %), ` +
        `LLM calls refused at a sidecar (calibration half) ${measured.costs.refusedAtSidecar}; sim served ` +
        `${b.served.toFixed(0)} (${(100 * b.served / b.limit).toFixed(1)} %), denied ${b.denied.toFixed(0)}, ` +
        `overspend ${b.overspend}, bound ${b.bound}`;
      console.log(report);
      assert.ok(measured.costs.refusedAtSidecar > 0, `the budget was never exhausted: ${report}`);
      assert.equal(Math.max(0, mesh.spent - mesh.limit), 0, report);
      assert.equal(b.overspend, 0, report);
      assert.equal(b.bound, 0, report);
      assert.equal(b.within_bound, true, report);
    });
  });
});
