// tollway dashboard, firing alerts: above every page, what GET /v1/alerts returns — the alerts the control plane
// evaluates from its own state (same names and thresholds as deploy/prometheus/rules.yml). Loads after app.js and
// uses its helpers; renders text only and never pages anyone.
'use strict';

const alertsView = { text: '' };

function renderAlerts(body) {
  const text = JSON.stringify(body.alerts);
  if (text === alertsView.text) return;
  alertsView.text = text;
  $('alerts').hidden = body.alerts.length === 0;
  $('alerts').querySelector('ul').replaceChildren(...body.alerts.map((a) => el('li',
    { class: `alert ${a.severity}`, dataset: { alert: a.name, subject: a.subject } },
    el('span', { class: 'severity' }, a.severity), ' ', el('strong', {}, a.name), ` ${a.message}`,
    el('span', { class: 'since', title: a.since }, ` · since ${new Date(a.since).toLocaleString()}`))));
}

PAGE_HOOKS.push({
  refresh: async () => renderAlerts(await api('/v1/alerts')),
  reset: () => {
    alertsView.text = '';
    $('alerts').hidden = true;
  },
});
