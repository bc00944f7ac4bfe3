// tollway dashboard: reads the control plane's own API (GET /v1/fleet, GET /v1/history, GET /v1/history/diff,
// POST /v1/rollback) with the admin token the user typed, kept in sessionStorage; a 401 brings the sign-in form
// back. Renders with DOM nodes and text only (never HTML from data) and fetches nothing but this origin. Pages and
// areas in their own files (budgets.js, alerts.js, traces.js) load after this one and register in PAGES,
// PAGE_TITLES and PAGE_HOOKS.
'use strict';

const TOKEN_KEY = 'tollway.adminToken';
const REFRESH_MS = 3000;
const PAGES = ['fleet', 'policy'];
const PAGE_TITLES = { fleet: 'Fleet', policy: 'Policy' };
// {refresh(page) (awaited on every refresh, whatever page shows), reset() (at sign-out)} of the other files.
const PAGE_HOOKS = [];
const $ = (id) => document.getElementById(id);

// selectNewest: after a rollback, select the version it publishes once the history shows it.
const state = {
  timer: null, fleetText: '', historyText: '', fleet: null, history: null, selected: null, selectNewest: false, diffFor: '',
};

class Unauthorized extends Error {}

// One element: el('td', {class: 'x', dataset: {label: 'Node'}}, 'text', child, ...).
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const short = (version) => (version ? version.slice(0, 12) : '—');
const version = (full) => el('span', { class: 'mono', title: full || undefined, dataset: { version: full || '' } }, short(full));

// A node certificate's expiry: "expires in 5h 12m", marked when less than 20 % of its lifetime is left.
function certificate(node) {
  if (!node.cert_not_after) return el('span', { title: 'the node does not say (no --identity-dir, or an older build)' }, '—');
  const end = Date.parse(node.cert_not_after);
  const lifetime = end - Date.parse(node.cert_not_before);
  const left = end - Date.now();
  const minutes = Math.floor(Math.abs(left) / 60000);
  const text = `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
  const low = left < lifetime * 0.2;
  return el('span', { class: low ? 'cert-low' : undefined, title: node.cert_not_after, dataset: { field: 'certificate' } },
    left > 0 ? `expires in ${text}` : `expired ${text} ago`, low ? ' (under 20 % of its lifetime left)' : null);
}

function ago(iso) {
  if (!iso) return '—';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return seconds < 90 ? `${seconds} s ago` : seconds < 5400 ? `${Math.round(seconds / 60)} min ago`
    : `${Math.round(seconds / 3600)} h ago`;
}

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new Unauthorized();
  const response = await fetch(path, {
    ...options, cache: 'no-store', headers: { ...options.headers, authorization: `Bearer ${token}` },
  });
  if (response.status === 401) throw new Unauthorized();
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : `HTTP ${response.status}`);
  return body;
}

function showLogin(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  clearTimeout(state.timer);
  for (const hook of PAGE_HOOKS) hook.reset();
  Object.assign(state, {
    fleetText: '', historyText: '', fleet: null, history: null, selected: null, selectNewest: false, diffFor: '',
  });
  for (const page of PAGES) $(page).hidden = true;
  $('nav').hidden = true;
  $('sign-out').hidden = true;
  $('live').textContent = '';
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('token').value = '';
  $('token').focus();
}

function currentPage() {
  const page = location.hash.slice(1);
  return PAGES.includes(page) ? page : 'fleet';
}

function showPage() {
  const page = currentPage();
  $('login').hidden = true;
  $('nav').hidden = false;
  $('sign-out').hidden = false;
  for (const p of PAGES) $(p).hidden = p !== page;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${PAGE_TITLES[page]} · tollway control plane`;
}

// Reads what the page shows, renders what changed, and comes back in REFRESH_MS.
async function refresh() {
  clearTimeout(state.timer);
  if (!sessionStorage.getItem(TOKEN_KEY)) return showLogin();
  try {
    const [fleet, history] = await Promise.all([api('/v1/fleet'), currentPage() === 'policy' ? api('/v1/history') : null,
      ...PAGE_HOOKS.map((hook) => hook.refresh(currentPage()))]);
    renderFleet(fleet);
    if (history) await renderPolicy(history);
    $('live').textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (error instanceof Unauthorized) return showLogin('The control plane refused that token. Sign in again.');
    $('live').textContent = `cannot reach the control plane: ${error.message}`;
  }
  state.timer = setTimeout(refresh, REFRESH_MS);
}

