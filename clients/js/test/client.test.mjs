// The client against the in-memory fake server, on fake time: fallback, backoff, reconnect, recovery, cleanup.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HalleyClient } from '../halley.js';
import { CountingTarget, FakeClock, FakeServer, resolveOn, settle } from './fakes.mjs';

const URL_ = 'http://127.0.0.1:1/cometd';

function setup(options = {}) {
  const clock = new FakeClock();
  const server = new FakeServer();
  const window = new CountingTarget();
  const document = new CountingTarget();
  const client = new HalleyClient(URL_, {
    WebSocket: server.WebSocket,
    fetch: server.fetch,
    timers: clock.timers(),
    window,
    document,
    transports: ['websocket', 'long-polling'],
    ...options,
  });
  const states = [];
  client.on('state', (s) => states.push(s));
  return { clock, server, window, document, client, states };
}

test('connects over websocket, subscribes, receives, publishes and calls', async () => {
  const { clock, server, client, states } = setup();
  await resolveOn(clock, client.connect(), 1_000, 'connect');
  assert.equal(client.state, 'connected');
  assert.equal(client.transport, 'websocket');
  const got = [];
  const sub = await resolveOn(clock, client.subscribe('/a/*', (data, m) => got.push([data, m.channel, m.position])), 1_000, 'subscribe');
  assert.equal(sub.position, 'e:0');
  server.publish('/a/b', 1);
  const { position } = await resolveOn(clock, client.publish('/a/c', 2), 1_000, 'publish');
  assert.equal(position, 'e:2');
  assert.deepEqual(await resolveOn(clock, client.call('/service/echo', { ping: 1 }), 1_000, 'call'), { ping: 1 });
  await clock.until(() => got.length === 2, 1_000, 'two events');
  assert.deepEqual(got, [[1, '/a/b', 'e:1'], [2, '/a/c', 'e:2']]);
  assert.equal(sub.position, 'e:2');
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
  assert.deepEqual(states, ['connecting', 'connected', 'disconnected']);
});

test('connect and disconnect are idempotent; connect, disconnect, connect (a StrictMode double mount) leaves one connection', async () => {
  const { clock, server, client } = setup();
  const first = client.connect();
  assert.equal(client.connect(), first);
  await resolveOn(clock, first, 1_000, 'connect');
  assert.equal(client.connect(), first);
  assert.equal(server.sockets.length, 1);
  await resolveOn(clock, Promise.all([client.disconnect(), client.disconnect()]), 2_000, 'disconnect twice');
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect again');
  assert.equal(clock.pending, 0, 'no timer left');
  const p = client.connect();
  void client.disconnect();
  await assert.rejects(p, /disconnected/);
  await resolveOn(clock, client.connect(), 1_000, 'connect again');
  assert.equal(server.openSockets.length, 1, 'one live connection');
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
  assert.equal(server.openSockets.length, 0);
  assert.equal(clock.pending, 0);
});

test('a refused websocket is skipped at once on the first connect: long-polling takes over', async () => {
  const { clock, server, client } = setup();
  server.websocket = 'refuse';
  await resolveOn(clock, client.connect(), 100, 'connect');
  assert.equal(client.transport, 'long-polling');
  assert.equal(clock.now < 100, true, `no backoff before the next rung (took ${clock.now} ms)`);
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
});

test('a websocket that opens and then stays silent counts as failed after the connect timeout', async () => {
  const { clock, server, client } = setup({ connectTimeout: 3_000 });
  server.websocket = 'silent';
  await resolveOn(clock, client.connect(), 5_000, 'connect');
  assert.equal(client.transport, 'long-polling');
  assert.ok(clock.now >= 3_000 && clock.now < 3_500, `fell back at the connect timeout (${clock.now} ms)`);
  assert.equal(server.openSockets.length, 0, 'the silent socket was closed');
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
});

test('after a fallback, websocket is tried again once retryWebSocketAfter has passed', async () => {
  const { clock, server, client } = setup({ connectTimeout: 1_000, retryWebSocketAfter: 60_000 });
  server.websocket = 'refuse';
  await resolveOn(clock, client.connect(), 1_000, 'connect');
  assert.equal(client.transport, 'long-polling');
  const socketsBefore = server.sockets.length;
  // The long-poll is lost soon after: websocket is still left out.
  server.forgetSessions();
  server.http = 'refuse';
  await clock.advance(100);
  server.http = 'ok';
  await clock.until(() => client.state === 'connected', 60_000, 'reconnected');
  assert.equal(client.transport, 'long-polling');
  assert.equal(server.sockets.length, socketsBefore, 'no websocket attempt within retryWebSocketAfter');
  // Much later, websocket works again and the next reconnect takes it.
  await clock.advance(61_000);
  server.websocket = 'ok';
  server.http = 'refuse';
  server.forgetSessions();
  await clock.advance(100);
  server.http = 'ok';
  // A held long-poll times out (and is retried) every 30 s; websocket, which failed again at 60 s while it was
  // still refused, is tried once more 60 s after that.
  await clock.until(() => client.state === 'connected' && client.transport === 'websocket', 200_000, 'back on websocket', 200);
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
});

