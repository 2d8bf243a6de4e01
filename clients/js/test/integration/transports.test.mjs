// The client against a real Halley server (src/Halley.Server, Release build) on 127.0.0.1, each transport forced
// in turn: connect, subscribe with a wildcard, publish, receive, call /service/echo; then a gap the client cannot
// bridge with its session (the network cut, the session ended by the backend, messages published meanwhile):
// with history on every message arrives exactly once and recovered is true; with history off the gap is lost and
// recovered is false. Last, the fallback: a blocked WebSocket and one that upgrades and then stays silent.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HalleyClient } from '../../halley.js';
import {
  SilentWebSocket, TRANSPORTS, asJson, endSession, exitWhenIdle, gatedNetwork, nextEvent, publishViaApi, startServer, waitFor,
} from './network.mjs';

const T = 15_000;
let withHistory;
let withoutHistory;
const clients = [];

before(async () => {
  [withHistory, withoutHistory] = await Promise.all([
    startServer(['--Halley:History:Channels:/**:Size=1000']),
    startServer([]),
  ]);
});

after(async () => {
  await Promise.all(clients.map((c) => c.disconnect()));
  await Promise.all([withHistory?.stop(), withoutHistory?.stop()]);
  exitWhenIdle();
});

function client(server, options) {
  const c = new HalleyClient(server.url, { backoff: { min: 100, max: 1_000 }, connectTimeout: 3_000, ...options });
  clients.push(c);
  return c;
}

let counter = 0;
const unique = (tag) => `/js/${tag}-${++counter}`;

for (const transport of TRANSPORTS) {
  describe(`${transport} (forced)`, () => {
    test('connects, subscribes with a wildcard, publishes, receives and calls a service', async () => {
      const net = gatedNetwork();
      const c = client(withHistory, { transport, WebSocket: net.WebSocket, fetch: net.fetch });
      const states = [];
      c.on('state', (s) => states.push(s));
      await waitFor(c.connect(), T, 'connect');
      assert.equal(c.transport, transport);
      const root = unique(transport);
      const got = [];
      const sub = await waitFor(c.subscribe(`${root}/*`, (data, m) => got.push({ data, channel: m.channel, position: m.position })), T, 'subscribe');
      assert.equal(typeof sub.position, 'string', 'a subscribe on a server with history says where it starts');
      const published = await waitFor(c.publish(`${root}/a`, { n: 1 }), T, 'publish');
      assert.match(published.position, /.+/);
      await publishViaApi(withHistory, `${root}/b`, { n: 2 });
      await publishViaApi(withHistory, `${root}/deeper/c`, { n: 0 }); // not matched by /*
      await publishViaApi(withHistory, `${root}/c`, { n: 3 });
      await waitFor(() => got.length >= 3, T, `three messages (got ${asJson(got)})`);
      assert.deepEqual(got.map((m) => [m.data.n, m.channel]), [[1, `${root}/a`], [2, `${root}/b`], [3, `${root}/c`]]);
      assert.equal(got[0].position, published.position);
      assert.equal(sub.position, got[2].position);
      assert.deepEqual(await waitFor(c.call('/service/echo', { ping: transport }), T, 'call'), { ping: transport });
      await waitFor(sub.unsubscribe(), T, 'unsubscribe');
      await waitFor(c.disconnect(), T, 'disconnect');
      assert.deepEqual(states, ['connecting', 'connected', 'disconnected']);
    });

    for (const history of [true, false]) {
      test(`a lost session with history ${history ? 'on: every message exactly once, recovered' : 'off: the gap is lost, recovered is false'}`, async () => {
        const server = history ? withHistory : withoutHistory;
        const net = gatedNetwork();
        const c = client(server, { transport, WebSocket: net.WebSocket, fetch: net.fetch });
        await waitFor(c.connect(), T, 'connect');
        const root = unique(`gap-${transport}`);
        const got = [];
        const sub = await waitFor(c.subscribe(`${root}/**`, (data) => got.push(data)), T, 'subscribe');
        for (const n of [1, 2, 3]) await publishViaApi(server, `${root}/x/${n % 2}`, n);
        await waitFor(() => got.length === 3, T, `the first three (got ${asJson(got)})`);

        const clientId = c.clientId;
        const reconnecting = nextEvent(c, 'state', (s) => s === 'reconnecting');
        net.cut();
        await waitFor(reconnecting, T, 'reconnecting after the cut');
        assert.equal(await endSession(server, clientId), 200, 'the backend ends the session');
        for (const n of [4, 5, 6]) await publishViaApi(server, `${root}/x/${n % 2}`, n);
        const resubscribed = nextEvent(c, 'resubscribe');
        net.restore();
        const [subscription, recovered] = await waitFor(resubscribed, T, 'resubscribed');
        assert.equal(subscription, sub);
        assert.equal(recovered, history);
        assert.equal(sub.recovered, history);
        assert.notEqual(c.clientId, clientId, 'a new session');
        await waitFor(() => c.state === 'connected', T, 'connected');
        for (const n of [7, 8, 9, 10]) await publishViaApi(server, `${root}/x/${n % 2}`, n);
        await waitFor(() => got.includes(10), T, `the last message (got ${asJson(got)})`);
        const expected = history ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] : [1, 2, 3, 7, 8, 9, 10];
        assert.deepEqual(got, expected, 'each message exactly once, in order');
        assert.equal(c.transport, transport);
        await waitFor(c.disconnect(), T, 'disconnect');
      });
    }

    test('a connection cut while the session lives resumes the same session', async () => {
      const net = gatedNetwork();
      const c = client(withHistory, { transport, WebSocket: net.WebSocket, fetch: net.fetch });
      await waitFor(c.connect(), T, 'connect');
      const root = unique(`resume-${transport}`);
      const got = [];
      await waitFor(c.subscribe(`${root}/*`, (data) => got.push(data)), T, 'subscribe');
      const clientId = c.clientId;
      const reconnecting = nextEvent(c, 'state', (s) => s === 'reconnecting');
      net.cut();
      await waitFor(reconnecting, T, 'reconnecting after the cut');
      const back = nextEvent(c, 'state', (s) => s === 'connected');
      net.restore();
      await waitFor(back, T, 'connected again');
      assert.equal(c.clientId, clientId, 'the same session, bound again by its token');
      await publishViaApi(withHistory, `${root}/a`, 1);
      await waitFor(() => got.length === 1, T, 'a message after the resume');
      assert.deepEqual(got, [1]);
      await waitFor(c.disconnect(), T, 'disconnect');
    });
  });
}

