// Tabs sharing one connection (the `share` option, Web Locks mode) against the in-memory fake server, on fake
// time: one socket for every tab, subscriptions counted over the tabs, failover to the next tab resuming from the
// last position, and a client that cleans up after itself. The browser suite runs both modes in Chromium.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HalleyClient } from '../halley.js';
import { CountingTarget, FakeClock, FakeServer, resolveOn } from './fakes.mjs';
import { FakeLocks, FakeSharedWorker, openTab } from './shared-fakes.mjs';

const URL_ = 'http://127.0.0.1:1/cometd';

function setup() {
  const clock = new FakeClock();
  const server = new FakeServer();
  const locks = new FakeLocks();
  return { clock, server, locks, tab: (options) => openTab(URL_, { server, clock, locks, options }) };
}

const subscribes = (server, verb = '/meta/subscribe') => server.received.filter((m) => m.channel === verb);

test('share: two tabs use one connection; a subscription is counted over the tabs', async () => {
  const { clock, server, locks, tab } = setup();
  const a = tab();
  const b = tab();
  await resolveOn(clock, Promise.all([a.client.connect(), b.client.connect()]), 2_000, 'both connect');
  assert.equal(server.sockets.length, 1, 'one connection for both tabs');
  assert.deepEqual([a.client.sharing, b.client.sharing].sort(), ['follower', 'leader']);
  assert.equal(a.client.clientId, b.client.clientId);
  assert.equal(b.client.transport, 'websocket');

  const got = { a: [], b: [] };
  const subA = await resolveOn(clock, a.client.subscribe('/s/*', (d, m) => got.a.push([d, m.channel, m.position])), 1_000, 'a subscribes');
  const subB = await resolveOn(clock, b.client.subscribe('/s/*', (d) => got.b.push(d)), 1_000, 'b subscribes');
  assert.equal(subscribes(server).length, 1, 'the server sees one subscription');
  server.publish('/s/x', 1);
  await clock.until(() => got.a.length === 1 && got.b.length === 1, 1_000, 'both tabs get it');
  assert.deepEqual(got.a, [[1, '/s/x', 'e:1']]);
  assert.equal(subA.position, 'e:1');

  await resolveOn(clock, subB.unsubscribe(), 1_000, 'b unsubscribes');
  await clock.advance(100);
  assert.equal(subscribes(server, '/meta/unsubscribe').length, 0, 'a still needs it');
  server.publish('/s/y', 2);
  await clock.until(() => got.a.length === 2, 1_000, 'a still gets messages');
  assert.deepEqual(got.b, [1]);
  await resolveOn(clock, subA.unsubscribe(), 1_000, 'a unsubscribes');
  await clock.until(() => subscribes(server, '/meta/unsubscribe').length === 1, 1_000, 'the server subscription ends with the last tab');

  assert.deepEqual(await resolveOn(clock, b.client.call('/service/echo', { ping: 1 }), 1_000, 'a follower calls'), { ping: 1 });
  assert.deepEqual(await resolveOn(clock, b.client.publish('/p/q', 3), 1_000, 'a follower publishes'), { position: 'e:3' });
  await assert.rejects(b.client.call('/p/q', 1), TypeError);

  await resolveOn(clock, Promise.all([a.client.disconnect(), b.client.disconnect()]), 3_000, 'both disconnect');
  assert.equal(server.openSockets.length, 0);
  assert.equal(clock.pending, 0, 'no timer left');
  assert.equal(locks.waiting, 0, 'no lock request left');
});

test('share: the leading tab closes; the next resumes every subscription from the last position, losing nothing', async () => {
  const { clock, server, locks, tab } = setup();
  const a = tab();
  await resolveOn(clock, a.client.connect(), 2_000, 'a connects');
  const b = tab();
  await resolveOn(clock, b.client.connect(), 2_000, 'b connects');
  assert.equal(a.client.sharing, 'leader');
  assert.equal(b.client.sharing, 'follower');
  const got = [];
  const sub = await resolveOn(clock, b.client.subscribe('/f/**', (d) => got.push(d)), 1_000, 'b subscribes');
  const resubscribed = [];
  b.client.on('resubscribe', (s, recovered) => resubscribed.push([s, recovered]));
  server.publish('/f/1', 1);
  server.publish('/f/2', 2);
  await clock.until(() => got.length === 2, 1_000, 'two messages');
  const firstSession = b.client.clientId;

  // A publish on its way to the leader as it closes gets no answer: it fails rather than being sent twice.
  const lost = b.client.publish('/f/lost', 0);
  await null;
  await null;
  a.close();
  await assert.rejects(resolveOn(clock, lost, 5_000, 'the lost publish'), /moved to another tab/);
  await clock.until(() => b.client.sharing === 'leader' && b.client.state === 'connected' && resubscribed.length === 1, 5_000, 'b takes over');
  assert.notEqual(b.client.clientId, firstSession, 'a new session, in the tab that leads now');
  assert.equal(server.openSockets.length, 1, 'still one connection');
  const resume = subscribes(server).at(-1);
  assert.equal(resume.subscription, '/f/**');
  assert.equal(resume.ext?.halley?.position, 'e:2', 'resumed from the last position a tab saw');
  assert.deepEqual(resubscribed, [[sub, true]]);
  assert.ok(b.states.includes('reconnecting'));
  server.publish('/f/3', 3);
  await clock.until(() => got.length === 3, 1_000, 'a message after the handoff');
  assert.deepEqual(got, [1, 2, 3]);

  await resolveOn(clock, Promise.all([a.client.disconnect(), b.client.disconnect()]), 3_000, 'disconnect');
  assert.equal(server.openSockets.length, 0);
  assert.equal(locks.waiting, 0);
});

