// The dashboard's Traces page in a real browser (Debian's chromium, headless, playwright-core), fed by real nodes:
// two gateways in a chain (edge → inner → the mock provider) export their spans over OTLP/HTTP JSON (gzip) to the
// control plane's POST /v1/traces (--traces-unauthenticated on loopback). The provider fails the first attempt once,
// so the trace has a failed attempt and a retry. The page lists the trace as GET /v1/traces does; choosing it by
// keyboard shows the waterfall GET /v1/traces/ID returns (order, depth, offsets, durations, self times, marks in
// text), both viewports render without sideways scrolling, nothing logs an error and every request stays on the
// control plane's origin. Screenshots go to TOLLWAY_TEST_OUTPUT/ui (default: test-output/ui beside the binary).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TOLLWAY_BIN, startMock, startGateway, testConfig, postJson } from '../../lib/harness.mjs';
import { assertChromium, openBrowser } from '../../lib/browser.mjs';
import { policyDir, startControl, eventually, BASE, MODELS, providers } from './control_harness.mjs';

const ADMIN_TOKEN = 'admin-secret-for-the-traces-page';
const OUTPUT = path.join(process.env.TOLLWAY_TEST_OUTPUT ?? path.join(path.dirname(TOLLWAY_BIN), 'test-output'), 'ui');
const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 };

// A gateway whose spans go to the control plane, named `service`, sending chat completions to `upstream`.
function exportingGateway(service, upstream, controlUrl) {
  const cfg = testConfig({ openaiUrl: upstream });
  cfg.routes = cfg.routes.map((r) => (r.path === '/v1/chat/completions'
    ? { ...r, retries: { attempts: 2, backoff_base: '10ms', backoff_max: '100ms', on: ['5xx'] } } : r));
  cfg.telemetry = {
    service_name: service,
    tracing: { sample_ratio: '1.0', trust_incoming: 'always' },
    otlp: { endpoint: controlUrl, gzip: true, traces_interval: '100ms', metrics_interval: '1h' },
  };
  return startGateway({ config: cfg });
}