describe('fallback', () => {
  test('a WebSocket that cannot connect is skipped at once: the next transport takes over', async () => {
    const net = gatedNetwork();
    const c = client(withHistory, {
      transports: ['websocket', 'long-polling'],
      WebSocket: function Blocked() { return new net.WebSocket('ws://127.0.0.1:9/'); },
      connectTimeout: 10_000,
    });
    const started = Date.now();
    await waitFor(c.connect(), T, 'connect');
    assert.equal(c.transport, 'long-polling');
    assert.ok(Date.now() - started < 5_000, 'no connect timeout waited for a refused socket');
    assert.deepEqual(await waitFor(c.call('/service/echo', 'x'), T, 'call'), 'x');
    await waitFor(c.disconnect(), T, 'disconnect');
  });

  test('a WebSocket that upgrades and then stays silent fails at the connect timeout: eventsource takes over', async () => {
    const c = client(withHistory, { WebSocket: SilentWebSocket, connectTimeout: 1_500 });
    const started = Date.now();
    await waitFor(c.connect(), T, 'connect');
    assert.equal(c.transport, 'eventsource');
    assert.ok(Date.now() - started >= 1_400, 'waited for the connect timeout');
    const root = unique('silent');
    const got = [];
    await waitFor(c.subscribe(`${root}/*`, (d) => got.push(d)), T, 'subscribe');
    await publishViaApi(withHistory, `${root}/a`, 1);
    await waitFor(() => got.length === 1, T, 'a message over eventsource');
    await waitFor(c.disconnect(), T, 'disconnect');
  });
});
