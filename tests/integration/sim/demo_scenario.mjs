// The demo's scenario for `tollway sim` (the shape of examples/sim/demo.yaml), with the per-hop costs, the LLM's
// latency, the orchestrator's own time and the call mix of the run's calibration tasks (demo_traces.mjs): the
// orchestrator fans out to retrieval and tools at once, then asks the LLM; retrieval makes one LLM call; tools one LLM call
// and, on some tasks, a call back to the orchestrator that policy refuses. The simulator composes these costs
// through the graph; nothing here comes from the tasks whose tax it is checked against.
const list = (xs) => `{samples_us: [${xs.map((x) => x.toFixed(1)).join(', ')}]}`;
const share = (x) => x.toFixed(4);

export function demoScenario(costs, { tasksPerSecond, seconds, meshLimit }) {
  const m = costs;
  return `name: tollway demo, per-hop costs of the run's calibration tasks
seed: 1
duration: ${seconds}s
load: {tasks_per_second: ${tasksPerSecond}, latency_samples: 100000}
hop_costs:
  sidecar_pair: ${list(m.samples.eastWest)}
  sidecar_gateway: ${list(m.samples.llmLeg)}
llm: {latency: ${list(m.samples.llmLatency)}, prompt_tokens: 12, completion_tokens: 48, max_tokens: 48}
graph:
  root: orchestrator
  agents:
    - name: orchestrator
      work: ${list(m.samples.orchestratorWork)}
      steps:
        - parallel:
            - {agent: retrieval, deny: ${share(m.retrievalDeny)}}
            - {agent: tools}
        - llm: {max_tokens: 48}
    - name: retrieval
      steps:
        - llm: {max_tokens: 32}
    - name: tools
      steps:
        - {llm: {max_tokens: 24}, deny: ${share(m.toolsLlmDeny)}}
        - {agent: orchestrator, probability: ${share(m.callBackShare)}, deny: 1}
budget: {ledger: leased, limit: ${meshLimit}, nodes: 3, sync_interval: 250ms, lease_ttl: 1s}
`;
}
