// The demo's scenario for `tollway sim` (the shape of examples/sim/demo.yaml), with the per-hop costs, the LLM's
// latency, the orchestrator's own time, the call mix and each agent's LLM request sizes of the run's calibration
// tasks (demo_traces.mjs): the orchestrator fans out to retrieval and tools at once, then asks the LLM; retrieval
// makes one LLM call; tools one LLM call and, on some tasks, a call back to the orchestrator that policy refuses.
// The budget is the demo's leased mesh budget: one node per agent (its sidecar) with its own LLM calls' tokens
// (demand_by: agent), the control plane's 250 ms sync and 1 s leases.
// The simulator composes these costs and sizes through the graph; nothing here comes from the tasks whose tax it
// is checked against, nor from the budget's measured spend.
const list = (xs) => `[${xs.map((x) => x.toFixed(1)).join(', ')}]`;
const times = (xs) => `{samples_us: ${list(xs)}}`;
const share = (x) => x.toFixed(4);

// An agent's LLM call: its own requests' sizes, or (when the calibration tasks hold none of its answered calls,
// e.g. every one refused) those of every agent.
function llmCall(costs, agent, maxTokens) {
  const own = costs.tokens[agent];
  const all = Object.values(costs.tokens);
  const pick = (key) => (own[key].length ? own[key] : all.flatMap((t) => t[key]));
  return `{max_tokens: ${maxTokens}, prompt_tokens: {samples: ${list(pick('prompt'))}}, ` +
         `completion_tokens: {samples: ${list(pick('completion'))}}}`;
}

// meshOnExhausted: the demo's --mesh-on-exhausted; the simulator has no waiting, so `wait` is simulated as `deny`
// (a refusal after up to two sync intervals instead of at once). benchCosts: the per-pass costs are the simulator's
// defaults (docs/benchmarks.md, bench/hops) instead of the run's, and each agent's own time is what the demo
// measured in its process (agentWork: summary.json's agents_own_time_us, as a log-normal through p50 and p99)
// instead of the orchestrator span's self time (which also holds its connection to its sidecar).
export function demoScenario(costs, options) {
  const { tasksPerSecond, seconds, meshLimit, meshOnExhausted = 'wait', benchCosts = false, agentWork } = options;
  const us = (x) => `${Math.max(0.001, x).toFixed(3)}us`;
  const fit = (w) => `{p50: ${us(w.p50)}, p99: ${us(Math.max(w.p50, w.p99))}}`;
  const measuredWork = (agent) => benchCosts && agentWork?.[agent]?.p50 != null;
  const work = (agent) => (measuredWork(agent) ? `\n      work: ${fit(agentWork[agent])}` : '');
  const orchestratorWork = work('orchestrator') || `\n      work: ${times(costs.samples.orchestratorWork)}`;
  const m = costs;
  const onExhausted = meshOnExhausted === 'allow' ? 'allow' : 'deny';
  const hopCosts = benchCosts ? '' : `hop_costs:
  sidecar_pair: ${times(m.samples.eastWest)}
  sidecar_gateway: ${times(m.samples.llmLeg)}
`;
  return `name: tollway demo, per-hop costs of the ${benchCosts ? 'benchmarks' : "run's calibration tasks"}
seed: 1
duration: ${seconds}s
load: {tasks_per_second: ${tasksPerSecond}, latency_samples: 100000}
${hopCosts}llm: {latency: ${times(m.samples.llmLatency)}, prompt_tokens: 12, completion_tokens: 48, max_tokens: 48}
graph:
  root: orchestrator
  agents:
    - name: orchestrator${orchestratorWork}
      steps:
        - parallel:
            - {agent: retrieval, deny: ${share(m.retrievalDeny)}}
            - {agent: tools}
        - llm: ${llmCall(m, 'orchestrator', 48)}
    - name: retrieval${work('retrieval')}
      steps:
        - llm: ${llmCall(m, 'retrieval', 32)}
    - name: tools${work('tools')}
      steps:
        - {llm: ${llmCall(m, 'tools', 24)}, deny: ${share(m.toolsLlmDeny)}}
        - {agent: orchestrator, probability: ${share(m.callBackShare)}, deny: 1}
budget:
  {ledger: leased, limit: ${meshLimit}, demand_by: agent, sync_interval: 250ms, lease_ttl: 1s,
   on_lease_exhausted: ${onExhausted}}
`;
}
