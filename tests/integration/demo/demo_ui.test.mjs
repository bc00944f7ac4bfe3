// The dashboard on the demo's own fleet, in a real browser (Debian's chromium, headless, driven by playwright-core):
// `tollway demo --work-dir D` runs until SIGINT; the browser trusts nothing but what it is told (the demo's CA is
// private, so the context ignores HTTPS errors; the API calls here verify against D/ca.pem). Every page shows the
// demo fleet's real numbers as the control plane's API returns them: the four nodes SYNCED with their roles and
// certificate expiry (Fleet), the leased mesh budget and each sidecar's lease (Budgets), task 1's trace with the
// tools agent's repaired orphan (Traces), the demo policy's versions (Policy), the measured calls, tokens, calls per
// trace, latency tax per hop, orphans and leased budget as GET /v1/advice gives them (Advice); both viewports
// without sideways scrolling, no console error, nothing fetched from another origin; then SIGINT stops the demo and
// every process it started. Screenshots go to TOLLWAY_TEST_OUTPUT/ui (default: test-output/ui beside the tollway binary).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TOLLWAY_BIN, tempDir } from '../../lib/harness.mjs';
import { assertChromium, openBrowser } from '../../lib/browser.mjs';
import { eventually, httpsJson } from '../control/control_harness.mjs';

const OUTPUT = path.join(process.env.TOLLWAY_TEST_OUTPUT ?? path.join(path.dirname(TOLLWAY_BIN), 'test-output'), 'ui');

