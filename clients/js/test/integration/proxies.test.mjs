// The client in Node 20 (the ws package injected) behind real intermediaries that break streaming: nginx with
// buffering on and Halley's X-Accel-Buffering header ignored (stream-sense opens the stream padded, and messages
// keep arriving), nginx whose buffers are larger than the padding (stream-sense gives way to long-polling, in the
// same session, every message exactly once), and a proxy that refuses WebSocket upgrades or accepts them and then
// passes nothing (the next transport takes over).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { HalleyClient } from '../../halley.js';
import { bufferingIgnoringTheHeader, bufferingPastPadding, startNginx } from './nginx.mjs';
import { asJson, exitWhenIdle, publishViaApi, startServer, waitFor } from './network.mjs';
import { startWebSocketBreaker } from './websocket-breaker.mjs';

const T = 20_000;
let server;
const clients = [];

before(async () => {
  server = await startServer(['--Halley:History:Channels:/**:Size=1000']);
});

after(async () => {
  await Promise.all(clients.map((c) => c.disconnect()));
  await server?.stop();
  exitWhenIdle();
});

/** A client of `url` whose fetch records the URL of every event stream it opens. */
function client(url, options = {}) {
  const streams = [];
  const recording = (input, init = {}) => {
    if (init.headers?.accept === 'text/event-stream') streams.push(new URL(input));
    return fetch(input, init);
  };
  const c = new HalleyClient(url, { WebSocket, fetch: recording, backoff: { min: 100, max: 1_000 }, streamSenseTimeout: 1_500, ...options });
  clients.push(c);
  return { c, streams };
}

/** Runs `body` with nginx (its config changed by `edit`) in front of the server; a failure shows nginx's error log. */
async function behindNginx(edit, body) {
  const nginx = await startNginx(server, edit);
  try {
    await body(nginx);
  } catch (e) {
    e.message += `\n--- nginx error log ---\n${(await nginx.errorLog()).slice(-2000)}`;
    throw e;
  } finally {
    await nginx.stop();
  }
}

let counter = 0;
const unique = (tag) => `/proxy/${tag}-${++counter}`;

/** Each of `expected` exactly once (in any order: a held stream's messages come when it ends). */
function assertExactlyOnce(got, expected) {
  assert.deepEqual([...got].sort((a, b) => a - b), expected, `got ${asJson(got)}`);
}

test('nginx buffering with X-Accel-Buffering ignored: stream-sense opens the stream padded and messages keep arriving', async () => {
  await behindNginx(bufferingIgnoringTheHeader, async (nginx) => {
    // WebSocket passes this nginx; the streaming rung is what is on trial.
    const { c, streams } = client(nginx.url, { transports: ['eventsource', 'long-polling'] });
    await waitFor(c.connect(), T, 'connect');
    assert.equal(c.transport, 'eventsource');
    assert.deepEqual(streams.map((u) => u.searchParams.get('pad')), [null, '8192']);
    const root = unique('padded');
    const got = [];
    await waitFor(c.subscribe(`${root}/*`, (d) => got.push(d)), T, 'subscribe');
    for (const n of [1, 2, 3, 4, 5]) {
      await publishViaApi(server, `${root}/m`, n);
      await waitFor(() => got.length === n, T, `message ${n} through the padded stream (got ${asJson(got)})`);
    }
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    assert.equal(c.transport, 'eventsource');
    assert.equal(streams.length, 2);
    await waitFor(c.disconnect(), T, 'disconnect');
  });
});

test('nginx buffering past the padding: stream-sense gives way to long-polling in the same session, every message exactly once', async () => {
  await behindNginx(bufferingPastPadding, async (nginx) => {
    const { c, streams } = client(nginx.url, { transports: ['eventsource', 'long-polling'] });
    const transports = [];
    c.on('state', () => transports.push(c.transport));
    await waitFor(c.connect(), T, 'connect');
    const session = c.clientId;
    const root = unique('polling');
    const got = [];
    await waitFor(c.subscribe(`${root}/*`, (d) => got.push(d)), T, 'subscribe');
    // Published while the padded stream is on trial: held by nginx until the server ends that stream.
    for (const n of [1, 2, 3]) await publishViaApi(server, `${root}/m`, n);
    await waitFor(() => c.transport === 'long-polling' && c.state === 'connected', T, 'long-polling');
    for (const n of [4, 5, 6]) await publishViaApi(server, `${root}/m`, n);
    await waitFor(() => got.length >= 6, T, `six messages (got ${asJson(got)})`);
    assertExactlyOnce(got, [1, 2, 3, 4, 5, 6]);
    assert.equal(c.clientId, session, 'the same session throughout');
    assert.deepEqual(streams.map((u) => u.searchParams.get('pad')), [null, '8192']);
    assert.deepEqual(await waitFor(c.call('/service/echo', 'x'), T, 'call'), 'x');
    assertExactlyOnce(got, [1, 2, 3, 4, 5, 6]);
    await waitFor(c.disconnect(), T, 'disconnect');
  });
});

for (const [mode, what] of [['refuse', 'refuses the WebSocket upgrade'], ['silent', 'upgrades the WebSocket and then passes nothing']]) {
  test(`a proxy that ${what}: eventsource takes over`, async () => {
    const proxy = await startWebSocketBreaker(server, mode);
    try {
      const { c } = client(proxy.url, { connectTimeout: 2_000 });
      const started = Date.now();
      await waitFor(c.connect(), T, 'connect');
      const took = Date.now() - started;
      assert.equal(c.transport, 'eventsource');
      assert.equal(proxy.upgrades(), 1);
      if (mode === 'refuse') assert.ok(took < 2_000, `a refused upgrade is skipped at once (took ${took} ms)`);
      else assert.ok(took >= 1_900, `a silent socket fails at the connect timeout (took ${took} ms)`);
      const root = unique(mode);
      const got = [];
      await waitFor(c.subscribe(`${root}/*`, (d) => got.push(d)), T, 'subscribe');
      await publishViaApi(server, `${root}/a`, 1);
      await waitFor(c.publish(`${root}/b`, 2), T, 'publish');
      await waitFor(() => got.length === 2, T, `two messages (got ${asJson(got)})`);
      assert.deepEqual(got, [1, 2]);
      assert.equal(await waitFor(c.call('/service/echo', 'y'), T, 'call'), 'y');
      await waitFor(c.disconnect(), T, 'disconnect');
    } finally {
      await proxy.stop();
    }
  });
}
