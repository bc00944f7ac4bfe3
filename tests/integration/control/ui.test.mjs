// The web dashboard (/ui) in a real browser: Debian's chromium, headless, driven by playwright-core. An etcd-backed
// control plane with two gateways under it and two published versions: the shell loads with no console error and
// asks for the admin token; the Fleet page shows every node's state, role, labels and versions exactly as GET
// /v1/fleet does; the Policy page lists the versions GET /v1/history returns and shows the diff GET
// /v1/history/diff gives; Rollback from the page (with its confirm step, by keyboard) publishes the old content
// as a new version and the nodes converge to it; a wrong token brings the form back; every request goes to the
// control plane's origin; neither 1280×800 nor 390×844 scrolls sideways; the whole UI weighs at most 300 KB.
// Screenshots go to TOLLWAY_TEST_OUTPUT/ui (default: test-output/ui beside the tollway binary).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { TOLLWAY_BIN, startMock, runTollway } from '../../lib/harness.mjs';
import { assertChromium, openBrowser } from '../../lib/browser.mjs';
import { policyDir, startControl, startManagedGateway, startEtcd, eventually, sha256, BASE, MODELS, providers }
  from './control_harness.mjs';

const ADMIN_TOKEN = 'admin-secret-for-the-ui';
const PREFIX = '/tollway/policy';
const NODES = { 'gw-a': 'token-of-gw-a', 'gw-b': 'token-of-gw-b' };
const NODES_YAML = `nodes:
  gw-a:
    labels: {role: gateway, zone: a}
    token_sha256: ${sha256(NODES['gw-a'])}
  gw-b:
    labels: {role: gateway, zone: b}
    token_sha256: ${sha256(NODES['gw-b'])}
`;
const UI_FILES = ['/ui', '/ui/app.js', '/ui/app.css', '/ui/budgets.js', '/ui/budgets.css', '/ui/alerts.js', '/ui/traces.js', '/ui/advise.js',
  '/ui/favicon.svg'];
const MAX_UI_BYTES = 300 * 1024;
const OUTPUT = path.join(process.env.TOLLWAY_TEST_OUTPUT ?? path.join(path.dirname(TOLLWAY_BIN), 'test-output'), 'ui');