describe('dashboard Traces page', () => {
  let mock; let cp; let inner; let edge; let browser; let page; let traceId;
  const consoleErrors = [];
  const requests = [];
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

  before(async () => {
    assertChromium();
    fs.mkdirSync(OUTPUT, { recursive: true });
    mock = await startMock();
    const policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers(mock.url, mock.url));
    policy.write('models.yaml', MODELS);
    policy.write('nodes.yaml', 'nodes: {}\n');
    cp = await startControl({ policy: policy.dir, adminToken: ADMIN_TOKEN, extraArgs: ['--traces-unauthenticated'] });
    inner = await exportingGateway('gateway-inner', mock.url, cp.url);
    edge = await exportingGateway('gateway-edge', inner.url, cp.url);
    mock.failNext(1, 503);
    const r = await postJson(`${edge.url}/v1/chat/completions`, CHAT);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    // edge SERVER + CLIENT, inner SERVER + two CLIENT attempts (503, then 200).
    const list = await eventually(async () => {
      const l = await api('/v1/traces');
      return l.traces.length === 1 && l.traces[0].span_count === 5 && l;
    }, 15000, 'the request\'s five spans in the window');
    traceId = list.traces[0].trace_id;
    ({ browser, page } = await openBrowser(consoleErrors));
    page.on('request', (req) => requests.push(req.url()));
  });
  after(async () => {
    await browser?.close();
    await edge?.stop();
    await inner?.stop();
    await cp?.stop();
    await mock?.close();
  });

  it('the window holds the trace across both gateways with a failed attempt marked', async () => {
    const trace = await api(`/v1/traces/${traceId}`);
    assert.deepEqual(trace.services, ['gateway-edge', 'gateway-inner']);
    assert.equal(trace.hop_count, 2);
    assert.equal(trace.error_spans, 1);
    assert.deepEqual(trace.spans.map((s) => [s.service, s.kind, s.depth]), [
      ['gateway-edge', 'SERVER', 0], ['gateway-edge', 'CLIENT', 1], ['gateway-inner', 'SERVER', 2],
      ['gateway-inner', 'CLIENT', 3], ['gateway-inner', 'CLIENT', 3]]);
    assert.equal(trace.spans[3].http_status, 503);
    assert.equal(trace.spans[3].status, 'ERROR');
    for (const s of trace.spans) assert.ok(s.self_us >= 0 && s.self_us <= s.duration_us, JSON.stringify(s));
  });

  it('the page lists the trace as GET /v1/traces does and shows its waterfall as GET /v1/traces/ID does', async () => {
    await page.goto(`${cp.url}/ui#traces`);
    await page.locator('#token').focus();
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    const row = page.locator(`#trace-list tbody tr[data-trace="${traceId}"]`);
    await row.waitFor();
    const [summary] = (await api('/v1/traces')).traces;
    const field = (f) => row.locator(`[data-field=${f}]`);
    assert.equal(await field('name').textContent(), summary.name);
    assert.equal(await field('services').textContent(), summary.services.join(', '));
    assert.equal(Number(await field('span_count').textContent()), summary.span_count);
    assert.equal(Number(await field('hop_count').textContent()), summary.hop_count);
    assert.equal(Number(await field('duration_us').getAttribute('data-us')), summary.duration_us);
    assert.equal(await row.locator('[data-mark=error]').textContent(), '1 error');
    // Choose it by keyboard.
    await row.locator('button').press('Enter');
    await page.locator('#waterfall li').nth(4).waitFor();
    assert.equal(await row.locator('button').getAttribute('aria-pressed'), 'true');
    const trace = await api(`/v1/traces/${traceId}`);
    const shown = await page.locator('#waterfall li').evaluateAll((items) => items.map((li) => {
      const us = (f) => Number(li.querySelector(`[data-field=${f}]`).dataset.us);
      return {
        span_id: li.dataset.span, depth: Number(li.dataset.depth), name: li.querySelector('[data-field=name]').textContent,
        start_offset_us: us('start_offset_us'), duration_us: us('duration_us'), self_us: us('self_us'),
        marks: [...li.querySelectorAll('[data-mark]')].map((m) => m.dataset.mark),
        indent: parseFloat(li.querySelector('.span-label').style.paddingLeft) || 0,
        bar: { left: parseFloat(li.querySelector('.bar').style.left), width: parseFloat(li.querySelector('.bar').style.width) },
        text: li.textContent,
      };
    }));
    assert.deepEqual(shown.map(({ span_id, depth, name, start_offset_us, duration_us, self_us, marks }) => (
      { span_id, depth, name, start_offset_us, duration_us, self_us, marks })),
    trace.spans.map((s) => ({ span_id: s.span_id, depth: s.depth, name: s.name, start_offset_us: s.start_offset_us,
      duration_us: s.duration_us, self_us: s.self_us, marks: s.status === 'ERROR' ? ['error'] : [] })));
    for (const [i, s] of trace.spans.entries()) {
      assert.equal(shown[i].indent, s.depth * 14, 'indented by depth');
      assert.ok(Math.abs(shown[i].bar.left - (100 * s.start_offset_us) / trace.duration_us) < 0.01, 'bar placed by offset');
      assert.match(shown[i].text, /at \+.*took .*self /, 'timings written as text');
    }
    assert.ok(shown[3].text.includes(`error: ${trace.spans[3].status_message}`), 'the failed attempt\'s mark says why');
    assert.match(shown[3].text, /HTTP 503/);
    await noSidewaysScroll('Traces at 1280×800');
    await shot('traces-1280-waterfall');
  });

  it('a trace is found by its ID (any case); a malformed ID is refused on the page and an unknown one says so', async () => {
    await page.locator('#trace-id').fill('not-a-trace');
    await page.locator('#trace-id').press('Enter');
    assert.equal(await page.locator('#trace-id').getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#live').textContent(), /32 hex digits/);
    const errorsBefore = consoleErrors.length;
    await page.locator('#trace-id').fill('ab'.repeat(16));
    await page.locator('#trace-id').press('Enter');
    await eventually(async () => /not|no trace/i.test(await page.locator('#trace-gone').textContent()), 10000,
      'the unknown trace\'s message');
    // Chromium logs the API's 404 for the unknown trace as a failed load; that one is expected, nothing else.
    const logged = consoleErrors.splice(errorsBefore);
    assert.ok(logged.every((e) => /status of 404/.test(e)), logged.join('\n'));
    await page.locator('#trace-id').fill(traceId.toUpperCase());
    await page.locator('#trace-id').press('Enter');
    await page.locator('#waterfall li').nth(4).waitFor();
    assert.equal(await page.locator('#trace-id').getAttribute('aria-invalid'), null);
    assert.equal(await page.locator(`#trace-list button[data-trace="${traceId}"]`).getAttribute('aria-pressed'), 'true');
  });

  it('both viewports render without sideways scrolling; nothing logged an error or left the origin', async () => {
    for (const [width, height] of [[390, 844], [1280, 800]]) {
      await page.setViewportSize({ width, height });
      await page.goto(`${cp.url}/ui#traces`);
      await page.locator(`#trace-list button[data-trace="${traceId}"]`).click();
      await page.locator('#waterfall li').nth(4).waitFor();
      await noSidewaysScroll(`Traces at ${width}×${height}`);
      await shot(`traces-${width}`);
    }
    assert.deepEqual(consoleErrors, []);
    const foreign = requests.filter((u) => new URL(u).origin !== new URL(cp.url).origin);
    assert.deepEqual(foreign, [], 'every request goes to the control plane');
  });
});
