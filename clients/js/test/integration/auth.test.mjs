// Connection tokens: the `auth` option sends a JWT in the handshake's ext.auth.token, and a fresh one in the next
// connect when the server says the token expires soon, so the session outlives its first token.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { HalleyClient, HalleyError } from '../../halley.js';
import { exitWhenIdle, publishViaApi, startServer, waitFor } from './network.mjs';

const T = 15_000;
const SECRET = 'a-js-test-secret-of-at-least-32-bytes!!';
let server;

/** An HS256 JWT, as a backend would mint one (a few lines of node:crypto). */
function mint(sub, lifetimeSeconds = 3600) {
  const base64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url({ sub, iat: now, exp: now + lifetimeSeconds })}`;
  return `${unsigned}.${createHmac('sha256', SECRET).update(unsigned).digest('base64url')}`;
}

before(async () => {
  server = await startServer([
    `--Halley:Auth:Jwt:Keys:0:Secret=${SECRET}`, '--Halley:Auth:Jwt:ClockSkew=00:00:00',
    '--Halley:Auth:AllowAnonymous=false', '--Halley:Auth:RefreshBefore=01:00:00',
    '--Halley:Auth:Channels:0:Pattern=/user/{sub}/**', '--Halley:Auth:Channels:0:Subscribe=authenticated',
  ]);
});
after(async () => { await server?.stop(); exitWhenIdle(); });

test('without a token the handshake is refused with its reason', async () => {
  const client = new HalleyClient(server.url, { transport: 'long-polling' });
  try {
    await assert.rejects(waitFor(client.connect(), T, 'connect'), (error) => error instanceof HalleyError && error.error === '403::authentication_required');
  } finally {
    await client.disconnect();
  }
});

for (const transport of ['websocket', 'long-polling']) {
  test(`${transport}: the token is the identity, and a fresh one renews the session past the first one's expiry`, async () => {
    let minted = 0;
    const client = new HalleyClient(server.url, { transport, WebSocket, auth: () => { minted++; return mint('ada', 3); } });
    try {
      await waitFor(client.connect(), T, 'connect');
      const clientId = client.clientId;
      const got = [];
      await waitFor(client.subscribe('/user/ada/inbox', (data) => got.push(data)), T, 'subscribe');
      await assert.rejects(client.subscribe('/user/bob/inbox', () => {}), (error) => error instanceof HalleyError && /not_your_channel/.test(error.error));
      // Every token lives 3 s, within RefreshBefore: the client keeps minting fresh ones as the server asks.
      const firstExpiry = Date.now() + 3_000;
      await waitFor(() => minted >= 2 && Date.now() > firstExpiry + 1_000, T, 'a refresh, and the first token expired');
      await publishViaApi(server, '/user/ada/inbox', 'after the refresh');
      await waitFor(() => got.includes('after the refresh'), T, 'the message');
      assert.equal(client.clientId, clientId, 'the same session');
    } finally {
      await client.disconnect();
    }
  });
}
