// Faye's browser client in real Chromium against a real Halley server: with websocket disabled it must
// pick the `eventsource` connection type (an EventSource on /cometd/{clientId}, connects answered at
// once) and receive what is published, in order, across a stream the server ends at its lifetime.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { exitWhenIdle, startServer } from '../interop/harness.mjs';
import { launchChromium, openPage } from './browser.mjs';

// Short enough for a test: the first long-polling connect is held at most TIMEOUT, a stream lives
// LIFETIME ±10%, and the browser reconnects RETRY after the stream ends.
const TIMEOUT_MS = 4_000;
const RETRY_MS = 2_000;
const WAIT_MS = 20_000;

let server;
let browser;

before(async () => {
  server = await startServer([
    `--Halley:Timeout=00:00:0${TIMEOUT_MS / 1000}`,
    '--Halley:MaxConnectionLifetime=00:00:05',
    `--Halley:Streaming:RetryDelay=00:00:0${RETRY_MS / 1000}`,
  ]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  exitWhenIdle();
});

async function publish(channel, data) {
  const response = await fetch(`${server.base}/api/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel, data }),
  });
  assert.equal(response.status, 200, `POST /api/publish: ${await response.text()}`);
}

/** Runs `fn` with a fresh page; a failure message carries what the page saw and the server's output. */
function browserTest(name, fn) {
  test(name, { timeout: 90_000 }, async () => {
    const opened = await openPage(browser, server.base, 'faye.html');
    try {
      await fn(opened.page);
    } catch (e) {
      const seen = await state(opened.page).then((s) => ({ ...s, wire: s.wire.slice(-40), stream: s.stream.slice(-40) })).catch(() => ({}));
      e.message += `\n--- page ---\n${JSON.stringify(seen, null, 1)}\n${opened.errors.join('\n')}\n--- server output (tail) ---\n${server.output().slice(-3000)}`;
      throw e;
    } finally {
      await opened.page.evaluate(() => window.halleyTest.client?.disconnect()).catch(() => {});
      await opened.context.close();
    }
  });
}

/** A plain snapshot of what the page observed. */
const state = (page) => page.evaluate(() => {
  const t = window.halleyTest;
  return { wire: t.wire, received: t.received, stream: t.stream, clientId: t.client?._dispatcher.clientId, connectionType: t.connectionType() };
});
const until = (page, fn, arg, what) =>
  page.waitForFunction(fn, arg, { timeout: WAIT_MS }).catch((e) => { throw new Error(`Timed out after ${WAIT_MS} ms waiting for ${what}: ${e.message}`); });

describe('faye browser client', () => {
  browserTest('with websocket disabled, uses eventsource and receives in order across a stream the server ended', async (page) => {
    const channel = '/browser/es';
    assert.equal(await page.evaluate((ch) => window.halleyTest.start(ch, { disable: ['websocket'] }), channel), true, 'subscribe failed');
    await until(page, () => window.halleyTest.connectionType() === 'eventsource', null, 'Faye to select eventsource');

    // The EventSource is Faye's, on /cometd/{clientId}, and it opened: the server answered 200 text/event-stream.
    const { clientId, stream } = await state(page);
    const opened = stream.filter((e) => e.type === 'open');
    assert.equal(opened.length, 1);
    assert.equal(opened[0].url, `${server.base}/cometd/${clientId}`);

    for (let i = 1; i <= 5; i++) await publish(channel, { n: i });
    await until(page, () => window.halleyTest.received.length >= 5, null, 'five messages');
    // They came down the stream, as Bayeux arrays.
    const streamed = (await state(page)).stream.filter((e) => e.type === 'message').flatMap((e) => JSON.parse(e.data));
    assert.deepEqual(streamed.filter((m) => m.channel === channel).map((m) => m.data.n), [1, 2, 3, 4, 5]);

    // Its connects say eventsource and are answered at once, with Faye's advice: wait a whole Timeout.
    await until(page, () => window.halleyTest.wire.some((w) => w.dir === 'in' && w.msg.channel === '/meta/connect' && w.msg.advice?.timeout === 0), null, 'an eventsource connect reply');
    const wire = (await state(page)).wire;
    const esConnects = wire.filter((w) => w.dir === 'out' && w.msg.channel === '/meta/connect' && w.msg.connectionType === 'eventsource');
    assert.ok(esConnects.length > 0, 'no /meta/connect with connectionType eventsource');
    const reply = wire.find((w) => w.dir === 'in' && w.msg.channel === '/meta/connect' && w.msg.id === esConnects[0].msg.id).msg;
    assert.equal(reply.successful, true);
    assert.deepEqual(reply.advice, { reconnect: 'retry', interval: TIMEOUT_MS, timeout: 0 });

    // The server ends the stream at its lifetime (5 s ±10%); the EventSource waits RETRY_MS, then reconnects.
    await until(page, () => window.halleyTest.stream.some((e) => e.type === 'error') && window.halleyTest.streamState() === 0, null, 'the stream to end and the EventSource to reconnect');
    await publish(channel, { n: 'gap' });
    assert.equal(await page.evaluate(() => window.halleyTest.streamState()), 0, 'the gap message must be published while the EventSource is reconnecting');
    await until(page, () => window.halleyTest.received.length >= 6, null, 'the message published while reconnecting');
    await until(page, () => window.halleyTest.stream.filter((e) => e.type === 'open').length >= 2, null, 'the EventSource to reopen');
    await publish(channel, { n: 'after' });
    await until(page, () => window.halleyTest.received.length >= 7, null, 'the message published after the reconnect');

    const final = await state(page);
    assert.deepEqual(final.received.map((d) => d.n), [1, 2, 3, 4, 5, 'gap', 'after'], 'missing, duplicated or out of order');
    assert.equal(final.wire.filter((w) => w.dir === 'out' && w.msg.channel === '/meta/handshake').length, 1, 'the client handshook again');
    assert.deepEqual(final.wire.filter((w) => w.dir === 'in' && w.msg.successful === false).map((w) => w.msg), [], 'the server refused something');
    assert.equal(final.connectionType, 'eventsource');
  });

  browserTest('with websocket allowed, still picks websocket', async (page) => {
    assert.equal(await page.evaluate((ch) => window.halleyTest.start(ch), '/browser/ws'), true, 'subscribe failed');
    await until(page, () => window.halleyTest.connectionType() === 'websocket', null, 'Faye to select websocket');
    await publish('/browser/ws', 'hi');
    await until(page, () => window.halleyTest.received.length === 1, null, 'the message');
    assert.equal((await state(page)).stream.length, 0, 'an EventSource was opened although websocket works');
  });
});
