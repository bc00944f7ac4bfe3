// The demo's measured latency tax and per-hop costs, from its traces (the control plane's GET /v1/traces/{id}).
//
// A task's trace: the orchestrator's SERVER span (its own time is the agent's work), under it the orchestrator
// sidecar's CLIENT spans (to retrieval, to tools, to the LLM), each with the callee's SERVER span below (a peer's
// sidecar, or the gateway, whose CLIENT span is the provider call). The tools agent forgets the trace context:
// when its sidecar cannot repair the orphan (more than one inbound request in flight), the tools agent's own calls
// arrive as traces of their own. They are joined back here under the tools sidecar SERVER span that contains
// them in time (the latest one started before them with no other call of its own overlapping them).
//
// Definitions (docs/decision.md, "Validation"):
// - tollway span: any span of a gateway or sidecar, except the gateway's CLIENT spans (the provider's time);
// - self time: a span's duration minus the time covered by its children (merged), as the control plane computes
//   self_us — recomputed here because joining orphans adds children;
// - critical path: from a span's end, the child that ends last, then the child that ends last before that one
//   started, and so on; the task's latency tax is the sum of the tollway spans' self times on it;
// - per-hop costs: east-west = a sidecar CLIENT span's self time plus its callee sidecar SERVER span's; LLM leg =
//   a sidecar CLIENT span's self time plus the gateway SERVER span's; the LLM's latency = the gateway's CLIENT span.
//   The agents have no spans of their own below the orchestrator: a callee sidecar SERVER span's self time holds
//   the callee agent's own time too, in the per-hop costs and in the tax alike;
// - warm tasks: those that started after the first task ended (the first wave pays each sidecar's first lease
//   and its first connections; docs/operations.md "Leased budgets").

const us = (nano) => Number(BigInt(nano) / 1000n);

function nodesOf(trace) {
  const base = us(trace.start_unix_nano);
  const byId = new Map();
  for (const s of trace.spans) {
    byId.set(s.span_id, {
      id: s.span_id, parent: s.parent_span_id, service: s.service, kind: s.kind, name: s.name, peer: s.peer,
      status: s.http_status, start: base + s.start_offset_us, end: base + s.start_offset_us + s.duration_us,
      inputTokens: s.input_tokens, outputTokens: s.output_tokens, children: [],
    });
  }
  const roots = [];
  for (const n of byId.values()) {
    const parent = n.parent ? byId.get(n.parent) : undefined;
    if (parent) parent.children.push(n); else roots.push(n);
  }
  return { roots, all: [...byId.values()] };
}

function selfTime(n) {
  const intervals = n.children.map((c) => [Math.max(c.start, n.start), Math.min(c.end, n.end)])
    .filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let covered = 0; let until = -Infinity;
  for (const [a, b] of intervals) {
    if (b <= until) continue;
    covered += b - Math.max(a, until);
    until = b;
  }
  return Math.max(0, n.end - n.start - covered);
}

const isTollway = (n) => n.service !== 'orchestrator' && !(n.service === 'gateway' && n.kind === 'CLIENT');
const isSidecar = (n) => n.service.endsWith('-sidecar');

function criticalTax(n) {
  let tax = isTollway(n) ? selfTime(n) : 0;
  const children = [...n.children].sort((a, b) => b.end - a.end);
  let cursor = Math.max(n.end, ...children.map((c) => c.end));
  for (const c of children) {
    if (c.end > cursor) continue;
    tax += criticalTax(c);
    cursor = c.start;
  }
  return tax;
}

