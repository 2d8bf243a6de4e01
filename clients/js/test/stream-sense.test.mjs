// Stream-sense on fake time: an eventsource stream whose first byte does not come within streamSenseTimeout is
// held by a buffering proxy; the client opens it padded, then gives way to long-polling, in the same session,
// every message exactly once (what the silent streams held arrives when the server ends them).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HalleyClient } from '../halley.js';
import { CountingTarget, FakeClock, resolveOn } from './fakes.mjs';
import { StreamingFakeServer } from './fake-streams.mjs';

const SENSE = 4_000;

function setup(options = {}) {
  const clock = new FakeClock();
  const server = new StreamingFakeServer();
  const client = new HalleyClient('http://127.0.0.1:1/cometd', {
    fetch: server.fetch,
    timers: clock.timers(),
    window: new CountingTarget(),
    document: null,
    transports: ['eventsource', 'long-polling'],
    backoff: { min: 100, max: 1_000 },
    ...options,
  });
  return { clock, server, client };
}

/** Connected over a stream that works, subscribed to /s/*; returns what the subscription received. */
async function connected(clock, client) {
  await resolveOn(clock, client.connect(), 1_000, 'connect');
  assert.equal(client.transport, 'eventsource');
  const got = [];
  await resolveOn(clock, client.subscribe('/s/*', (data) => got.push(data)), 1_000, 'subscribe');
  return got;
}

/** The stream breaks and the next ones meet a proxy that buffers (mode): returns once the new stream is open. */
async function throughBufferingProxy(clock, server, mode) {
  const opened = server.streams.length;
  server.eventsource = mode;
  server.failStreams();
  await clock.until(() => server.streams.length > opened, 5_000, 'a new stream');
}

test('a stream whose first byte comes at once is kept, unpadded', async () => {
  const { clock, server, client } = setup();
  const got = await connected(clock, client);
  server.publish('/s/a', 1);
  await clock.until(() => got.length === 1, 1_000, 'the message');
  await clock.advance(SENSE * 2);
  assert.deepEqual(server.streams.map((s) => s.padded), [false]);
  assert.equal(client.transport, 'eventsource');
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
  assert.equal(clock.pending, 0);
});

test('a silent stream is opened again padded after streamSenseTimeout, same session; what the silent one held arrives once', async () => {
  const { clock, server, client } = setup();
  const got = await connected(clock, client);
  const session = client.clientId;
  await throughBufferingProxy(clock, server, 'buffered-unless-padded');
  const reopenedAt = clock.now;
  server.publish('/s/a', 1); // into the silent stream, held by the proxy
  server.publish('/s/b', 2);
  await clock.until(() => server.streams.length === 3, SENSE + 1_000, 'the padded stream');
  assert.ok(clock.now - reopenedAt >= SENSE, `waited streamSenseTimeout (${clock.now - reopenedAt} ms)`);
  server.publish('/s/c', 3); // through the padded stream
  await clock.until(() => got.length === 3, 1_000, 'every message');
  assert.deepEqual(got, [1, 2, 3]);
  assert.deepEqual(server.streams.map((s) => s.padded), [false, false, true]);
  assert.equal(server.streams[2].url.searchParams.get('pad'), '8192');
  assert.equal(server.streams[2].url.searchParams.has('lastEventId'), false, 'the silent stream delivers what it held itself');
  assert.equal(client.clientId, session);
  assert.equal(client.transport, 'eventsource');

  // The padded choice is remembered: the next stream starts padded.
  server.failStreams();
  await clock.until(() => server.streams.length === 4 && client.state === 'connected', 5_000, 'the next stream');
  assert.equal(server.streams[3].padded, true);
  server.publish('/s/d', 4);
  await clock.until(() => got.length === 4, 1_000, 'a message on it');
  await clock.advance(SENSE * 2);
  assert.equal(server.streams.length, 4, 'no stream-sense fallback on a padded stream that works');
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
  assert.equal(clock.pending, 0, 'no timer left');
});

test('a padded stream silent too gives way to long-polling in the same session; what both streams held arrives once; eventsource is tried again later', async () => {
  const { clock, server, client } = setup({ retryWebSocketAfter: 60_000 });
  const got = await connected(clock, client);
  const session = client.clientId;
  await throughBufferingProxy(clock, server, 'buffered');
  server.publish('/s/a', 1); // held in the plain stream
  await clock.until(() => server.streams.length === 3, SENSE + 1_000, 'the padded stream');
  server.publish('/s/b', 2); // held in the padded one
  await clock.until(() => client.transport === 'long-polling' && client.state === 'connected', SENSE + 5_000, 'long-polling');
  server.publish('/s/c', 3); // in a long-poll reply
  await clock.until(() => got.length === 3, 2_000, 'every message');
  await clock.advance(1_000);
  assert.deepEqual(got, [1, 2, 3]);
  assert.equal(client.clientId, session);
  assert.ok(server.streams.every((s) => s.carrier.readyState === 3), 'every stream ended');

  // eventsource is left out for retryWebSocketAfter, then tried again (the proxy is gone by then).
  server.eventsource = 'ok';
  await clock.advance(50_000);
  assert.equal(client.transport, 'long-polling');
  assert.equal(server.streams.length, 3);
  await clock.until(() => client.transport === 'eventsource' && client.state === 'connected', 60_000, 'back on eventsource', 500);
  server.publish('/s/d', 4);
  await clock.until(() => got.length === 4, 1_000, 'a message on the stream');
  assert.deepEqual(got, [1, 2, 3, 4]);
  assert.equal(client.clientId, session);
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
  assert.equal(clock.pending, 0, 'no timer left');
});

test('on the first connect (default connectTimeout), a stream silent even padded gives way to long-polling', async () => {
  const { clock, server, client } = setup();
  server.eventsource = 'buffered';
  await resolveOn(clock, client.connect(), 3 * SENSE, 'connect');
  const got = [];
  await resolveOn(clock, client.subscribe('/s/*', (data) => got.push(data)), 1_000, 'subscribe');
  await clock.until(() => client.transport === 'long-polling', 3 * SENSE, 'long-polling');
  server.publish('/s/a', 1);
  await clock.until(() => got.length === 1, 2_000, 'the message');
  assert.deepEqual(server.streams.map((s) => s.padded), [false, true]);
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
  assert.equal(clock.pending, 0, 'no timer left');
});

test('disconnect while a silent stream is retired ends it and leaves no timer', async () => {
  const { clock, server, client } = setup();
  await connected(clock, client);
  await throughBufferingProxy(clock, server, 'buffered');
  await clock.advance(SENSE + 10);
  assert.equal(server.streams.length, 3);
  await resolveOn(clock, client.disconnect(), 2_000, 'disconnect');
  assert.equal(clock.pending, 0, 'no timer left');
  assert.ok(server.streams.every((s) => s.carrier.readyState === 3), 'every stream closed');
});