test('the first connect is retried with growing, jittered, never-zero delays until the server is there', async () => {
  const { clock, server, client, states } = setup({ backoff: { min: 1_000, max: 8_000 }, random: () => 0.5 });
  server.websocket = 'refuse';
  server.http = 'refuse';
  const connecting = client.connect();
  const attempts = () => server.sockets.length;
  await clock.until(() => attempts() >= 6, 60_000, 'six attempts');
  assert.equal(client.state, 'connecting');
  // Each failed round waits min/2 + 0.5·(cap − min/2): 750, 1250, 2250, 4250, 4250…
  const waits = clock.requested.filter((ms) => ms >= 500 && ms !== 5_000 && ms !== 10_000 && ms !== 1_000 * 1);
  assert.deepEqual(waits.slice(0, 5), [750, 1_250, 2_250, 4_250, 4_250]);
  server.websocket = 'ok';
  server.http = 'ok';
  await resolveOn(clock, connecting, 10_000, 'connect after the server came back');
  assert.deepEqual(states, ['connecting', 'connected']);
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
});

test('an online event cuts the backoff short', async () => {
  const { clock, server, client, window } = setup({ backoff: { min: 10_000, max: 60_000 }, random: () => 0.99 });
  await resolveOn(clock, client.connect(), 1_000, 'connect');
  server.websocket = 'refuse';
  server.http = 'refuse';
  server.dropAll();
  await clock.until(() => client.state === 'reconnecting', 1_000, 'reconnecting');
  await clock.advance(100);
  const before = server.sockets.length;
  server.websocket = 'ok';
  server.http = 'ok';
  window.dispatch('online');
  await clock.until(() => client.state === 'connected', 500, 'reconnected at once after online');
  assert.equal(server.sockets.length, before + 1);
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
});

test('a dropped websocket resumes the same session with its token; a lost session re-handshakes and resubscribes from the last position', async () => {
  const { clock, server, client } = setup();
  await resolveOn(clock, client.connect(), 1_000, 'connect');
  const got = [];
  const sub = await resolveOn(clock, client.subscribe('/r/**', (d) => got.push(d)), 1_000, 'subscribe');
  const resubscribed = [];
  client.on('resubscribe', (s, recovered) => resubscribed.push([s, recovered]));
  server.publish('/r/x', 1);
  await clock.until(() => got.length === 1, 1_000, 'first event');
  const clientId = client.clientId;

  server.dropAll();
  await clock.until(() => client.state === 'connected' && server.openSockets.length === 1, 5_000, 'back after a drop');
  assert.equal(client.clientId, clientId, 'the same session');
  const resume = server.received.filter((m) => m.channel === '/meta/connect').at(-1);
  assert.equal(resume.ext.halley.token, `t-${clientId}`);

  server.forgetSessions();
  server.dropAll();
  server.recovers = false;
  await clock.until(() => client.state === 'connected' && client.clientId !== clientId, 5_000, 'a new session');
  await clock.until(() => resubscribed.length === 1, 1_000, 'resubscribed');
  const resub = server.received.filter((m) => m.channel === '/meta/subscribe').at(-1);
  assert.deepEqual(resub.ext.halley.position, 'e:1', 'resubscribed from the last position received');
  assert.equal(resubscribed[0][0], sub);
  assert.equal(resubscribed[0][1], false);
  assert.equal(sub.recovered, false);
  server.publish('/r/y', 2);
  await clock.until(() => got.length === 2, 1_000, 'an event after the resume');
  assert.deepEqual(got, [1, 2]);
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
});

test('listeners and timers stay flat over 100 reconnects, and disconnect removes them all', async () => {
  const { clock, server, client, window, document } = setup({ backoff: { min: 10, max: 100 } });
  await resolveOn(clock, client.connect(), 1_000, 'connect');
  await resolveOn(clock, client.subscribe('/l/*', () => {}), 1_000, 'subscribe');
  const counts = () => ({ window: window.count, document: document.count, timers: clock.pending });
  const baseline = counts();
  assert.deepEqual(baseline, { window: 2, document: 1, timers: 1 });
  for (let i = 0; i < 100; i++) {
    if (i % 2 === 0) server.forgetSessions();
    server.dropAll();
    await clock.until(() => client.state === 'connected' && server.openSockets.length === 1, 5_000, `reconnect ${i}`);
    await settle();
    assert.deepEqual(counts(), baseline, `after reconnect ${i}`);
  }
  assert.equal(server.openSockets.length, 1);
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
  assert.deepEqual(counts(), { window: 0, document: 0, timers: 0 });
  assert.equal(server.openSockets.length, 0);
});

