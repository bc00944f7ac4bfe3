// Headless Chromium for the dashboard tests: Debian's chromium driven by playwright-core, one 1280×800 page whose
// console errors and uncaught page errors are collected (a test asserts there are none it did not expect). It
// never installs a browser itself: a missing chromium fails the test with how to install it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function assertChromium() {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: the dashboard tests need Debian's chromium `
    + '(scripts/install-deps.sh installs it: apt-get install chromium)');
}

// A browser, a context with `contextOptions` added to the viewport, and a page; `consoleErrors` (an array the
// test holds) gets "URL: message" for each console error and page error.
export async function openBrowser(consoleErrors, contextOptions = {}) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...contextOptions });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  return { browser, context, page };
}
