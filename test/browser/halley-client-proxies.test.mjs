// Halley's client from /halley.js in real Chromium behind real intermediaries that break streaming (the helpers of
// the JS client's integration tests): nginx with buffering on and X-Accel-Buffering ignored (stream-sense opens
// the stream padded and messages keep arriving), nginx whose buffers exceed the padding (long-polling takes over,
// same session, every message exactly once), and a TCP proxy that refuses WebSocket upgrades or answers 101 and
// then passes nothing (eventsource takes over). The page is on the intermediary's origin.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bufferingIgnoringTheHeader, bufferingPastPadding, keepingThePort, startNginx } from '../../clients/js/test/integration/nginx.mjs';
import { startWebSocketBreaker } from '../../clients/js/test/integration/websocket-breaker.mjs';
import { exitWhenIdle, publishViaApi, startServer } from '../interop/harness.mjs';
import { launchChromium, openPage } from './browser.mjs';

const WAIT_MS = 30_000;
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

/** The page on `front`'s origin, its fetch recording the URL of every event stream it opens. */
async function open(front) {
  const opened = await openPage(browser, front.base, 'halley-client.html', (page) => page.addInitScript(() => {
    window.streamUrls = [];
    const original = window.fetch;
    window.fetch = (input, init) => {
      if (init?.headers?.accept === 'text/event-stream') window.streamUrls.push(String(input));
      return original(input, init);
    };
  }));
  await opened.page.waitForFunction(() => window.halleyTest?.ready, null, { timeout: WAIT_MS });
  return opened;
}

/** Connects with `options` and subscribes to `pattern`; returns the transport and client id. */
const start = (page, options, pattern) => page.evaluate(([o, p]) => {
  const t = window.halleyTest;
  t.client = new t.HalleyClient('/cometd', o);
  return t.client.connect()
    .then(() => t.client.subscribe(p, (data) => t.got.push({ data })))
    .then(() => ({ transport: t.client.transport, clientId: t.client.clientId }));
}, [options, pattern]);

const got = (page) => page.evaluate(() => window.halleyTest.got.map((m) => m.data));
const pads = (page) => page.evaluate(() => window.streamUrls.map((u) => new URL(u).searchParams.get('pad')));

async function withFront(front, run) {
  const { page, context, errors } = await open(front);
  try {
    await run(page);
    await page.evaluate(() => window.halleyTest.client.disconnect());
    assert.deepEqual(errors.filter((e) => !/Failed to load resource|WebSocket connection to/.test(e)), []);
  } catch (e) {
    const seen = await page.evaluate(() => ({ got: window.halleyTest?.got, streams: window.streamUrls })).catch(() => ({}));
    e.message += `\n--- page ---\n${JSON.stringify(seen)}\n${errors.join('\n')}\n--- nginx ---\n${(await front.errorLog?.())?.slice(-2000) ?? ''}`;
    throw e;
  } finally {
    await context.close();
    await front.stop();
  }
}

test('nginx buffering with X-Accel-Buffering ignored: stream-sense opens the stream padded, messages keep arriving', { timeout: 90_000 }, async () => {
  await withFront(await startNginx(server, (c) => keepingThePort(bufferingIgnoringTheHeader(c))), async (page) => {
    const started = await start(page, { transports: ['eventsource', 'long-polling'], streamSenseTimeout: 1500 }, '/nginx-padded/*');
    assert.equal(started.transport, 'eventsource');
    assert.deepEqual(await pads(page), [null, '8192']);
    for (const n of [1, 2, 3]) {
      await publishViaApi(server, `/nginx-padded/${n}`, n);
      await page.waitForFunction((k) => window.halleyTest.got.length >= k, n, { timeout: WAIT_MS });
    }
    assert.deepEqual(await got(page), [1, 2, 3]);
    assert.equal(await page.evaluate(() => window.halleyTest.client.transport), 'eventsource');
  });
});

test('nginx buffering past the padding: long-polling takes over in the same session, every message exactly once', { timeout: 90_000 }, async () => {
  await withFront(await startNginx(server, (c) => keepingThePort(bufferingPastPadding(c))), async (page) => {
    const started = await start(page, { transports: ['eventsource', 'long-polling'], streamSenseTimeout: 1500 }, '/nginx-polling/*');
    // Published while the padded stream is on trial: nginx holds them until the server ends that stream.
    for (const n of [1, 2, 3]) await publishViaApi(server, `/nginx-polling/${n}`, n);
    await page.waitForFunction(() => window.halleyTest.client.transport === 'long-polling' && window.halleyTest.client.state === 'connected', null, { timeout: WAIT_MS });
    for (const n of [4, 5, 6]) await publishViaApi(server, `/nginx-polling/${n}`, n);
    await page.waitForFunction(() => window.halleyTest.got.length >= 6, null, { timeout: WAIT_MS });
    const echo = await page.evaluate(() => window.halleyTest.client.call('/service/echo', 'z'));
    assert.equal(echo, 'z');
    assert.deepEqual((await got(page)).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6]);
    assert.equal(await page.evaluate(() => window.halleyTest.client.clientId), started.clientId);
    assert.deepEqual(await pads(page), [null, '8192']);
  });
});

for (const [mode, what] of [['refuse', 'refuses the WebSocket upgrade'], ['silent', 'answers 101 and then passes nothing']]) {
  test(`a proxy that ${what}: eventsource takes over`, { timeout: 90_000 }, async () => {
    const proxy = await startWebSocketBreaker(server, mode);
    await withFront(proxy, async (page) => {
      const started = await start(page, { connectTimeout: 2000 }, `/breaker-${mode}/*`);
      assert.equal(started.transport, 'eventsource');
      assert.equal(proxy.upgrades(), 1);
      await publishViaApi(server, `/breaker-${mode}/a`, 1);
      await page.evaluate((c) => window.halleyTest.client.publish(c, 2), `/breaker-${mode}/b`);
      await page.waitForFunction(() => window.halleyTest.got.length >= 2, null, { timeout: WAIT_MS });
      assert.deepEqual(await got(page), [1, 2]);
    });
  });
}
