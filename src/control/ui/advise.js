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
const PATH_LABELS = { gateway: 'gateway (its own time)', sidecar_to_gateway: 'sidecar → gateway', sidecar_to_sidecar: 'sidecar → sidecar' };

function row(label, ...cells) {
  return el('tr', {}, el('th', { scope: 'row' }, label), ...cells.map((c) => el('td', {}, c)));
}

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
    el('dt', {}, 'East-west agent↔agent'), el('dd', { dataset: { field: 'east_west' } }, `${rec('east_west').advice}: ${rec('east_west').why}`),
    el('dt', {}, 'North-south LLM calls'), el('dd', {}, `${rec('north_south').advice}: ${rec('north_south').why}`));
  const t = m.traces;
  const body = $('advice-measured').querySelector('tbody');
  const rows = [];
  if (t) {
    const c = t.calls;
    rows.push(row('Calls', `${c.total} in ${t.traces_with_calls} traces: north-south ${c.north_south} (${pct(c.north_south, c.total)}), `
      + `east-west ${c.east_west} (${pct(c.east_west, c.total)}), tool/MCP ${c.tool}, egress ${c.egress}`));
    rows.push(row('Tokens', `${t.tokens.north_south} on north-south calls; ${t.tokens.behind_east_west} (`
      + `${pct(t.tokens.behind_east_west, t.tokens.north_south)}) by agents reached east-west`));
    const by = Object.entries(t.traces_by_calls).map(([calls, n]) => `${n} × ${calls}`).join(', ') || '—';
    rows.push(row('Calls per trace', `p50 ${t.calls_per_trace.p50}, p95 ${t.calls_per_trace.p95}, max ${t.calls_per_trace.max} (traces × calls: ${by})`));
    for (const [path, label] of Object.entries(PATH_LABELS)) {
      const s = t.latency_tax_us[path];
      rows.push(row(`Tax per hop, ${label}`, s.count ? `p50 ${ms(s.p50)}, p95 ${ms(s.p95)} over ${s.count} calls` : '—'));
    }
    const p = t.latency_tax_us.per_trace;
    rows.push(row('Tax per trace', p.count ? `p50 ${ms(p.p50)}, p95 ${ms(p.p95)}` : '—'));
    rows.push(row('Orphaned traces', `${t.orphan_traces} of ${t.traces_with_calls} (${pct(t.orphan_traces, t.traces_with_calls)}); `
      + `${t.repaired_spans} of ${t.orphan_spans} orphan calls repaired`));
  }
  for (const b of m.leased_budgets || []) {
    rows.push(row(`Leased ${b.key}`, `${b.spent} of ${b.limit} spent, overspend ${b.overspend}, ${b.holders} holders`));
  }
  if (m.fleet) {
    const nodes = m.fleet.nodes;
    const nacking = nodes.filter((n) => n.rejected_version).length;
    rows.push(row('Drift and NACKs', `${nodes.filter((n) => n.drifted).length} drifted, ${nacking} NACKing now; `
      + `${m.fleet.policy_versions} policy versions`));
    for (const n of nodes) {
      rows.push(row(`${n.id} (${n.role})`, n.rss_bytes === null ? 'does not report CPU and memory (older build)'
        : `${n.cpu_cores === null ? 'CPU rate after its next poll' : `${n.cpu_cores.toFixed(3)} cores`}, ${mib(n.rss_bytes)} RSS`));
    }
    rows.push(row('Agents', 'not measured: their processes are not tollway\'s (tollway advise --workload-cpu-cores compares)'));
  }
  for (const g of m.gaps) rows.push(row('Not measured', g));
  body.replaceChildren(...rows);
}

PAGE_HOOKS.push({
  refresh: async (page) => { if (page === 'advice') renderAdvice(await api('/v1/advice')); },
  reset: () => { advice.text = ''; },
});
