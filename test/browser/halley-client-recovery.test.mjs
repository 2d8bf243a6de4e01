// Halley's client from /halley.js in real Chromium, when things go wrong: the server killed (SIGKILL) and started
// again on the same port mid-stream, each transport forced (every message exactly once; recovered: false, since
// the in-memory engine starts a new epoch); a WebSocket the page cannot open, and one that upgrades and then stays
// silent (both through playwright's routeWebSocket), fall back to the next transport.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { exitWhenIdle, publishViaApi, startServer } from '../interop/harness.mjs';
import { launchChromium, openPage } from './browser.mjs';

const WAIT_MS = 30_000;
const ARGS = ['--Halley:History:Channels:/**:Size=100'];
let browser;

after(async () => {
  await browser?.close();
  exitWhenIdle();
});

/** Opens the client page on `server`, letting `prepare(page)` route requests before it loads. */
async function open(server, prepare = async () => {}) {
  browser ??= await launchChromium();
  const opened = await openPage(browser, server.base, 'halley-client.html', prepare);
  await opened.page.waitForFunction(() => window.halleyTest?.ready, null, { timeout: WAIT_MS });
  return opened;
}

const got = (page) => page.evaluate(() => window.halleyTest.got.map((m) => m.data));
const waitForCount = (page, n) => page.waitForFunction((k) => window.halleyTest.got.length >= k, n, { timeout: WAIT_MS });

for (const transport of ['websocket', 'eventsource', 'long-polling', 'callback-polling']) {
  test(`${transport}: the server killed and restarted mid-stream; the page gets each message exactly once`, { timeout: 120_000 }, async () => {
    let server = await startServer(ARGS);
    const port = new URL(server.base).port;
    const { page, context, errors } = await open(server);
    try {
      await page.evaluate(([t]) => {
        window.halleyTest.resubscribed = [];
        return window.halleyTest.start(t, '/kill/**').then(() => {
          window.halleyTest.client.on('resubscribe', (_s, recovered) => window.halleyTest.resubscribed.push(recovered));
        });
      }, [transport]);
      for (const n of [1, 2, 3]) await publishViaApi(server, `/kill/${n}`, n);
      await waitForCount(page, 3);
      await server.kill();
      await page.waitForFunction(() => window.halleyTest.states.includes('reconnecting'), null, { timeout: WAIT_MS });
      server = await startServer([...ARGS, '--urls', `http://127.0.0.1:${port}`]);
      await page.waitForFunction(() => window.halleyTest.resubscribed.length === 1 && window.halleyTest.client.state === 'connected', null, { timeout: WAIT_MS });
      assert.deepEqual(await page.evaluate(() => window.halleyTest.resubscribed), [false]);
      assert.equal(await page.evaluate(() => window.halleyTest.client.transport), transport);
      for (const n of [4, 5, 6]) await publishViaApi(server, `/kill/${n}`, n);
      await page.waitForFunction(() => window.halleyTest.got.some((m) => m.data === 6), null, { timeout: WAIT_MS });
      assert.deepEqual(await got(page), [1, 2, 3, 4, 5, 6]);
      await page.evaluate(() => window.halleyTest.client.disconnect());
      // The browser reports the refused requests of the outage as console errors; nothing else may appear.
      assert.deepEqual(errors.filter((e) => !/Failed to load resource|ERR_CONNECTION_REFUSED|WebSocket connection to/.test(e)), []);
    } finally {
      await context.close();
      await server.stop();
    }
  });
}

for (const [name, handler] of [
  ['cannot be opened', (ws) => ws.close({ code: 1011, reason: 'blocked by the test' })],
  ['upgrades and then stays silent', () => {}],
]) {
  test(`a WebSocket that ${name} falls back to eventsource`, { timeout: 90_000 }, async () => {
    const server = await startServer(ARGS);
    const { page, context } = await open(server, (p) => p.routeWebSocket(/\/cometd/, handler));
    try {
      const started = await page.evaluate(() => {
        const client = (window.halleyTest.client = new window.halleyTest.HalleyClient('/cometd', { connectTimeout: 2000 }));
        return client.connect().then(() => client.subscribe('/fallback/*', (data) => window.halleyTest.got.push({ data })))
          .then(() => ({ transport: client.transport }));
      });
      assert.equal(started.transport, 'eventsource');
      await publishViaApi(server, '/fallback/a', 1);
      await waitForCount(page, 1);
      assert.deepEqual(await got(page), [1]);
      await page.evaluate(() => window.halleyTest.client.disconnect());
    } finally {
      await context.close();
      await server.stop();
    }
  });
}
