// Halley's own JavaScript client in real Chromium, loaded as a module from the server's /halley.js (the page
// itself is routed by playwright onto the server's origin, see browser.mjs; the client is not): each transport
// forced in turn connects, subscribes to a wildcard, receives a message published by a backend and one it
// publishes itself, and calls /service/echo. callback-polling runs through <script> elements here, and
// eventsource through fetch with the browser's own BAYEUX_BROWSER cookie.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { exitWhenIdle, publishViaApi, startServer } from '../interop/harness.mjs';
import { launchChromium, openPage } from './browser.mjs';

const WAIT_MS = 20_000;

let server;
let browser;

before(async () => {
  server = await startServer(['--Halley:History:Channels:/**:Size=100']);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  exitWhenIdle();
});

for (const transport of ['websocket', 'eventsource', 'long-polling', 'callback-polling']) {
  test(`${transport}: /halley.js connects, subscribes with a wildcard, receives, publishes and calls`, { timeout: 90_000 }, async () => {
    const opened = await openPage(browser, server.base, 'halley-client.html');
    const { page } = opened;
    try {
      await page.waitForFunction(() => window.halleyTest?.ready, null, { timeout: WAIT_MS });
      const root = `/browser/${transport}`;
      const started = await page.evaluate(([t, p]) => window.halleyTest.start(t, p), [transport, `${root}/*`]);
      assert.equal(started.transport, transport);
      assert.equal(started.state, 'connected');
      assert.equal(typeof started.position, 'string');

      await publishViaApi(server, `${root}/from-backend`, { n: 1 });
      await page.waitForFunction(() => window.halleyTest.got.length >= 1, null, { timeout: WAIT_MS });
      const published = await page.evaluate((c) => window.halleyTest.client.publish(c, { n: 2 }), `${root}/from-page`);
      assert.equal(typeof published.position, 'string');
      await page.waitForFunction(() => window.halleyTest.got.length >= 2, null, { timeout: WAIT_MS });
      const echo = await page.evaluate(() => window.halleyTest.client.call('/service/echo', { ping: 'browser' }));
      assert.deepEqual(echo, { ping: 'browser' });

      const seen = await page.evaluate(() => ({ got: window.halleyTest.got, states: window.halleyTest.states, errors: window.halleyTest.errors }));
      assert.deepEqual(seen.got.map((m) => [m.channel, m.data.n]), [[`${root}/from-backend`, 1], [`${root}/from-page`, 2]]);
      assert.equal(seen.got[1].position, published.position);
      assert.deepEqual(seen.states, ['connecting', 'connected']);
      assert.deepEqual(seen.errors, []);
      await page.evaluate(() => window.halleyTest.client.disconnect());
      assert.equal(await page.evaluate(() => window.halleyTest.client.state), 'disconnected');
      assert.deepEqual(opened.errors, []);
    } catch (e) {
      const seen = await page.evaluate(() => ({ got: window.halleyTest?.got, states: window.halleyTest?.states, errors: window.halleyTest?.errors })).catch(() => ({}));
      e.message += `\n--- page ---\n${JSON.stringify(seen)}\n${opened.errors.join('\n')}\n--- server output (tail) ---\n${server.output().slice(-3000)}`;
      throw e;
    } finally {
      await opened.context.close();
    }
  });
}