test('a refused subscribe rejects with the server error and leaves nothing behind', async () => {
  const { clock, server, client } = setup();
  await resolveOn(clock, client.connect(), 1_000, 'connect');
  const handle = server.handle.bind(server);
  server.handle = (batch, carrier) => {
    const result = handle(batch, carrier);
    for (const r of result.replies) if (r.channel === '/meta/subscribe') Object.assign(r, { successful: false, error: '403:/x:denied' });
    return result;
  };
  await assert.rejects(resolveOn(clock, client.subscribe('/x', () => {}), 1_000, 'subscribe'), (e) => e.error === '403:/x:denied');
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
});

test('the server advising reconnect none ends the client', async () => {
  const { clock, server, client } = setup();
  const handle = server.handle.bind(server);
  server.handle = (batch, carrier) => {
    const result = handle(batch, carrier);
    for (const r of result.replies) if (r.channel === '/meta/handshake') Object.assign(r, { successful: false, error: '300::version_mismatch', advice: { reconnect: 'none' } });
    return result;
  };
  await assert.rejects(resolveOn(clock, client.connect(), 1_000, 'connect'), /version_mismatch/);
  await clock.advance(10);
  assert.equal(client.state, 'disconnected');
  assert.equal(clock.pending, 0);
});

test('publish waits for the connection and calls refuse non-service channels', async () => {
  const { clock, client } = setup();
  await assert.rejects(client.publish('/a', 1), /call connect\(\) first/);
  await assert.rejects(client.call('/a', 1), TypeError);
  assert.throws(() => new HalleyClient(URL_, { transports: ['carrier-pigeon'] }), /unknown transport/);
  const connecting = client.connect();
  const published = client.publish('/a', 1);
  await resolveOn(clock, connecting, 1_000, 'connect');
  assert.equal((await resolveOn(clock, published, 1_000, 'publish')).position, 'e:1');
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
});

test('a subscription ended while its resubscribe is on its way is unsubscribed on the server once that lands', async () => {
  const { clock, server, client } = setup();
  await resolveOn(clock, client.connect(), 1_000, 'connect');
  const got = [];
  const sub = await resolveOn(clock, client.subscribe('/u/*', (d) => got.push(d)), 1_000, 'subscribe');
  server.publish('/u/a', 1);
  await clock.until(() => got.length === 1, 1_000, 'a first event');
  const handle = server.handle.bind(server);
  server.handle = (batch, carrier) => {
    // The application ends the subscription while the server handles its resubscribe (before the reply).
    if (batch.some((m) => m.channel === '/meta/subscribe' && m.ext?.halley?.position)) void sub.unsubscribe();
    return handle(batch, carrier);
  };
  server.forgetSessions();
  server.dropAll();
  await clock.until(() => server.received.some((m) => m.channel === '/meta/unsubscribe'), 5_000, 'the unsubscribe');
  const [session] = server.sessions.values();
  assert.ok(!session.subs.has('/u/*'), 'the server no longer holds it');
  server.publish('/u/b', 2);
  await clock.advance(100);
  assert.deepEqual(got, [1]);
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
});

test('a polling fallback gives way to websocket once retryWebSocketAfter has passed, in the same session, losing nothing', async () => {
  const { clock, server, client } = setup({ retryWebSocketAfter: 60_000 });
  server.websocket = 'refuse';
  await resolveOn(clock, client.connect(), 1_000, 'connect');
  assert.equal(client.transport, 'long-polling');
  const got = [];
  await resolveOn(clock, client.subscribe('/up/*', (d) => got.push(d)), 1_000, 'subscribe');
  const clientId = client.clientId;
  server.publish('/up/a', 1); // answers the held long-poll
  await clock.until(() => got.length === 1, 1_000, 'a message over long-polling');
  assert.equal(client.transport, 'long-polling', 'websocket is left out within retryWebSocketAfter');

  server.websocket = 'ok';
  await clock.advance(60_000);
  server.publish('/up/a', 2); // the held long-poll answers; the next round tries websocket first
  await clock.until(() => client.transport === 'websocket' && client.state === 'connected', 5_000, 'upgraded to websocket');
  assert.equal(client.clientId, clientId, 'the same session');
  server.publish('/up/a', 3);
  await clock.until(() => got.length === 3, 1_000, 'a message over websocket');
  assert.deepEqual(got, [1, 2, 3]);
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
});