test('share: a tab that closes without disconnecting is let go when its lock is released; a refusal reaches the tab that asked', async () => {
  const { clock, server, locks, tab } = setup();
  const a = tab();
  await resolveOn(clock, a.client.connect(), 2_000, 'a connects');
  const b = tab();
  await resolveOn(clock, b.client.connect(), 2_000, 'b connects');
  await resolveOn(clock, a.client.subscribe('/both', () => {}), 1_000, 'a subscribes');
  await resolveOn(clock, b.client.subscribe('/both', () => {}), 1_000, 'b subscribes');
  await resolveOn(clock, b.client.subscribe('/only-b', () => {}), 1_000, 'b subscribes alone');
  const handle = server.handle.bind(server);
  server.handle = (batch, carrier) => {
    const result = handle(batch, carrier);
    for (const r of result.replies) if (r.subscription === '/refused') Object.assign(r, { successful: false, error: '403:/refused:denied' });
    return result;
  };
  await assert.rejects(resolveOn(clock, b.client.subscribe('/refused', () => {}), 1_000, 'refused'), (e) => e.name === 'HalleyError' && e.error === '403:/refused:denied');

  b.close();
  await clock.until(() => subscribes(server, '/meta/unsubscribe').length === 1, 2_000, 'the hub lets the closed tab go');
  assert.equal(subscribes(server, '/meta/unsubscribe')[0].subscription, '/only-b', 'a still wants /both');
  assert.equal(a.client.sharing, 'leader');
  assert.equal(server.openSockets.length, 1);
  await resolveOn(clock, Promise.all([a.client.disconnect(), b.client.disconnect()]), 3_000, 'disconnect');
  assert.equal(locks.waiting, 0);
});

test('share: a tab back from the back/forward cache joins again, and a subscription that missed messages says so', async () => {
  const { clock, server, tab } = setup();
  const a = tab();
  await resolveOn(clock, a.client.connect(), 2_000, 'a connects');
  const b = tab();
  await resolveOn(clock, b.client.connect(), 2_000, 'b connects');
  const got = { a: [], b: [] };
  await resolveOn(clock, a.client.subscribe('/c', (d) => got.a.push(d)), 1_000, 'a subscribes');
  const quiet = await resolveOn(clock, b.client.subscribe('/quiet', () => {}), 1_000, 'b subscribes to a quiet channel');
  const busy = await resolveOn(clock, b.client.subscribe('/c', (d) => got.b.push(d)), 1_000, 'b subscribes');
  const resubscribed = [];
  b.client.on('resubscribe', (s, recovered) => resubscribed.push([s.channel, recovered]));
  server.publish('/c', 1);
  await clock.until(() => got.b.length === 1, 1_000, 'b gets a message');

  b.window.dispatch('pagehide');
  // b's lock is released: the hub lets it go, and ends the subscription only b wanted.
  await clock.until(() => subscribes(server, '/meta/unsubscribe').length === 1, 2_000, 'b left');
  assert.equal(subscribes(server, '/meta/unsubscribe')[0].subscription, '/quiet');
  server.publish('/c', 2);
  await clock.until(() => got.a.length === 2, 1_000, 'a gets what b misses');
  for (const show of b.window.listeners.get('pageshow')) show({ type: 'pageshow', persisted: true });
  await clock.until(() => resubscribed.length === 2, 2_000, 'b joins again');
  assert.deepEqual(resubscribed.sort(), [['/c', false], ['/quiet', true]]);
  assert.equal(busy.recovered, false);
  assert.equal(quiet.recovered, true);
  server.publish('/c', 3);
  await clock.until(() => got.b.length === 2, 1_000, 'b gets messages again');
  assert.deepEqual(got.b, [1, 3]);
  assert.equal(server.sockets.length, 1, 'the same connection all along');
  await resolveOn(clock, Promise.all([a.client.disconnect(), b.client.disconnect()]), 3_000, 'disconnect');
});

