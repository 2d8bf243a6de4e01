// The real server killed (SIGKILL) mid-stream and started again on the same port, each transport forced in turn.
// The client reconnects by itself, finds its session gone, handshakes and resubscribes from its last position.
// The in-memory engine starts a new epoch, so the position cannot be recovered: the subscription says
// recovered: false, and every message published before the kill and after the restart arrives exactly once.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { HalleyClient } from '../../halley.js';
import { TRANSPORTS, asJson, exitWhenIdle, gatedNetwork, nextEvent, publishViaApi, startServer, waitFor } from './network.mjs';

const T = 20_000;
const ARGS = ['--Halley:History:Channels:/**:Size=1000'];

after(() => exitWhenIdle());

for (const transport of TRANSPORTS) {
  test(`${transport}: a server killed and restarted mid-stream; each message exactly once, recovered: false (new epoch)`, async () => {
    let server = await startServer(ARGS);
    const port = new URL(server.base).port;
    const net = gatedNetwork();
    const client = new HalleyClient(server.url, {
      transport, WebSocket: net.WebSocket, fetch: net.fetch, backoff: { min: 100, max: 1_000 }, connectTimeout: 3_000,
    });
    try {
      await waitFor(client.connect(), T, 'connect');
      const got = [];
      const sub = await waitFor(client.subscribe('/restart/**', (data) => got.push(data)), T, 'subscribe');
      for (const n of [1, 2, 3]) await publishViaApi(server, `/restart/${transport}/${n}`, n);
      await waitFor(() => got.length === 3, T, `the first three (got ${asJson(got)})`);
      const firstSession = client.clientId;

      const reconnecting = nextEvent(client, 'state', (s) => s === 'reconnecting');
      await server.kill();
      await waitFor(reconnecting, T, 'reconnecting after the kill');
      const resubscribed = nextEvent(client, 'resubscribe');
      server = await startServer([...ARGS, '--urls', `http://127.0.0.1:${port}`]);
      const [, recovered] = await waitFor(resubscribed, T, 'resubscribed on the new server');
      assert.equal(recovered, false, 'a new epoch: what the old server had cannot be replayed');
      assert.equal(sub.recovered, false);
      assert.notEqual(client.clientId, firstSession);
      await waitFor(() => client.state === 'connected', T, 'connected');
      assert.equal(client.transport, transport);
      for (const n of [4, 5, 6]) await publishViaApi(server, `/restart/${transport}/${n}`, n);
      await waitFor(() => got.includes(6), T, `the last message (got ${asJson(got)})`);
      assert.deepEqual(got, [1, 2, 3, 4, 5, 6], 'each message exactly once, in order');
    } finally {
      await client.disconnect();
      await server.stop();
    }
  });
}
