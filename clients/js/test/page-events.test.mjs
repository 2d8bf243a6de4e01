// The page's own events on fake time: online, visibilitychange and pageshow check the connection at once: a
// backoff is cut short, a socket that died unseen while the tab slept is replaced, and a
// hidden tab does not hurry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HalleyClient } from '../halley.js';
import { CountingTarget, FakeClock, FakeServer, resolveOn } from './fakes.mjs';

function setup(options = {}) {
  const clock = new FakeClock();
  const server = new FakeServer();
  const window = new CountingTarget();
  const document = new CountingTarget();
  const client = new HalleyClient('http://127.0.0.1:1/cometd', {
    WebSocket: server.WebSocket, fetch: server.fetch, timers: clock.timers(), window, document,
    transports: ['websocket', 'long-polling'], backoff: { min: 10_000, max: 60_000 }, random: () => 0.99, ...options,
  });
  return { clock, server, window, document, client };
}

/** Connected, then the network fails: the client waits out a long backoff. */
async function inBackoff(clock, server, client) {
  await resolveOn(clock, client.connect(), 1_000, 'connect');
  server.websocket = 'refuse';
  server.http = 'refuse';
  server.dropAll();
  await clock.until(() => client.state === 'reconnecting', 1_000, 'reconnecting');
  await clock.advance(100);
  server.websocket = 'ok';
  server.http = 'ok';
  return server.sockets.length;
}

for (const [event, target] of [['online', 'window'], ['visibilitychange', 'document'], ['pageshow', 'window']]) {
  test(`${event} cuts the backoff short`, async () => {
    const setupResult = setup();
    const { clock, server, client } = setupResult;
    const before = await inBackoff(clock, server, client);
    setupResult[target].dispatch(event);
    await clock.until(() => client.state === 'connected', 500, `reconnected at once after ${event}`);
    assert.equal(server.sockets.length, before + 1);
    await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
    assert.equal(clock.pending, 0);
  });
}

test('a hidden tab does not hurry: visibilitychange to hidden leaves the backoff alone', async () => {
  const { clock, server, client, document } = setup();
  const before = await inBackoff(clock, server, client);
  document.visibilityState = 'hidden';
  document.dispatch('visibilitychange');
  await clock.advance(500);
  assert.equal(client.state, 'reconnecting');
  assert.equal(server.sockets.length, before);
  document.visibilityState = 'visible';
  document.dispatch('visibilitychange');
  await clock.until(() => client.state === 'connected', 500, 'reconnected once visible');
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
});

test('a socket that died unseen while the tab slept is found when the tab shows again and replaced after the first backoff step, same session', async () => {
  const { clock, server, client, document } = setup({ backoff: { min: 500, max: 30_000 } });
  await resolveOn(clock, client.connect(), 1_000, 'connect');
  const session = client.clientId;
  const [socket] = server.openSockets;
  socket.readyState = 3; // gone, and no close event came (a suspended tab, a laptop's sleep)
  document.dispatch('visibilitychange');
  await clock.until(() => client.state === 'reconnecting', 10, 'the dead socket found at once');
  await clock.until(() => client.state === 'connected' && server.openSockets.length === 1 && server.openSockets[0] !== socket, 600, 'a new socket');
  assert.equal(client.clientId, session);
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
  assert.equal(clock.pending, 0);
});
