// Debian's Chromium driven by playwright-core, with pages served from this folder on the server's origin.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.HALLEY_CHROMIUM || '/usr/bin/chromium';

/** Files the tests serve, by path on the server's origin. */
const FILES = {
  '/faye.html': { file: path.join(here, 'pages', 'faye.html'), type: 'text/html; charset=utf-8' },
  '/halley-client.html': { file: path.join(here, 'pages', 'halley-client.html'), type: 'text/html; charset=utf-8' },
  '/faye-browser-min.js': { file: path.join(here, 'node_modules', 'faye', 'client', 'faye-browser-min.js'), type: 'text/javascript; charset=utf-8' },
};

export async function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

/**
 * A new page whose test files (FILES) are answered from disk by playwright while their URL is on the
 * Halley server's origin, so the page, its XHRs and its EventSource share the origin and the
 * BAYEUX_BROWSER cookie. Every other request goes to Halley untouched. No test route in the product.
 * `prepare(page)` runs before the page loads (e.g. to route its WebSocket).
 */
export async function openPage(browser, base, name, prepare = async () => {}) {
  // A page fulfilled by playwright has no server address, so Chromium's Local Network Access checks take it
  // for a public page and block its WebSocket to 127.0.0.1. Served by Halley itself it would be a loopback page,
  // which those checks never block: the permission restores that.
  const context = await browser.newContext({ permissions: ['local-network-access'] });
  const page = await context.newPage();
  for (const [urlPath, { file, type }] of Object.entries(FILES)) {
    const body = await readFile(file);
    await page.route(`${base}${urlPath}`, (route) => route.fulfill({ status: 200, contentType: type, body }));
  }
  await prepare(page);
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  await page.goto(`${base}/${name}`);
  return { page, context, errors };
}
