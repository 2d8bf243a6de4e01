// The start page of `halley serve` (/), served by Halley itself, in real Chromium: it says what runs, connects with
// the client from /halley.js, and counts the messages published on any channel, a backend's and its own button's.
// A screenshot goes to .test-output/screenshots/start-page.png.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exitWhenIdle, publishViaApi, startServer } from '../interop/harness.mjs';
import { launchChromium } from './browser.mjs';

const WAIT_MS = 20_000;
const screenshots = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '.test-output', 'screenshots');

let server;
let browser;

before(async () => {
  // Without the ticker sample's feed, whose quotes the page would count too (samples.test.mjs covers the ticker).
  server = await startServer(['--Halley:Samples:Ticker:Enabled=false']);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  exitWhenIdle();
});

test('the start page shows what runs and counts live messages', { timeout: 90_000 }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  try {
    await page.goto(`${server.base}/`);
    await page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: WAIT_MS });
    assert.equal(await page.textContent('#engine'), 'in-memory');
    assert.match(await page.textContent('#transports'), /^websocket, eventsource, long-polling/);
    assert.equal(await page.textContent('#state'), 'connected');
    assert.equal(await page.textContent('#transport'), 'over websocket');

    await publishViaApi(server, '/start/from-backend', { hello: 'page' });
    await page.waitForFunction(() => document.getElementById('count').textContent === '1', null, { timeout: WAIT_MS });
    assert.equal(await page.textContent('#last'), '/start/from-backend {"hello":"page"}');
    await page.click('#ping');
    await page.waitForFunction(() => document.getElementById('count').textContent === '2', null, { timeout: WAIT_MS });
    assert.match(await page.textContent('#last'), /^\/start\/ping /);

    await mkdir(screenshots, { recursive: true });
    await page.screenshot({ path: path.join(screenshots, 'start-page.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } catch (e) {
    e.message += `\n${errors.join('\n')}\n--- server output (tail) ---\n${server.output().slice(-3000)}`;
    throw e;
  } finally {
    await context.close();
  }
});