test('share: connect, disconnect, connect (a StrictMode double mount) leaves one connection; disconnect leaves nothing', async () => {
  const { clock, server, locks, tab } = setup();
  const a = tab();
  const first = a.client.connect();
  void a.client.disconnect();
  await assert.rejects(first, /disconnected/);
  await resolveOn(clock, a.client.connect(), 2_000, 'connect again');
  await resolveOn(clock, a.client.connect(), 2_000, 'connect is idempotent');
  assert.equal(server.openSockets.length, 1, 'one live connection');
  assert.equal(a.window.listeners.get('pagehide')?.size, 1);
  assert.ok(!['unload', 'beforeunload'].some((type) => a.window.listeners.get(type)?.size), 'no unload handler (it breaks the back/forward cache)');
  await resolveOn(clock, Promise.all([a.client.disconnect(), a.client.disconnect()]), 3_000, 'disconnect twice');
  assert.equal(a.client.state, 'disconnected');
  assert.equal(server.openSockets.length, 0);
  assert.equal(a.window.count, 0, 'no page listener left');
  assert.equal(clock.pending, 0, 'no timer left');
  assert.equal(locks.waiting, 0, 'no lock request left');
  assert.equal(locks.held('halley-share:test:leader'), false);
});

test('subscribe from a kept position: the server is asked to replay from it, and recovered carries its answer', async () => {
  const clock = new FakeClock();
  const server = new FakeServer();
  server.recovers = false;
  const client = new HalleyClient(URL_, { WebSocket: server.WebSocket, timers: clock.timers(), window: null, document: null, transports: ['websocket'] });
  await resolveOn(clock, client.connect(), 1_000, 'connect');
  const sub = await resolveOn(clock, client.subscribe('/k', () => {}, { position: 'e:7' }), 1_000, 'subscribe');
  assert.equal(subscribes(server).at(-1).ext.halley.position, 'e:7');
  assert.equal(sub.recovered, false);
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
});

test('share (worker): the worker module holds one connection for every tab, and lets a closed tab go', async () => {
  // The worker's client gets only options that survive a structured clone: it finds the WebSocket and the lock
  // manager as a worker would, on its global scope. Real time here: the fake server answers at once.
  const server = new FakeServer();
  const locks = new FakeLocks();
  globalThis.WebSocket = server.WebSocket;
  Object.defineProperty(globalThis, 'navigator', { value: { locks }, configurable: true });
  await import('../halley/shared/worker.js');
  const until = async (condition, what) => {
    for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(condition(), what);
  };
  const open = (window = null) => new HalleyClient(URL_, { window, document: null, transports: ['websocket'], share: { mode: 'worker', locks, SharedWorker: FakeSharedWorker } });
  try {
    const a = open();
    const pageB = new CountingTarget();
    const b = open(pageB);
    await Promise.all([a.connect(), b.connect()]);
    assert.deepEqual([a.sharing, b.sharing], ['worker', 'worker']);
    assert.equal(FakeSharedWorker.created, 2);
    assert.equal(server.sockets.length, 1, 'one connection, in the worker');
    const got = { a: [], b: [] };
    await a.subscribe('/w', (d) => got.a.push(d));
    const subB = await b.subscribe('/w', (d) => got.b.push(d));
    await b.subscribe('/w/b', () => {});
    assert.equal(subscribes(server).length, 2);
    server.publish('/w', 1);
    await until(() => got.a.length === 1 && got.b.length === 1, 'both tabs get the message');
    assert.deepEqual(await b.call('/service/echo', 'x'), 'x');
    await subB.unsubscribe();
    pageB.dispatch('pagehide'); // the tab closes: no message to the worker, only its lock released
    await until(() => subscribes(server, '/meta/unsubscribe').length === 1, 'the hub lets the closed tab go');
    assert.equal(subscribes(server, '/meta/unsubscribe')[0].subscription, '/w/b', 'a still wants /w');
    server.publish('/w', 2);
    await until(() => got.a.length === 2, 'a still gets messages');
    assert.deepEqual(got.b, [1]);
    await Promise.all([a.disconnect(), b.disconnect()]);
    await until(() => server.openSockets.length === 0, 'the last tab ends the session');
    assert.equal(locks.waiting, 0, 'no lock request left');
  } finally {
    delete globalThis.WebSocket;
    delete globalThis.navigator;
    delete globalThis.onconnect;
  }
});