describe('the dashboard on the demo fleet', () => {
  let demo; let dir; let url; let token; let ca; let browser; let page; let firstTrace;
  let stdout = ''; let exited;
  const consoleErrors = []; const requests = [];
  const api = async (p) => {
    const r = await httpsJson(`${url}${p}`, { ca, headers: { authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200, `${p}: ${r.text}`);
    return r.json;
  };
  const shot = (name) => page.screenshot({ path: path.join(OUTPUT, `demo-${name}.png`), fullPage: true });
  const noSidewaysScroll = async (what) => {
    const { scrollWidth, innerWidth } = await page.evaluate(() => (
      { scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    assert.ok(scrollWidth <= innerWidth, `${what}: the page is ${scrollWidth}px wide in a ${innerWidth}px viewport`);
  };
  // The page refreshes every 3 s: compare once the page and the API agree on one reading.
  const agrees = (what, read) => eventually(async () => {
    const [shown, expected] = await read();
    try { assert.deepEqual(shown, expected); return true; } catch (e) { return e; }
  }, 15000, what);
  // To a page by keyboard: focus its link and press Enter (one step: a live refresh may move the focus between two).
  const show = async (pageName) => {
    await page.locator(`nav a[data-page=${pageName}]`).press('Enter');
    await page.locator(`#${pageName}`).waitFor();
  };

  before(async () => {
    assertChromium();
    fs.mkdirSync(OUTPUT, { recursive: true });
    dir = tempDir('tollway-demo-ui-');
    demo = spawn(TOLLWAY_BIN, ['demo', '--work-dir', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    exited = new Promise((resolve) => demo.on('exit', (code, signal) => resolve({ code, signal })));
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the demo printed no dashboard URL:\n${stdout}`)), 120_000);
      demo.stdout.on('data', (c) => {
        stdout += c;
        const m = stdout.match(/dashboard: (https:\/\/127\.0\.0\.1:\d+)\/ui/);
        if (m) { clearTimeout(timer); url = m[1]; resolve(); }
      });
      demo.on('exit', (code) => reject(new Error(`the demo exited ${code}:\n${stdout}`)));
    });
    token = fs.readFileSync(path.join(dir, 'admin.token'), 'utf8').trim();
    ca = fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8');
    firstTrace = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8')).trace.trace_id;
    ({ browser, page } = await openBrowser(consoleErrors, { ignoreHTTPSErrors: true }));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${url}/ui`);
    await page.locator('#token').focus();
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');
    await page.locator('#nodes tbody tr').nth(3).waitFor();
  });
  after(async () => {
    await browser?.close();
    if (demo && demo.exitCode === null) demo.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('Fleet: the four demo nodes, SYNCED, with their roles and certificate expiry, as GET /v1/fleet', async () => {
    await agrees('the Fleet page to show /v1/fleet', async () => {
      const fleet = await api('/v1/fleet');
      const shown = await page.evaluate(() => [...document.querySelectorAll('#nodes tbody tr')].map((tr) => {
        const cell = (label) => tr.querySelector(`td[data-label="${label}"]`);
        return { id: tr.dataset.node, role: cell('Role').textContent,
          state: cell('State').querySelector('[data-field=state]').textContent,
          expires: /^expires in \d+h \d+m$|^expires in \d+m$/.test(cell('Certificate expires').textContent) };
      }));
      return [shown, fleet.nodes.map((n) => ({ id: n.id, role: n.role, state: n.state, expires: n.cert_not_after !== null }))];
    });
    const fleet = await api('/v1/fleet');
    assert.deepEqual(fleet.nodes.map((n) => [n.id, n.role, n.state]).sort(), [
      ['gateway', 'gateway', 'SYNCED'], ['orchestrator', 'sidecar', 'SYNCED'], ['retrieval', 'sidecar', 'SYNCED'],
      ['tools', 'sidecar', 'SYNCED']]);
    await noSidewaysScroll('Fleet at 1280×800');
    await shot('fleet-1280');
  });

  it('Budgets: the sidecars\' leased budget and each one\'s lease, as GET /v1/budgets', async () => {
    await show('budgets');
    await agrees('the Budgets page to show /v1/budgets', async () => {
      const body = await api('/v1/budgets');
      const shown = await page.evaluate(() => [...document.querySelectorAll('#budget-groups article.budget')].map((a) => ({
        key: a.dataset.key, spent: a.querySelector('[data-field=spent]').textContent,
        limit: a.querySelector('[data-field=limit]').textContent })));
      const n = (x) => x.toLocaleString('en-US');
      return [shown, body.budgets.map((b) => ({ key: b.key, spent: `${n(b.spent)} (${Math.floor(b.used_ratio * 100)} %)`,
        limit: n(b.limit) }))];
    });
    const [mesh] = (await api('/v1/budgets')).budgets;
    assert.equal(mesh.budget, 'mesh-llm-tokens');
    assert.ok(mesh.spent > 0);
    assert.deepEqual([...new Set(mesh.leases.map((l) => l.node))].sort(), ['orchestrator', 'retrieval', 'tools']);
    await noSidewaysScroll('Budgets at 1280×800');
    await shot('budgets-1280');
  });

  it('Traces: task 1\'s trace across every hop, with the repaired orphan, as GET /v1/traces/ID', async () => {
    await show('traces');
    // The list holds the newest traces; task 1's, older, is found by the ID the summary printed.
    await page.locator('#trace-list tbody tr').first().waitFor();
    await page.locator('#trace-id').fill(firstTrace);
    await page.locator('#trace-id').press('Enter');
    const trace = await api(`/v1/traces/${firstTrace}`);
    assert.deepEqual(trace.services.sort(), ['gateway', 'orchestrator', 'orchestrator-sidecar', 'retrieval-sidecar',
      'tools-sidecar']);
    assert.ok(trace.spans.some((s) => s.repaired && s.service === 'tools-sidecar'), 'the tools agent\'s call is repaired');
    await page.locator('#waterfall li').nth(trace.spans.length - 1).waitFor();
    const shown = await page.locator('#waterfall li').evaluateAll((items) => items.map((li) => ({
      span_id: li.dataset.span, depth: Number(li.dataset.depth),
      self_us: Number(li.querySelector('[data-field=self_us]').dataset.us),
      marks: [...li.querySelectorAll('[data-mark]')].map((m) => m.dataset.mark) })));
    assert.deepEqual(shown.map(({ span_id, depth, self_us }) => ({ span_id, depth, self_us })),
      trace.spans.map((s) => ({ span_id: s.span_id, depth: s.depth, self_us: s.self_us })));
    assert.ok(shown.some((s) => s.marks.includes('repaired')), 'the repaired span is marked on the page');
    await noSidewaysScroll('Traces at 1280×800');
    await shot('traces-1280');
  });

  it('Advice: the measured calls, tokens, calls per trace, tax per hop, orphans and budgets, as GET /v1/advice', async () => {
    await show('advice');
    // Each measure's numbers as the page holds them (<data value>), and as the API's answer gives them. Nodes' CPU and
    // memory move with every poll: only their rows are checked, not their values.
    const expected = (a) => {
      const t = a.measured.traces; const c = t.calls; const tax = t.latency_tax_us;
      const spread = (s) => (s.count ? [s.p50, s.p95] : []);
      const rows = {
        calls: [c.total, t.traces_with_calls, c.north_south, c.east_west, c.tool, c.egress],
        tokens: [t.tokens.north_south, t.tokens.behind_east_west],
        calls_per_trace: [t.calls_per_trace.p50, t.calls_per_trace.p95, t.calls_per_trace.max,
          ...Object.entries(t.traces_by_calls).flatMap(([calls, n]) => [n, Number(calls)])],
        tax_per_trace: spread(tax.per_trace),
        orphans: [t.orphan_traces, t.traces_with_calls, t.repaired_spans, t.orphan_spans],
        drift: [a.measured.fleet.nodes.filter((n) => n.drifted).length,
          a.measured.fleet.nodes.filter((n) => n.rejected_version).length, a.measured.fleet.policy_versions],
      };
      for (const k of ['gateway', 'sidecar_to_gateway', 'sidecar_to_sidecar']) {
        rows[`tax_${k}`] = tax[k].count ? [...spread(tax[k]), tax[k].count] : [];
      }
      for (const b of a.measured.leased_budgets) rows[`leased ${b.key}`] = [b.spent, b.limit, b.overspend, b.holders];
      for (const n of a.measured.fleet.nodes) rows[`node ${n.id}`] = 'shown';
      return rows;
    };
    let advice;
    await agrees('the Advice page to show /v1/advice', async () => {
      advice = await api('/v1/advice');
      const shown = await page.locator('#advice-measured tbody tr').evaluateAll((trs) => Object.fromEntries(trs
        .filter((tr) => !['agents', 'gap'].includes(tr.dataset.measure))
        .map((tr) => [tr.dataset.measure, tr.dataset.measure.startsWith('node ') ? 'shown'
          : [...tr.querySelectorAll('data')].map((d) => Number(d.value))])));
      return [shown, expected(advice)];
    });
    // The demo's own counts: every call of its workload, north-south and east-west.
    const { workload } = JSON.parse(fs.readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    assert.equal(advice.measured.traces.calls.north_south, workload.north_south_calls);
    assert.equal(advice.measured.traces.calls.east_west, workload.east_west_calls);
    // The topology factor from the measured share, as the API scores it ("48% of calls east-west: leans both").
    const topology = advice.factors.find((f) => f.factor === 'topology');
    const [, percent] = topology.answer.match(/^(\d+)% of calls east-west$/);
    assert.ok(Math.abs(percent - advice.measured.east_west_share * 100) <= 0.5, topology.answer);
    assert.equal(await page.locator('#advice-topology [data-field=topology]').textContent(),
      `${topology.answer}: leans ${topology.lean}`);
    await noSidewaysScroll('Advice at 1280×800');
    await shot('advice-1280');
  });

  it('Policy: the demo policy\'s versions, as GET /v1/history', async () => {
    await show('policy');
    const history = await api('/v1/history');
    await eventually(async () => {
      const shown = await page.locator('#versions button').evaluateAll((bs) => bs.map((b) => b.dataset.revision));
      return JSON.stringify(shown) === JSON.stringify(history.versions.map((v) => v.revision));
    }, 10000, 'the version list');
    await shot('policy-1280');
  });

  it('a phone-sized viewport, no console error, nothing from another origin; SIGINT stops the whole demo', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const p of ['fleet', 'budgets', 'traces', 'policy', 'advice']) {
      await show(p);
      await noSidewaysScroll(`${p} at 390×844`);
      await shot(`${p}-390`);
    }
    assert.deepEqual(consoleErrors, []);
    assert.deepEqual(requests.filter((u) => new URL(u).origin !== url), [], 'every request goes to the control plane');
    demo.kill('SIGINT');
    const { code } = await exited;
    assert.equal(code, 0, stdout);
    assert.match(stdout, /stopped\.\n$/);
    const left = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((pid) => {
      try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir); } catch { return false; }
    });
    assert.deepEqual(left, [], 'a process of the demo still runs');
  });
});