describe('web dashboard', () => {
  let mock; let etcd; let policy; let cp; let browser; let context; let page;
  const gateways = [];
  let firstVersions;  // each node's version of the first policy
  const consoleErrors = [];
  const requests = [];
  const api = async (p, options = {}) => {
    const r = await fetch(`${cp.url}${p}`, { ...options, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...options.headers } });
    assert.equal(r.status, 200, `${p}: ${await r.clone().text()}`);
    return r.json();
  };
  const publish = async (author) => {
    const r = await runTollway(['control', 'publish', policy.dir, '--etcd', etcd.url, '--prefix', PREFIX, '--author', author]);
    assert.equal(r.code, 0, r.stderr);
  };
  // Every node SYNCED on the revision whose counter is `counter`.
  const converged = (counter) => eventually(async () => {
    const f = await api('/v1/fleet');
    return f.revision?.startsWith(`${counter}-`) && f.nodes.every((n) => n.state === 'SYNCED'
      && n.applied_version === n.desired_version) && f;
  }, 20000, `every node SYNCED on version ${counter}`);
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
    etcd = await startEtcd();
    policy = policyDir();
    policy.write('base.yaml', BASE);
    policy.write('providers.yaml', providers(mock.url, mock.url));
    policy.write('models.yaml', MODELS);
    policy.write('nodes.yaml', NODES_YAML);
    await publish('Ana');
    cp = await startControl({ etcd: etcd.url, prefix: PREFIX, adminToken: ADMIN_TOKEN });
    for (const [node, token] of Object.entries(NODES)) {
      gateways.push(await startManagedGateway({ control: cp.url, node, token, stateDir: policyDir().dir }));
    }
    firstVersions = Object.fromEntries((await converged(1)).nodes.map((n) => [n.id, n.applied_version]));
    policy.write('models.yaml', `${MODELS}  - match: "mistral-*"\n    provider: alt\n`);
    await publish('Bo');
    await converged(2);
    ({ browser, context, page } = await openBrowser(consoleErrors));
    page.on('request', (r) => requests.push(r.url()));
  });
  after(async () => {
    await browser?.close();
    for (const gw of gateways) await gw.stop();
    await cp?.stop();
    await etcd?.stop();
    await mock?.close();
  });

  it('the whole UI weighs at most 300 KB and is served with a strict CSP', async () => {
    let total = 0;
    for (const file of UI_FILES) {
      const r = await fetch(`${cp.url}${file}`);
      assert.equal(r.status, 200, file);
      assert.match(r.headers.get('content-security-policy'), /^default-src 'self';/);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      total += (await r.arrayBuffer()).byteLength;
    }
    console.log(`UI weight: ${total} bytes uncompressed (${UI_FILES.join(', ')})`);
    assert.ok(total <= MAX_UI_BYTES, `the UI is ${total} bytes, over ${MAX_UI_BYTES}`);
  });

  it('the shell asks for the admin token; signing in by keyboard shows the Fleet page', async () => {
    await page.goto(`${cp.url}/ui`);
    await page.locator('#login-form').waitFor();
    assert.equal(await page.locator('#token').evaluate((e) => e === document.activeElement), true);
    await shot('login-1280');
    await page.keyboard.type(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.locator('#nodes tbody tr').nth(1).waitFor();
    assert.equal(await page.locator('#login').isHidden(), true);
    // Each page the navigation names is its own section of <main>, not nested in another (which would hide it).
    const [pages, sections] = await page.evaluate(() => [
      [...document.querySelectorAll('nav a[data-page]')].map((a) => a.dataset.page),
      [...document.querySelectorAll('main > section')].map((s) => s.id)]);
    for (const p of pages) assert.ok(sections.includes(p), `#${p} is not a section of <main>: ${sections}`);
  });

  it('the Fleet page shows every node as GET /v1/fleet does', async () => {
    // The page refreshes every 3 s: compare once the API and the page agree on one reading.
    await eventually(async () => {
      const fleet = await api('/v1/fleet');
      const shown = await page.evaluate(() => [...document.querySelectorAll('#nodes tbody tr')].map((tr) => {
        const cell = (label) => tr.querySelector(`td[data-label="${label}"]`);
        return {
          id: tr.dataset.node,
          role: cell('Role').textContent,
          labels: [...cell('Labels').querySelectorAll('.label')].map((l) => l.textContent),
          state: cell('State').querySelector('[data-field=state]').textContent,
          applied_version: cell('Applied version').querySelector('[data-version]').dataset.version,
          desired_version: cell('Desired version').querySelector('[data-version]').dataset.version,
          build: cell('Build').textContent,
        };
      }));
      const expected = fleet.nodes.map((n) => ({
        id: n.id, role: n.role, labels: Object.entries(n.labels).map(([k, v]) => `${k}=${v}`), state: n.state,
        applied_version: n.applied_version ?? '', desired_version: n.desired_version, build: n.build ?? '—',
      }));
      const summary = await page.evaluate(() => ({
        revision: document.getElementById('revision').textContent,
        nodes: Number(document.getElementById('node-count').textContent),
        synced: Number(document.querySelector('[data-count=SYNCED]')?.textContent),
      }));
      try {
        assert.deepEqual(shown, expected);
        assert.deepEqual(summary, { revision: fleet.revision, nodes: fleet.nodes.length,
          synced: fleet.nodes.filter((n) => n.state === 'SYNCED').length });
        return true;
      } catch (e) { return e; }
    }, 15000, 'the Fleet page to show what /v1/fleet returns');
    assert.equal(await page.locator('#nodes tbody tr').count(), Object.keys(NODES).length);
    await noSidewaysScroll('Fleet at 1280×800');
    await shot('fleet-1280-signed-in');
  });

  it('the Policy page lists the versions GET /v1/history returns and shows the diff of the newest', async () => {
    await page.locator('nav a[data-page=policy]').press('Enter');
    const history = await api('/v1/history');
    assert.equal(history.versions.length, 2);
    assert.equal(history.rollback, true);
    await eventually(async () => {
      const shown = await page.locator('#versions button').evaluateAll((bs) => bs.map((b) => b.dataset.revision));
      return JSON.stringify(shown) === JSON.stringify(history.versions.map((v) => v.revision));
    }, 10000, 'the version list');
    const [newest, first] = history.versions;
    assert.equal(await page.locator(`#versions button[data-revision="${newest.revision}"]`).getAttribute('aria-pressed'), 'true');
    assert.match(await page.locator(`#versions button[data-revision="${newest.revision}"]`).textContent(), /Bo/);
    const diff = await api(`/v1/history/diff?from=${first.revision}&to=${newest.revision}`);
    assert.ok(diff.files.length > 0);
    for (const file of diff.files) {
      const pre = page.locator(`#diff [data-file="${file.file}"] pre`);
      await pre.waitFor();
      const lines = await pre.locator('span').allTextContents();
      assert.deepEqual(lines, file.diff.replace(/\n$/, '').split('\n'), `the diff of ${file.file}`);
    }
    assert.equal(await page.locator('#diff .add').count() > 0, true);
    await noSidewaysScroll('Policy at 1280×800');
    await shot('policy-1280-diff');
  });

  it('Rollback from the page publishes the first version again and the nodes converge to it', async () => {
    const [, first] = (await api('/v1/history')).versions;
    await page.locator(`#versions button[data-revision="${first.revision}"]`).press('Enter');
    await page.locator('#rollback').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.matches(':focus-visible')
      && getComputedStyle(document.activeElement).outlineStyle), 'solid', 'the focused button is outlined');
    await page.locator('#rollback').focus();
    await page.keyboard.press('Enter');
    await page.locator('#confirm').waitFor();
    assert.equal(await page.locator('#confirm-yes').evaluate((e) => e === document.activeElement), true);
    await shot('rollback-confirm-1280');
    await page.keyboard.press('Enter');
    await page.locator('#rollback-result', { hasText: 'published' }).waitFor();
    const fleet = await converged(3);
    const newest = (await api('/v1/history')).versions[0];
    assert.equal(newest.counter, 3);
    assert.equal(newest.content_hash, first.content_hash);
    assert.equal(newest.note, `rollback to ${first.revision}`);
    assert.equal(newest.author, 'web dashboard (admin token)');
    assert.equal(fleet.revision, newest.revision);
    // The same content gives each node the same document: it runs its first version again.
    for (const n of fleet.nodes) assert.equal(n.applied_version, firstVersions[n.id], n.id);
    await eventually(async () => (await page.locator('#versions button').count()) === 3, 10000, 'three versions listed');
    assert.match(await page.locator('#versions button').first().textContent(), new RegExp(newest.revision));
  });

  it('both viewports render without sideways scrolling; nothing on any page logged an error', async () => {
    for (const [width, height] of [[390, 844], [1280, 800]]) {
      await page.setViewportSize({ width, height });
      for (const p of ['fleet', 'policy']) {
        await page.goto(`${cp.url}/ui#${p}`);
        await page.locator(`#${p}`).waitFor();
        await page.locator(p === 'fleet' ? '#nodes tbody tr' : '#versions button').first().waitFor();
        await noSidewaysScroll(`${p} at ${width}×${height}`);
        await shot(`${p}-${width}`);
      }
    }
    assert.deepEqual(consoleErrors, []);
    const foreign = requests.filter((u) => new URL(u).origin !== new URL(cp.url).origin);
    assert.deepEqual(foreign, [], 'every request goes to the control plane');
    const paths = new Set(requests.map((u) => new URL(u).pathname));
    for (const p of paths) assert.ok(UI_FILES.includes(p) || p === '/ui/' || p.startsWith('/v1/'), `requested ${p}`);
  });

  it('a wrong token brings the sign-in form back', async () => {
    const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await other.newPage();
    const errors = [];
    p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    await p.goto(`${cp.url}/ui#fleet`);
    await p.locator('#token').fill('not-the-admin-token');
    await p.locator('#login-form button[type=submit]').click();
    await p.locator('#login-error', { hasText: 'refused' }).waitFor();
    assert.equal(await p.locator('#login').isVisible(), true);
    assert.equal(await p.locator('#fleet').isHidden(), true);
    assert.equal(await p.evaluate(() => sessionStorage.length), 0, 'the refused token is not kept');
    await p.screenshot({ path: path.join(OUTPUT, 'wrong-token-1280.png') });
    assert.ok(errors.every((e) => /401/.test(e)), `only the refused call is an error: ${errors.join('\n')}`);
    await other.close();
  });
});