function summaryItem(term, value) {
  return el('div', {}, el('dt', {}, term), el('dd', {}, value));
}

function renderFleet(fleet) {
  state.fleet = fleet;
  const text = JSON.stringify(fleet);
  if (text === state.fleetText) return;
  state.fleetText = text;
  const counts = {};
  for (const n of fleet.nodes) counts[n.state] = (counts[n.state] || 0) + 1;
  $('fleet-summary').replaceChildren(
    summaryItem('Published revision', el('span', { class: 'mono', id: 'revision' }, fleet.revision || 'none yet')),
    summaryItem('Nodes', el('span', { id: 'node-count' }, fleet.nodes.length)),
    ...Object.keys(counts).sort().map((s) => summaryItem(s, el('span', { dataset: { count: s } }, counts[s]))),
    summaryItem('Control plane build', fleet.build),
  );
  const problems = [];
  if (fleet.store_error) problems.push(`Policy store: ${fleet.store_error}`);
  for (const e of fleet.policy_errors || []) problems.push(`Refused policy change: ${e}`);
  $('fleet-problems').replaceChildren(...problems.map((p) => el('li', {}, p)));
  $('nodes').tBodies[0].replaceChildren(...fleet.nodes.map((n) => {
    // One wrapper per cell: on a phone the cell is a two-column grid, its label and this.
    const cell = (label, ...content) => el('td', { dataset: { label } }, el('div', {}, ...content));
    const labels = Object.entries(n.labels || {}).map(([k, v]) => el('span', { class: 'label' }, `${k}=${v}`));
    return el('tr', { dataset: { node: n.id } },
      cell('Node', el('strong', {}, n.id)),
      cell('Role', n.role),
      cell('Labels', ...(labels.length ? labels : ['—'])),
      cell('State', el('span', { class: `state ${n.state}`, dataset: { field: 'state' } }, n.state),
        n.drifted ? el('div', { class: 'reason' }, 'drifted') : null,
        n.error ? el('div', { class: 'reason' }, n.error) : null),
      cell('Applied version', version(n.applied_version)),
      cell('Desired version', version(n.desired_version)),
      cell('Build', n.build || '—'),
      cell('Last seen', el('span', { title: n.last_seen || undefined }, ago(n.last_seen))),
      cell('Certificate expires', certificate(n)));
  }));
}

function renderNacks() {
  const refused = (state.fleet ? state.fleet.nodes : []).filter((n) => n.rejected_version || n.state === 'ERROR');
  $('nacks').hidden = refused.length === 0;
  $('nacks').querySelector('ul').replaceChildren(...refused.map((n) => el('li', { dataset: { node: n.id } },
    el('strong', {}, n.id), ' refused ', version(n.rejected_version), `: ${n.error || 'no reason given'}`)));
}

async function renderPolicy(history) {
  renderNacks();
  const text = JSON.stringify(history);
  if (text !== state.historyText) {
    state.historyText = text;
    state.history = history;
    const newest = history.versions[0];
    if (state.selectNewest || !history.versions.some((v) => v.revision === state.selected)) {
      state.selected = newest ? newest.revision : null;
      state.selectNewest = false;
    }
    $('store').textContent = `Store: ${history.store}`;
    $('versions').replaceChildren(...history.versions.map((v) => el('li', {},
      el('button', { type: 'button', 'aria-pressed': String(v.revision === state.selected), dataset: { revision: v.revision } },
        el('span', { class: 'rev mono' }, v.revision, v === newest ? el('span', { class: 'tag' }, 'CURRENT') : null),
        el('span', { class: 'who' }, `${v.published_at} · ${v.author || 'unknown author'}`),
        v.note ? el('span', { class: 'who' }, v.note) : null))));
  }
  await renderDetail();
}

function selectedVersion() {
  return state.history && state.history.versions.find((v) => v.revision === state.selected);
}

