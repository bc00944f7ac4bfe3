// tollway dashboard, Advice page: `tollway advise`'s measured part for this fleet (GET /v1/advice, computed in the
// control plane by src/advise from the same answers as /v1/fleet, /v1/budgets, /v1/history and /v1/traces): the
// traffic topology factor, the share of north-south vs east-west calls and tokens, calls per trace, the latency tax
// per hop of each path, orphaned traces, leased budgets against their limits, drift and NACKs, each node's CPU and
// memory. The questionnaire's factors need the command (`tollway advise`). Uses app.js's el, api and $, registers in
// PAGES, PAGE_TITLES and PAGE_HOOKS; renders text only (never HTML from data) and fetches nothing but this origin.
'use strict';

const advice = { text: '' };
PAGES.push('advice');
PAGE_TITLES.advice = 'Advice';

const pct = (part, whole) => (whole ? `${((100 * part) / whole).toFixed(1)} %` : '—');
const ms = (us) => `${(us / 1000).toFixed(2)} ms`;
const mib = (bytes) => `${(bytes / 1048576).toFixed(1)} MiB`;
const PATH_LABELS = {
  gateway: 'gateway (its own time)', sidecar_to_gateway: 'sidecar → gateway', sidecar_to_sidecar: 'sidecar → sidecar',
};

// One measure: its label and one cell whose numbers are <data value="RAW"> (the shown text beside the value it came
// from, which the browser test compares with the API's answer); `key` names the measure (tr data-measure).
function row(label, key, ...parts) {
  return el('tr', { dataset: { measure: key } }, el('th', { scope: 'row' }, label), el('td', {}, ...parts));
}
const num = (value, shown = value) => el('data', { value }, shown);
const spread = (s) => ['p50 ', num(s.p50, ms(s.p50)), ', p95 ', num(s.p95, ms(s.p95))];

function renderAdvice(a) {
  const text = JSON.stringify(a);
  if (text === advice.text) return;
  advice.text = text;
  const m = a.measured;
  const topology = a.factors.find((f) => f.factor === 'topology');
  const rec = (cls) => a.recommendations.find((r) => r.class === cls);
  $('advice-topology').replaceChildren(
    el('dt', {}, 'Traffic topology'), el('dd', { dataset: { field: 'topology' } },
      topology.answer ? `${topology.answer}: leans ${topology.lean}` : 'no calls measured yet'),
    el('dt', {}, 'East-west agent↔agent'),
    el('dd', { dataset: { field: 'east_west' } }, `${rec('east_west').advice}: ${rec('east_west').why}`),
    el('dt', {}, 'North-south LLM calls'), el('dd', {}, `${rec('north_south').advice}: ${rec('north_south').why}`));
  const t = m.traces;
  const body = $('advice-measured').querySelector('tbody');
  const rows = [];
  if (t) {
    const c = t.calls;
    rows.push(row('Calls', 'calls', num(c.total), ' in ', num(t.traces_with_calls), ' traces: north-south ',
      num(c.north_south), ` (${pct(c.north_south, c.total)}), east-west `, num(c.east_west),
      ` (${pct(c.east_west, c.total)}), tool/MCP `, num(c.tool), ', egress ', num(c.egress)));
    rows.push(row('Tokens', 'tokens', num(t.tokens.north_south), ' on north-south calls; ',
      num(t.tokens.behind_east_west), ` (${pct(t.tokens.behind_east_west, t.tokens.north_south)}) `,
      'by agents reached east-west'));
    const by = Object.entries(t.traces_by_calls).flatMap(([calls, n], i) => [i ? ', ' : '', num(n), ' × ', num(calls)]);
    const cpt = t.calls_per_trace;
    rows.push(row('Calls per trace', 'calls_per_trace', 'p50 ', num(cpt.p50), ', p95 ', num(cpt.p95), ', max ',
      num(cpt.max), ' (traces × calls: ', ...(by.length ? by : ['—']), ')'));
    const hpt = t.hops_per_trace;
    rows.push(row('Hops per trace', 'hops_per_trace', 'p50 ', num(hpt.p50), ', p95 ', num(hpt.p95), ', max ',
      num(hpt.max), ' (the longest chain of calls)'));
    for (const [path, label] of Object.entries(PATH_LABELS)) {
      const s = t.latency_tax_us[path];
      const shown = s.count ? [...spread(s), ' over ', num(s.count), ' calls'] : ['—'];
      rows.push(row(`Tax per hop, ${label}`, `tax_${path}`, ...shown));
    }
    const p = t.latency_tax_us.per_trace;
    rows.push(row('Tax per trace', 'tax_per_trace', ...(p.count ? spread(p) : ['—'])));
    rows.push(row('Orphaned traces', 'orphans', num(t.orphan_traces), ' of ', num(t.traces_with_calls),
      ` (${pct(t.orphan_traces, t.traces_with_calls)}); `, num(t.repaired_spans), ' of ', num(t.orphan_spans),
      ' orphan calls repaired'));
  }
  for (const b of m.leased_budgets || []) {
    rows.push(row(`Leased ${b.key}`, `leased ${b.key}`, num(b.spent), ' of ', num(b.limit), ' spent, overspend ',
      num(b.overspend), ', ', num(b.holders), ' holders'));
  }
  if (m.fleet) {
    const nodes = m.fleet.nodes;
    rows.push(row('Drift and NACKs', 'drift', num(nodes.filter((n) => n.drifted).length), ' drifted, ',
      num(nodes.filter((n) => n.rejected_version).length), ' NACKing now; ', num(m.fleet.policy_versions),
      ' policy versions'));
    const h = m.fleet.nack_history;
    if (h) {
      const latest = h.latest ? ['; latest ', h.latest.at, ' ', h.latest.node, ' refused ', h.latest.version, ': ',
        h.latest.reason] : [];
      rows.push(row('NACKs on record', 'nack_history', num(h.total), ' from ', num(h.nodes), ' node(s)', ...latest));
    }
    for (const n of nodes) {
      const cpu = n.cpu_cores === null ? 'CPU rate after its next poll'
        : num(n.cpu_cores, `${n.cpu_cores.toFixed(3)} cores`);
      const shown = n.rss_bytes === null ? ['does not report CPU and memory (older build)']
        : [cpu, ', ', num(n.rss_bytes, mib(n.rss_bytes)), ' RSS'];
      rows.push(row(`${n.id} (${n.role})`, `node ${n.id}`, ...shown));
    }
    rows.push(row('Agents', 'agents',
      'not measured: their processes are not tollway\'s (tollway advise --workload-cpu-cores compares)'));
  }
  for (const g of m.gaps) rows.push(row('Not measured', 'gap', g));
  body.replaceChildren(...rows);
}

PAGE_HOOKS.push({
  refresh: async (page) => { if (page === 'advice') renderAdvice(await api('/v1/advice')); },
  reset: () => { advice.text = ''; },
});
