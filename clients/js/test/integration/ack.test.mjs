// A message lost on its way while the session survives (its WebSocket frame or its long-poll answer dropped with
// the connection): without the ack extension it is gone, which Bayeux alone cannot prevent; with
// `acknowledge: true` the server sends the unacknowledged batch again on the resumed session, and the
// application gets every message exactly once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HalleyClient } from '../../halley.js';
import { asJson, exitWhenIdle, gatedNetwork, publishViaApi, startServer, waitFor } from './network.mjs';

const T = 15_000;
let server;

before(async () => { server = await startServer([]); });
after(async () => { await server?.stop(); exitWhenIdle(); });

let counter = 0;

for (const transport of ['websocket', 'long-polling', 'callback-polling']) {
  describe(transport, () => {
    for (const acknowledge of [true, false]) {
      test(`acknowledge ${acknowledge}: a message whose delivery is lost with its connection ${acknowledge ? 'arrives exactly once after the resume' : 'is gone'}`, async () => {
        const net = gatedNetwork();
        const client = new HalleyClient(server.url, {
          transport, acknowledge, WebSocket: net.WebSocket, fetch: net.fetch, backoff: { min: 100, max: 1_000 },
        });
        try {
          await waitFor(client.connect(), T, 'connect');
          const root = `/ack/${transport}-${++counter}`;
          const got = [];
          await waitFor(client.subscribe(`${root}/*`, (data) => got.push(data)), T, 'subscribe');
          const clientId = client.clientId;
          await publishViaApi(server, `${root}/a`, 'first');
          await waitFor(() => got.length === 1, T, 'the first message');
          const states = [];
          client.on('state', (state) => states.push(state));
          net.loseNext('lost-on-its-way');
          await publishViaApi(server, `${root}/a`, 'lost-on-its-way');
          await waitFor(() => states.includes('reconnecting') && client.state === 'connected', T, 'a drop with the delivery, then connected again');
          assert.equal(client.clientId, clientId, 'the same session');
          await publishViaApi(server, `${root}/a`, 'last');
          await waitFor(() => got.includes('last'), T, `the last message (got ${asJson(got)})`);
          assert.deepEqual(got, acknowledge ? ['first', 'lost-on-its-way', 'last'] : ['first', 'last']);
        } finally {
          await client.disconnect();
        }
      });
    }
  });
}

test('acknowledge leaves eventsource out: the server refuses its stream to an ack session', async () => {
  const client = new HalleyClient(server.url, { transports: ['eventsource', 'long-polling'], acknowledge: true });
  try {
    await waitFor(client.connect(), T, 'connect');
    assert.equal(client.transport, 'long-polling');
  } finally {
    await client.disconnect();
  }
});
