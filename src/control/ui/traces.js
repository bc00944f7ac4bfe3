// tollway dashboard, Traces page: the control plane's window of recent traces (GET /v1/traces) and, for the selected
// one, its waterfall (GET /v1/traces/ID): a bar per span placed by its start offset and duration, indented by depth,
// with its per-hop (self) latency, and orphan / repaired / parent-missing / error marks written as text. Uses app.js's
// el, api and $, and registers the page in app.js's PAGES, PAGE_TITLES and PAGE_HOOKS. Renders with DOM nodes and
// text only (never HTML from data) and fetches nothing but this origin.
'use strict';

const TRACE_LIST_LIMIT = 50;
const MAX_INDENT_DEPTH = 8;  // deeper spans indent no further, so narrow screens never scroll sideways
const traces = { listText: '', selected: null, detailText: '', missing: false };
PAGES.push('traces');
PAGE_TITLES.traces = 'Traces';

// 1234.5 µs -> "1.23 ms"; the exact value stays in the element's data-us.
function formatMicros(us) {
  if (us < 1000) return `${us < 10 ? us.toFixed(1) : Math.round(us)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(2)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}
const micros = (us, field) => el('span', { dataset: { field, us: String(us) } }, formatMicros(us));

function startTime(unixNano) {
  const date = new Date(Number(BigInt(unixNano) / 1000000n));
  return el('time', { datetime: date.toISOString(), title: date.toISOString() }, date.toLocaleTimeString());
}

// The marks of a trace summary or a span, as text labels (the colour only repeats them).
function traceMarks(t) {
  const marks = [];
  if (t.error_spans) marks.push(['error', `${t.error_spans} error`]);
  if (t.orphan_spans) marks.push(['orphan', `${t.orphan_spans} orphan`]);
  if (t.repaired_spans) marks.push(['repaired', `${t.repaired_spans} repaired`]);
  if (t.parent_missing_spans) marks.push(['missing', `${t.parent_missing_spans} parent missing`]);
  return marks;
}
function spanMarks(s) {
  const marks = [];
  if (s.status === 'ERROR') marks.push(['error', s.status_message ? `error: ${s.status_message}` : 'error']);
  if (s.orphan) marks.push(['orphan', 'orphan']);
  if (s.repaired) marks.push(['repaired', 'repaired']);
  if (s.parent_missing) marks.push(['missing', 'parent missing']);
  return marks;
}
const markList = (marks) => marks.map(([kind, text]) => el('span', { class: `mark ${kind}`, dataset: { mark: kind } }, text));

async function refreshTraces() {
  const list = await api(`/v1/traces?limit=${TRACE_LIST_LIMIT}`);
  renderTraceList(list);
  if (!traces.selected) return;
  try {
    renderTraceDetail(await api(`/v1/traces/${traces.selected}`));
  } catch (error) {
    if (error instanceof Unauthorized) throw error;
    showTraceGone(error.message);
  }
}

function renderTraceList(list) {
  const text = JSON.stringify(list);
  if (text === traces.listText) return;
  traces.listText = text;
  $('traces-held').textContent = `${list.traces_held} traces, ${list.spans_held} of at most ${list.max_spans} spans held`
    + ` (the newest ${Math.min(TRACE_LIST_LIMIT, list.traces_held)} by start listed)`;
  $('traces-empty').hidden = list.traces.length > 0;
  // A live refresh must not take the keyboard focus away from the trace it was on.
  const focused = document.activeElement && document.activeElement.closest('#trace-list button[data-trace]');
  const focusedTrace = focused ? focused.dataset.trace : null;
  $('trace-list').tBodies[0].replaceChildren(...list.traces.map((t) => {
    const cell = (label, ...content) => el('td', { dataset: { label } }, el('div', {}, ...content));
    const marks = markList(traceMarks(t));
    return el('tr', { dataset: { trace: t.trace_id } },
      cell('Trace', el('button', { type: 'button', 'aria-pressed': String(t.trace_id === traces.selected),
        dataset: { trace: t.trace_id }, 'aria-label': `${t.name || 'unnamed'}, trace ${t.trace_id}` },
      el('span', { class: 'trace-name', dataset: { field: 'name' } }, t.name || '(unnamed)'),
      el('span', { class: 'mono muted' }, t.trace_id.slice(0, 16)))),
      cell('Services', el('span', { dataset: { field: 'services' } }, t.services.join(', ') || '—')),
      cell('Start', startTime(t.start_unix_nano)),
      cell('Duration', micros(t.duration_us, 'duration_us')),
      cell('Spans', el('span', { dataset: { field: 'span_count' } }, t.span_count)),
      cell('Hops', el('span', { dataset: { field: 'hop_count' } }, t.hop_count)),
      cell('Marks', ...(marks.length ? marks : ['—'])));
  }));
  if (focusedTrace) {
    const again = $('trace-list').querySelector(`button[data-trace="${focusedTrace}"]`);
    if (again) again.focus();
  }
}

function showTraceGone(message) {
  traces.detailText = '';
  $('trace-detail').hidden = false;
  $('trace-detail-title').textContent = `Trace ${traces.selected}`;
  $('trace-summary').replaceChildren();
  $('waterfall').replaceChildren();
  $('trace-gone').textContent = message;
}

function renderTraceDetail(trace) {
  const text = JSON.stringify(trace);
  if (text === traces.detailText) return;
  traces.detailText = text;
  $('trace-gone').textContent = '';
  $('trace-detail').hidden = false;
  $('trace-detail-title').textContent = `${trace.name || 'Trace'} · ${trace.trace_id}`;
  $('trace-summary').replaceChildren(
    summaryItem('Services', trace.services.join(', ') || '—'),
    summaryItem('Start', startTime(trace.start_unix_nano)),
    summaryItem('Duration', micros(trace.duration_us, 'duration_us')),
    summaryItem('Spans', trace.span_count),
    summaryItem('Hops', trace.hop_count),
    summaryItem('Root span', trace.has_root ? 'received' : 'not received'),
    ...(traceMarks(trace).length ? [summaryItem('Marks', el('span', {}, ...markList(traceMarks(trace))))] : []));
  const total = Math.max(trace.duration_us, 1);
  $('waterfall').replaceChildren(...trace.spans.map((s) => {
    const label = el('div', { class: 'span-label' },
      el('span', { class: 'span-name', dataset: { field: 'name' } }, s.name || '(unnamed)'),
      el('span', { class: 'span-service muted' }, ` ${s.service || 'unknown service'} · ${s.kind.toLowerCase()} `),
      ...markList(spanMarks(s)));
    label.style.paddingLeft = `${Math.min(s.depth, MAX_INDENT_DEPTH) * 14}px`;
    const bar = el('div', { class: `bar${s.status === 'ERROR' ? ' error' : ''}${s.enters_service ? ' hop' : ''}` });
    bar.style.left = `${(100 * s.start_offset_us) / total}%`;
    bar.style.width = `${Math.max((100 * s.duration_us) / total, 0.4)}%`;
    const times = el('div', { class: 'span-times' },
      'at +', micros(s.start_offset_us, 'start_offset_us'), ' · took ', micros(s.duration_us, 'duration_us'),
      ' · self ', micros(s.self_us, 'self_us'),
      s.http_status ? ` · HTTP ${s.http_status}` : '', s.tollway_hops ? ` · hop ${s.tollway_hops}` : '',
      s.peer ? ` · peer ${s.peer}` : '');
    return el('li', { dataset: { span: s.span_id, depth: String(s.depth) } },
      label, el('div', { class: 'track', 'aria-hidden': 'true' }, bar), times);
  }));
}

function selectTrace(traceId) {
  traces.selected = traceId;
  traces.detailText = '';
  for (const b of $('trace-list').querySelectorAll('button[data-trace]')) {
    b.setAttribute('aria-pressed', String(b.dataset.trace === traceId));
  }
  refreshTraces().then(() => $('trace-detail-title').focus()).catch((error) => {
    if (error instanceof Unauthorized) return showLogin('The control plane refused that token. Sign in again.');
    $('live').textContent = error.message;
  });
}

PAGE_HOOKS.push({
  refresh: (page) => (page === 'traces' ? refreshTraces() : null),
  reset: () => Object.assign(traces, { listText: '', selected: null, detailText: '', missing: false }),
});

document.addEventListener('DOMContentLoaded', () => {
  // Any trace the window holds, listed or not (the list shows only the newest): by the ID a log line or summary printed.
  $('trace-find').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = $('trace-id').value.trim().toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(id) || /^0+$/.test(id)) {
      $('trace-id').setAttribute('aria-invalid', 'true');
      $('live').textContent = 'A trace ID is 32 hex digits, not all zero.';
      return;
    }
    $('trace-id').removeAttribute('aria-invalid');
    selectTrace(id);
  });
  $('trace-list').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-trace]');
    if (button) selectTrace(button.dataset.trace);
  });
});