async function renderDetail() {
  const v = selectedVersion();
  $('detail').hidden = !v;
  if (!v) return;
  for (const b of $('versions').querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.revision === v.revision));
  const key = `${v.parent}..${v.revision}`;
  if (key === state.diffFor) return;
  state.diffFor = key;
  $('detail-title').textContent = `Version ${v.revision}`;
  const changes = v.changes.map((c) => `${c.change} ${c.file}${c.keys.length ? ` (${c.keys.join(', ')})` : ''}`);
  $('detail-meta').replaceChildren(
    summaryItem('Published', v.published_at),
    summaryItem('Author', v.author || 'unknown'),
    summaryItem('Commit', v.commit ? el('span', { class: 'mono', title: v.commit }, v.commit.slice(0, 12)) : '—'),
    summaryItem('Content hash', el('span', { class: 'mono', title: v.content_hash }, v.content_hash.slice(0, 12))),
    summaryItem('Changes', changes.length ? changes.join('; ') : 'none'),
    ...(v.note ? [summaryItem('Note', v.note)] : []));
  const current = state.history.versions[0];
  const canRollBack = state.history.rollback && v.content_hash !== current.content_hash;
  $('rollback').hidden = !canRollBack;
  $('confirm').hidden = true;
  $('rollback-note').textContent = !state.history.rollback
    ? 'This control plane reads its policy from a directory: roll back in Git (git revert), and it publishes the result.'
    : canRollBack ? '' : 'This is the content being served now.';
  $('confirm-text').textContent = `Publish the files of ${v.revision} again as a new version? Every node receives it.`;
  if (!v.parent) {
    $('diff-title').textContent = 'First version: nothing to compare with';
    $('diff').replaceChildren();
    return;
  }
  $('diff-title').textContent = `Changes from ${v.parent}`;
  const diff = await api(`/v1/history/diff?from=${encodeURIComponent(v.parent)}&to=${encodeURIComponent(v.revision)}`);
  $('diff').replaceChildren(...(diff.files.length ? diff.files.map(renderFile) : [el('p', { class: 'muted' }, 'No file changed.')]));
}

function renderFile(file) {
  const lines = file.diff.replace(/\n$/, '').split('\n').map((line) => {
    const kind = line.startsWith('@@') ? 'hunk' : line.startsWith('+') && !line.startsWith('+++') ? 'add'
      : line.startsWith('-') && !line.startsWith('---') ? 'del' : '';
    return el('span', { class: kind || undefined }, line);
  });
  return el('section', { class: 'file', dataset: { file: file.file } },
    el('h4', {}, `${file.change} ${file.file}`), el('pre', { tabindex: '0', 'aria-label': `diff of ${file.file}` }, ...lines));
}

async function rollback() {
  const v = selectedVersion();
  if (!v) return;
  $('confirm').hidden = true;
  $('rollback-result').textContent = `Rolling back to ${v.revision}…`;
  try {
    const result = await api('/v1/rollback', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ version: v.revision, author: 'web dashboard (admin token)' }),
    });
    $('rollback-result').textContent = `${result.message}. The control plane publishes it as a new version.`;
    state.selectNewest = result.result === 'published';
  } catch (error) {
    if (error instanceof Unauthorized) return showLogin('The control plane refused that token. Sign in again.');
    $('rollback-result').textContent = `Rollback refused: ${error.message}`;
  }
  refresh();
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    showPage();
    refresh();
  });
  $('sign-out').addEventListener('click', () => showLogin());
  $('versions').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-revision]');
    if (!button) return;
    state.selected = button.dataset.revision;
    $('rollback-result').textContent = '';
    renderDetail().catch((error) => { $('live').textContent = error.message; });
  });
  $('rollback').addEventListener('click', () => { $('confirm').hidden = false; $('confirm-yes').focus(); });
  $('confirm-no').addEventListener('click', () => { $('confirm').hidden = true; $('rollback').focus(); });
  $('confirm-yes').addEventListener('click', rollback);
  window.addEventListener('hashchange', () => {
    if (!sessionStorage.getItem(TOKEN_KEY)) return showLogin();
    showPage();
    $('main').focus();
    refresh();
  });
  if (sessionStorage.getItem(TOKEN_KEY)) {
    showPage();
    refresh();
  } else {
    showLogin();
  }
});
