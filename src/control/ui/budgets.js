// tollway dashboard, Budgets page: every leased budget key GET /v1/budgets returns — limit, spent, remaining, an
// inline SVG chart of the last hour's spend with the limit and the 80 % line, the firing alerts about it (GET
// /v1/alerts) beside it — grouped by budget or by any dimension (tenant, agent_group, agent, model, …) and filtered
// by text, then every node's lease in one table. Loads after app.js and uses its helpers; draws with DOM and SVG
// nodes only (no chart library, nothing fetched but this origin's API).
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';
const CHART = { width: 320, height: 90, pad: 4 };
const budgetsView = { text: '', body: null, alerts: [] };

PAGES.push('budgets');
PAGE_TITLES.budgets = 'Budgets';

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  node.append(...children);
  return node;
}

const amount = (n) => Number(n).toLocaleString('en-US');
const percent = (ratio) => `${Math.floor(ratio * 100)} %`;
const dimensionText = (b) => Object.entries(b.dimensions).map(([k, v]) => `${k}=${v}`).join(' ');

// The last hour of spend: the series, then the current value now; y from 0 to the larger of limit and spend.
function chart(b, nowSeconds, windowSeconds) {
  const points = [...b.series, [nowSeconds, b.spent]];
  const top = Math.max(b.limit, ...points.map((p) => p[1]), 1);
  const x = (t) => CHART.pad + ((t - (nowSeconds - windowSeconds)) / windowSeconds) * (CHART.width - 2 * CHART.pad);
  const y = (v) => CHART.height - CHART.pad - (v / top) * (CHART.height - 2 * CHART.pad);
  const line = (value, cls) => svg('line', { x1: CHART.pad, x2: CHART.width - CHART.pad, y1: y(value), y2: y(value), class: cls });
  const first = b.series.length ? b.series[0][1] : b.spent;
  const label = `Spend of ${b.key} over the last hour: from ${amount(first)} to ${amount(b.spent)} of ${amount(b.limit)}`;
  return svg('svg', {
    viewBox: `0 0 ${CHART.width} ${CHART.height}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label, class: 'chart',
  },
  svg('title', {}, label),
  line(b.limit, 'limit'), line(b.limit * 0.8, 'warn'),
  svg('polyline', { points: points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' '), class: 'spend' }));
}

function budgetCard(b, nowSeconds, windowSeconds) {
  const alerts = budgetsView.alerts.filter((a) => a.subject === b.key);
  const number = (term, value, field) => el('div', {}, el('dt', {}, term), el('dd', { dataset: { field } }, value));
  return el('article', { class: 'budget', dataset: { key: b.key } },
    el('h3', {}, b.budget, ' ', ...Object.entries(b.dimensions).map(([k, v]) => el('span', { class: 'label' }, `${k}=${v}`))),
    el('dl', { class: 'summary' },
      number('Spent', `${amount(b.spent)} (${percent(b.used_ratio)})`, 'spent'),
      number('Limit', amount(b.limit), 'limit'),
      number('Remaining', amount(b.remaining), 'remaining'),
      number('Leased out', amount(b.leased), 'leased'),
      number('Period', b.period || '—', 'period')),
    alerts.length ? el('ul', { class: 'budget-alerts' }, ...alerts.map((a) => el('li',
      { class: `alert ${a.severity}`, dataset: { alert: a.name } }, el('span', { class: 'severity' }, a.severity), ` ${a.name}: ${a.message}`)))
      : null,
    chart(b, nowSeconds, windowSeconds),
    el('p', { class: 'key mono' }, b.key));
}

function matchesFilter(b, filter) {
  return filter.split(/\s+/).filter(Boolean).every((term) => {
    const [name, value] = term.split('=');
    if (value === undefined) return b.key.toLowerCase().includes(term.toLowerCase());
    return name === 'budget' ? b.budget === value : b.dimensions[name] === value;
  });
}

function renderGroupOptions(budgets) {
  const select = $('budget-group');
  const dimensions = [...new Set(budgets.flatMap((b) => Object.keys(b.dimensions)))].sort();
  const options = ['budget', ...dimensions, 'none'];
  if ([...select.options].map((o) => o.value).join() === options.join()) return;
  const chosen = options.includes(select.value) ? select.value : 'budget';
  select.replaceChildren(...options.map((o) => el('option', { value: o }, o === 'none' ? 'nothing (one list)' : o)));
  select.value = chosen;
}

function renderBudgets() {
  const body = budgetsView.body;
  if (!body) return;
  renderGroupOptions(body.budgets);
  const by = $('budget-group').value;
  const shown = body.budgets.filter((b) => matchesFilter(b, $('budget-filter').value));
  const groups = new Map();
  for (const b of shown) {
    const name = by === 'none' ? 'All budget keys' : by === 'budget' ? `budget ${b.budget}`
      : b.dimensions[by] !== undefined ? `${by} ${b.dimensions[by]}` : `no ${by}`;
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(b);
  }
  const nowSeconds = Date.now() / 1000;
  $('budget-empty').hidden = shown.length > 0;
  $('budget-empty').textContent = body.budgets.length ? 'No budget key matches the filter.'
    : 'No leased budget has been reported yet (budgets with ledger: leased show here once a node spends from them).';
  $('budget-groups').replaceChildren(...[...groups.keys()].sort().map((name) => el('section', { class: 'budget-group' },
    el('h2', {}, name), el('div', { class: 'budget-cards' },
      ...groups.get(name).map((b) => budgetCard(b, nowSeconds, body.window_s))))));
  $('leases').tBodies[0].replaceChildren(...shown.flatMap((b) => b.leases.map((l) => {
    const cell = (label, ...content) => el('td', { dataset: { label } }, el('div', {}, ...content));
    const left = Math.round((Date.parse(l.expires_at) - Date.now()) / 1000);
    return el('tr', { dataset: { key: b.key, node: l.node } },
      cell('Node', el('strong', {}, l.node), el('div', { class: 'muted mono' }, l.incarnation)),
      cell('Budget key', `${b.budget} ${dimensionText(b)}`),
      cell('Used', el('span', { dataset: { field: 'used' } }, amount(l.used))),
      cell('Granted', el('span', { dataset: { field: 'granted' } }, amount(l.granted))),
      cell('Expires', el('span', { title: l.expires_at }, l.valid ? `in ${left} s` : 'expired or released')));
  })));
}

PAGE_HOOKS.push({
  refresh: async (page) => {
    if (page !== 'budgets') return;
    const [body, alerts] = await Promise.all([api('/v1/budgets'), api('/v1/alerts')]);
    const text = JSON.stringify([body, alerts]);
    if (text === budgetsView.text) return;
    Object.assign(budgetsView, { text, body, alerts: alerts.alerts });
    renderBudgets();
  },
  reset: () => Object.assign(budgetsView, { text: '', body: null, alerts: [] }),
});

document.addEventListener('DOMContentLoaded', () => {
  $('budget-group').addEventListener('change', renderBudgets);
  $('budget-filter').addEventListener('input', renderBudgets);
});
