// The dashboard's Budgets page, alerts and NACKs in a real browser (Debian's chromium, headless, playwright-core). A
// control plane on a policy directory with two managed gateways; gw-a spends a leased budget (`ledger: leased`, per
// model) against the mock provider until the control plane sees over 80 % of it spent: the Budgets page shows every
// key's numbers and each node's lease exactly as GET /v1/budgets does, with a chart, and TollwayBudget80Percent
// fires (GET /v1/alerts) and shows both in the banner every page has and beside the budget. Then a policy that
// passes the control plane but that the nodes refuse (NACK): the Fleet page shows ERROR with the reason and the
// Policy page lists the refusal, exactly as GET /v1/fleet reports them. Neither 1280×800 nor 390×844 scrolls
// sideways. Screenshots go to TOLLWAY_TEST_OUTPUT/ui (default: test-output/ui beside the tollway binary).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TOLLWAY_BIN, SOURCE_DIR, startMock, postJson, tempDir } from '../../lib/harness.mjs';
import { assertChromium, openBrowser } from '../../lib/browser.mjs';
import { policyDir, startControl, startManagedGateway, eventually, sha256, BASE, MODELS, providers }
  from './control_harness.mjs';

const ADMIN_TOKEN = 'admin-secret-for-the-budgets-ui';
const NODES = { 'gw-a': 'token-of-gw-a', 'gw-b': 'token-of-gw-b' };
const LIMIT = 1500;
const LIMITS = `limits:
  ledger: leased
  budgets:
    - {name: model-tokens, match: {model: "gpt-*"}, per: [model], unit: total_tokens, limit: ${LIMIT}, period: day}
`;
const OUTPUT = path.join(process.env.TOLLWAY_TEST_OUTPUT ?? path.join(path.dirname(TOLLWAY_BIN), 'test-output'), 'ui');

