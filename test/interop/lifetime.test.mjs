// The server closes WebSockets at the end of Halley:MaxConnectionLifetime (2 s ±10% here): the held
// /meta/connect is answered with {reconnect: "retry", interval: 0}, then the socket closes with 1000.
// What each official client does then is the contract documented in docs/protocol.md
// ("Connection lifetime"): Faye resumes its session (its new socket carries the browser cookie of
// its HTTP handshake) and loses nothing; CometD's new socket carries no cookie, but a session whose
// socket the server closed may be taken over once by the next socket, so CometD resumes it too.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { scenario, useServer } from './scenarios.mjs';
import { publishViaApi, uniquePrefix, waitFor } from './harness.mjs';

const server = useServer(['--Halley:MaxConnectionLifetime=00:00:02']);

const WAIT_MS = 15_000;

const publish = (channel, data) => publishViaApi(server(), channel, data);

/** The reply that ends a socket's lifetime: a successful connect advising an immediate reconnect, with no timeout. */
function closingReplies(peer) {
  return peer.wire.filter((w) => w.dir === 'in' && w.msg.channel === '/meta/connect' && w.msg.successful === true
    && w.msg.advice?.reconnect === 'retry' && w.msg.advice?.interval === 0 && w.msg.advice?.timeout === undefined);
}

/**
 * Publishes once the client's socket has closed (seen from the client's side: the close event of the WebSocket
 * it uses) and while it has no other open, and checks it still had none when the publish was acknowledged. The
 * message is published while no socket carries the session: it reaches the client only if the session kept it.
 */
async function publishWhileDown(peer, channel, data) {
  await waitFor(() => peer.sockets.some((s) => s.closedAt !== undefined) && peer.openSockets().length === 0, WAIT_MS,
    `${peer.label}'s socket to close`);
  await publish(channel, data);
  assert.deepEqual(peer.openSockets(), [], `'${data}' must be published while the client has no open socket`);
}

/** The server closed the client's first socket normally, and the client came back on one new socket. */
function assertCameBackOnANewSocket(peer) {
  const [first, ...rest] = peer.sockets;
  assert.equal(first?.code, 1000, 'the server closes the socket normally at the end of its lifetime');
  assert.equal(rest.length, 1, `the client came back on one new socket, not ${rest.length}`);
  assert.deepEqual(peer.openSockets(), [rest[0]], 'the new socket is the one open');
}

describe('WebSocket lifetime close', () => {
  scenario('faye (websocket) resumes its session and receives what was published before, during and after the close', server, async (ctx) => {
    const p = uniquePrefix('life-faye');
    const faye = await ctx.open('faye', 'websocket', 'subscriber');
    const sub = await faye.subscribe(`${p}/ch`);
    await publish(`${p}/ch`, 'before');
    await waitFor(() => sub.messages.length === 1, WAIT_MS, 'the message published before the close');

    // Until the gap message is published, the client sends nothing, so opens no new socket.
    const resume = faye.holdSends();
    await waitFor(() => closingReplies(faye).length > 0, WAIT_MS, 'the server to end the socket\'s lifetime');
    await publishWhileDown(faye, `${p}/ch`, 'gap');
    resume();
    await waitFor(() => sub.messages.length === 2, WAIT_MS, 'the message published in the gap');
    await publish(`${p}/ch`, 'after');
    await waitFor(() => sub.messages.length === 3, WAIT_MS, 'the message published after the client came back');

    assert.deepEqual(sub.messages.map((m) => m.data), ['before', 'gap', 'after']);
    assertCameBackOnANewSocket(faye);
    faye.assertTransportUsed(); // one handshake, every connect over websocket, nothing refused
  });

  scenario('cometd (websocket) resumes its session on its next socket and receives what was published before, during and after the close', server, async (ctx) => {
    const p = uniquePrefix('life-cometd');
    const cometd = await ctx.open('cometd', 'websocket', 'subscriber');
    const sub = await cometd.subscribe(`${p}/ch`);
    await publish(`${p}/ch`, 'before');
    await waitFor(() => sub.messages.length === 1, WAIT_MS, 'the message published before the close');

    // Until the gap message is published, the client sends nothing, so opens no new socket.
    const resume = cometd.holdSends();
    await waitFor(() => closingReplies(cometd).length > 0, WAIT_MS, 'the server to end the socket\'s lifetime');
    await publishWhileDown(cometd, `${p}/ch`, 'gap');
    resume();
    await waitFor(() => sub.messages.length === 2, WAIT_MS, 'the message published in the gap');
    await publish(`${p}/ch`, 'after');
    await waitFor(() => sub.messages.length === 3, WAIT_MS, 'the message published after the client came back');

    assert.deepEqual(sub.messages.map((m) => m.data), ['before', 'gap', 'after']);
    assertCameBackOnANewSocket(cometd);
    const refused = cometd.wire.filter((w) => w.dir === 'in' && w.msg.channel === '/meta/connect' && w.msg.successful === false);
    assert.deepEqual(refused.map((w) => w.msg), [], 'no connect is refused: the new socket took the session over');
    cometd.assertTransportUsed(); // one handshake, every connect over websocket
  });
});
