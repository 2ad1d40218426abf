/**
 * The real browser for UI tests: Debian's chromium (installed by scripts/setup.sh) driven with
 * playwright-core, which downloads no browser. One launch per test file; `await using` closes it.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.OMNICAP_CHROMIUM ?? '/usr/bin/chromium';

export interface TestBrowser extends AsyncDisposable {
  browser: Browser;
  /** A fresh page in its own context; console errors and page errors are collected in `errors`. */
  page(): Promise<Page & { errors: string[] }>;
}

export async function launchChromium(): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: run scripts/setup.sh (Debian package chromium)`);
  // --no-sandbox: CI runs as root, where chromium's sandbox refuses to start
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'] });
  return {
    browser,
    async page() {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = (await context.newPage()) as Page & { errors: string[] };
      page.errors = [];
      page.on('pageerror', (e) => page.errors.push(String(e)));
      page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
      return page;
    },
    async [Symbol.asyncDispose]() { await browser.close(); },
  };
}