function walk(n, visit) {
  visit(n);
  for (const c of n.children) walk(c, visit);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// traces: every GET /v1/traces/{id} answer of the run.
export function measureDemo(traces) {
  const tasks = []; const orphans = [];
  for (const t of traces) {
    const { roots } = nodesOf(t);
    for (const r of roots) {
      if (r.service === 'orchestrator' && r.name === 'POST /task') tasks.push(r);
      else if (r.service === 'tools-sidecar' && r.kind === 'CLIENT') orphans.push(r);
    }
  }
  // Join the tools agent's orphaned calls back under the tools sidecar SERVER span that contains them.
  const toolsServers = [];
  const isToolsServer = (n) => n.service === 'tools-sidecar' && n.kind === 'SERVER';
  for (const task of tasks) walk(task, (n) => { if (isToolsServer(n)) toolsServers.push(n); });
  toolsServers.sort((a, b) => a.start - b.start);
  let joined = 0;
  for (const o of orphans.sort((a, b) => a.start - b.start)) {
    const host = toolsServers.filter((s) => s.start <= o.start && o.end <= s.end &&
      !s.children.some((c) => c.start < o.end && o.start < c.end)).pop();
    if (host) { host.children.push(o); ++joined; }
  }
  tasks.sort((a, b) => a.start - b.start);
  const firstEnd = tasks.length ? tasks[0].end : 0;
  const warm = tasks.filter((t) => t.start >= firstEnd);
  // A task is complete when its tools agent's LLM call is in it (joined or repaired).
  const complete = warm.filter((task) => {
    let llm = false;
    walk(task, (n) => {
      if (n.service === 'tools-sidecar' && n.kind === 'CLIENT' && n.peer === 'gateway') llm = true;
    });
    return llm;
  });
  // Held out: the even-numbered complete tasks (in start order) give the per-pass costs and the call mix the
  // simulator is fed, the odd-numbered ones the latency tax it is checked against; no task is in both.
  const calibration = complete.filter((_, i) => i % 2 === 0);
  const validation = complete.filter((_, i) => i % 2 === 1);
  const taxes = validation.map(criticalTax);
  return {
    e2eMedianUs: median(validation.map((t) => t.end - t.start)),
    tasks: tasks.length, warm: warm.length, complete: complete.length, orphansJoined: joined,
    calibrationTasks: calibration.length, validationTasks: validation.length,
    costs: costsOf(calibration),
    taxMedianUs: median(taxes), taxMeanUs: taxes.reduce((sum, t) => sum + t, 0) / taxes.length,
  };
}

// Per-pass costs, the LLM's latency, the orchestrator's own time, the call mix and the LLM calls' tokens of these
// tasks. An LLM call the caller's sidecar refused itself (the leased mesh budget: no gateway span below it) is
// counted apart: the simulator's lease model decides those, so they are not part of the graph's refusal shares.
function costsOf(tasks) {
  const samples = { eastWest: [], llmLeg: [], llmLatency: [], orchestratorWork: [] };
  const tokens = {};  // per agent: the prompt and completion tokens of its LLM calls the provider answered
  for (const agent of ['orchestrator', 'retrieval', 'tools']) tokens[agent] = { prompt: [], completion: [] };
  const retrieval = { calls: 0, refused: 0 }; const toolsLlm = { calls: 0, refused: 0 };
  let callBacks = 0; let refusedAtSidecar = 0;
  for (const task of tasks) {
    samples.orchestratorWork.push(selfTime(task));
    walk(task, (n) => {
      if (n.service === 'gateway' && n.kind === 'CLIENT') samples.llmLatency.push(n.end - n.start);
      if (!isSidecar(n) || n.kind !== 'CLIENT') return;
      const cost = selfTime(n) + n.children.filter(isTollway).reduce((sum, c) => sum + selfTime(c), 0);
      if (n.peer === 'gateway') samples.llmLeg.push(cost); else samples.eastWest.push(cost);
      const gateway = n.peer === 'gateway' ? n.children.find((c) => c.service === 'gateway' && c.kind === 'SERVER')
                                           : undefined;
      if (n.peer === 'gateway' && !gateway) ++refusedAtSidecar;
      if (gateway && n.status < 400 && gateway.inputTokens != null) {
        const agent = tokens[n.service.replace(/-sidecar$/, '')];
        agent.prompt.push(gateway.inputTokens);
        agent.completion.push(gateway.outputTokens);
      }
      const count = (calls) => { ++calls.calls; if (n.status >= 400) ++calls.refused; };
      if (n.service === 'orchestrator-sidecar' && n.peer === 'retrieval') count(retrieval);
      if (n.service === 'tools-sidecar' && gateway) count(toolsLlm);
      if (n.service === 'tools-sidecar' && n.peer === 'orchestrator') ++callBacks;
    });
  }
  // Refusals as a share of the calls made (the tools agent's LLM calls: of those that reached the gateway, where
  // initech's budget refuses them); call-backs per task (a mis-joined orphan can put two in one task).
  return {
    samples, tokens, refusedAtSidecar,
    retrievalDeny: retrieval.refused / Math.max(1, retrieval.calls),
    toolsLlmDeny: toolsLlm.refused / Math.max(1, toolsLlm.calls),
    callBackShare: Math.min(1, callBacks / tasks.length),
  };
}