describe('web dashboard: budgets, alerts and NACKs', () => {
  let mock; let policy; let cp; let browser; let page;
  const gw = {};
  const consoleErrors = [];
  const api = async (p) => {
    const r = await fetch(`${cp.url}${p}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(r.status, 200, `${p}: ${await r.clone().text()}`);
    return r.json();
  };
  const shot = (name) => page.screenshot({ path: path.join(OUTPUT, `${name}.png`), fullPage: true });
  const noSidewaysScroll = async (what) => {
    const { scrollWidth, innerWidth } = await page.evaluate(() => (
      { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    assert.ok(scrollWidth <= innerWidth, `${what}: the page is ${scrollWidth}px wide in a ${innerWidth}px viewport`);
  };
  // Compares what the page shows with the API's answer until one reading agrees (the page refreshes every 3 s).
  const agrees = (what, read) => eventually(async () => {
    const [shown, expected] = await read();
    try { assert.deepEqual(shown, expected); return true; } catch (e) { return e; }
  }, 15000, what);

  before(async () => {
    assertChromium();
    fs.mkdirSync(OUTPUT, { recursive: true });
    mock = await startMock();
    policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers(mock.url, mock.url));
    policy.write('models.yaml', MODELS);
    policy.write('limits.yaml', LIMITS);
    policy.write('nodes.yaml', `nodes:\n${Object.entries(NODES).map(([id, token]) => (
      `  ${id}:\n    labels: {role: gateway}\n    token_sha256: ${sha256(token)}\n`)).join('')}`);
    cp = await startControl({ policy: policy.dir, adminToken: ADMIN_TOKEN,
      extraArgs: ['--lease-sync-interval', '200ms', '--lease-ttl', '2s'] });
    for (const [node, token] of Object.entries(NODES)) {
      gw[node] = await startManagedGateway({ control: cp.url, node, token, stateDir: tempDir(`tollway-${node}-`) });
    }
    await new Promise((r) => setTimeout(r, 2100));  // the control plane's learning period after its start
    ({ browser, page } = await openBrowser(consoleErrors));
    await page.goto(`${cp.url}/ui#budgets`);
    await page.locator('#token').fill(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.locator('#budgets').waitFor();
  });
  after(async () => {
    await browser?.close();
    for (const g of Object.values(gw)) await g.stop();
    await cp?.stop();
    await mock?.close();
  });

  it('spend past 80 % of a leased budget: the Budgets page shows GET /v1/budgets and the alert fires', async () => {
    let budget;
    for (let i = 0; i < 200; i += 1) {
      const r = await postJson(`${gw['gw-a'].url}/v1/chat/completions`, {
        model: 'gpt-4o', max_tokens: 16, messages: [{ role: 'user', content: 'spend a little of the budget' }],
      });
      assert.equal(r.status, 200, r.text);
      await new Promise((resolve) => setTimeout(resolve, 250));  // one report from the node
      budget = (await api('/v1/budgets')).budgets.find((b) => b.budget === 'model-tokens');
      if (budget && budget.used_ratio >= 0.8) break;
    }
    assert.ok(budget.used_ratio >= 0.8 && budget.used_ratio < 1, `spent ${budget.spent} of ${budget.limit}`);
    assert.deepEqual(budget.dimensions, { model: 'gpt-4o' });
    assert.equal(budget.limit, LIMIT);
    assert.match(budget.period, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(budget.leases.some((l) => l.node === 'gw-a' && l.valid));
    const alerts = await eventually(async () => {
      const a = (await api('/v1/alerts')).alerts;
      return a.some((x) => x.name === 'TollwayBudget80Percent' && x.subject === budget.key) && a;
    }, 5000, 'TollwayBudget80Percent in GET /v1/alerts');
    const alert = alerts.find((x) => x.name === 'TollwayBudget80Percent');
    assert.equal(alert.severity, 'warning');
    assert.match(alert.message, /^Leased budget budget\|model-tokens\|model\|gpt-4o\|.* is \d+% spent$/);

    await agrees('the Budgets page to show what /v1/budgets returns', async () => {
      const body = await api('/v1/budgets');
      const shown = await page.evaluate(() => [...document.querySelectorAll('#budget-groups article.budget')].map((a) => {
        const field = (f) => a.querySelector(`[data-field=${f}]`).textContent;
        return { key: a.dataset.key, spent: field('spent'), limit: field('limit'), remaining: field('remaining'),
          leased: field('leased'), period: field('period'), chart: a.querySelectorAll('svg polyline').length };
      }));
      const n = (x) => x.toLocaleString('en-US');
      const expected = body.budgets.map((b) => ({ key: b.key, spent: `${n(b.spent)} (${Math.floor(b.used_ratio * 100)} %)`,
        limit: n(b.limit), remaining: n(b.remaining), leased: n(b.leased), period: b.period, chart: 1 }));
      return [shown, expected];
    });
    await agrees('the leases table to show each node\'s lease as /v1/budgets does', async () => {
      const body = await api('/v1/budgets');
      const shown = await page.evaluate(() => [...document.querySelectorAll('#leases tbody tr')].map((tr) => ({
        key: tr.dataset.key, node: tr.dataset.node,
        used: tr.querySelector('[data-field=used]').textContent, granted: tr.querySelector('[data-field=granted]').textContent,
      })));
      const expected = body.budgets.flatMap((b) => b.leases.map((l) => ({
        key: b.key, node: l.node, used: l.used.toLocaleString('en-US'), granted: l.granted.toLocaleString('en-US') })));
      return [shown, expected];
    });
    const beside = page.locator(`article.budget[data-key="${budget.key}"] .budget-alerts li[data-alert=TollwayBudget80Percent]`);
    await beside.waitFor();
    await page.locator(`#alerts li[data-alert=TollwayBudget80Percent][data-subject="${budget.key}"]`).waitFor();
    await noSidewaysScroll('Budgets at 1280×800');
    await shot('budgets-1280');
  });

  it('the filter and the grouping are keyboard-usable', async () => {
    await page.locator('#budget-group').focus();
    await page.keyboard.press('End');  // the last option: nothing (one list)
    await page.locator('#budget-groups h2', { hasText: 'All budget keys' }).waitFor();
    await page.locator('#budget-filter').focus();
    await page.keyboard.type('model=gpt-none');
    await page.locator('#budget-empty', { hasText: 'No budget key matches' }).waitFor();
    assert.equal(await page.locator('#budget-groups article').count(), 0);
    await page.locator('#budget-filter').fill('model=gpt-4o');
    await page.locator('#budget-groups article').first().waitFor();
    await page.locator('#budget-filter').fill('');
  });

  it('a snapshot the nodes refuse (NACK) shows on the Fleet and Policy pages with its reason, as /v1/fleet reports it', async () => {
    // A price table beside the policy: it resolves in the policy directory for the control plane's check, and in
    // each gateway's state directory, where it does not exist, for the gateway.
    policy.write('data/prices.yaml', fs.readFileSync(path.join(SOURCE_DIR, 'config', 'pricing.yaml'), 'utf8'));
    policy.write('pricing.yaml', 'pricing:\n  file: data/prices.yaml\n');
    await eventually(async () => (await api('/v1/fleet')).nodes.every((n) => n.state === 'ERROR'), 15000, 'both nodes in ERROR');
    await page.goto(`${cp.url}/ui#fleet`);
    await agrees('the Fleet page to show each NACK as /v1/fleet does', async () => {
      const fleet = await api('/v1/fleet');
      const shown = await page.evaluate(() => [...document.querySelectorAll('#nodes tbody tr')].map((tr) => ({
        id: tr.dataset.node,
        state: tr.querySelector('[data-field=state]').textContent,
        reason: tr.querySelector('td[data-label=State] .reason')?.textContent ?? null,
        certificate: tr.querySelector('td[data-label="Certificate expires"]').textContent,
      })));
      const expected = fleet.nodes.map((n) => ({ id: n.id, state: n.state, reason: n.error, certificate: '—' }));
      return [shown, expected];
    });
    const fleet = await api('/v1/fleet');
    for (const n of fleet.nodes) assert.match(n.error, /pricing\.file: cannot read/);
    await shot('fleet-nack-1280');
    // Focus and Enter in one step: a live refresh between the two may take the focus away.
    await page.locator('nav a[data-page=policy]').press('Enter');
    await page.locator('#policy').waitFor();
    await agrees('the Policy page to list each refusal as /v1/fleet does', async () => {
      const f = await api('/v1/fleet');
      const shown = await page.evaluate(() => [...document.querySelectorAll('#nacks li')].map((li) => li.textContent));
      return [shown, f.nodes.map((n) => `${n.id} refused ${n.rejected_version.slice(0, 12)}: ${n.error}`)];
    });
    // Visible, waited for rather than sampled at one instant: a live refresh re-renders the page meanwhile.
    await page.locator('#nacks').waitFor({ state: 'visible', timeout: 5000 });
    await shot('policy-nack-1280');
  });

  it('both viewports render without sideways scrolling; no page logged an error', async () => {
    for (const [width, height] of [[390, 844], [1280, 800]]) {
      await page.setViewportSize({ width, height });
      for (const p of ['budgets', 'fleet', 'policy']) {
        await page.goto(`${cp.url}/ui#${p}`);
        await page.locator(`#${p}`).waitFor();
        await page.locator('#alerts li').first().waitFor();  // the banner shows on every page
        await noSidewaysScroll(`${p} at ${width}×${height}`);
        await shot(`alerts-${p}-${width}`);
      }
    }
    assert.deepEqual(consoleErrors, []);
  });
});
