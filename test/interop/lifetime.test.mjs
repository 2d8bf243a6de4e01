// The server closes WebSockets at the end of Halley:MaxConnectionLifetime (2 s ±10% here): the held
// /meta/connect is answered with {reconnect: "retry", interval: 0}, then the socket closes with 1000.
// What each official client does then is the contract documented in docs/protocol.md
// ("Connection lifetime"): Faye resumes its session (its new socket carries the browser cookie of
// its HTTP handshake) and loses nothing; CometD's socket carries no cookie, so its session cannot be
// bound to the new socket: it handshakes again, which clears its subscriptions, and what was
// published between the close and its new subscription is lost.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { scenario, useServer } from './scenarios.mjs';
import { uniquePrefix, waitFor } from './harness.mjs';
import { CometDPeer } from './clients.mjs';

const server = useServer(['--Halley:MaxConnectionLifetime=00:00:02']);

const WAIT_MS = 15_000;

async function publish(channel, data) {
  const response = await fetch(`${server().base}/api/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel, data }),
  });
  assert.equal(response.status, 200, `POST /api/publish: ${await response.text()}`);
}

/** The reply that ends a socket's lifetime: a successful connect advising an immediate reconnect, with no timeout. */
function closingReplies(peer) {
  return peer.wire.filter((w) => w.dir === 'in' && w.msg.channel === '/meta/connect' && w.msg.successful === true
    && w.msg.advice?.reconnect === 'retry' && w.msg.advice?.interval === 0 && w.msg.advice?.timeout === undefined);
}

describe('WebSocket lifetime close', () => {
  scenario('faye (websocket) resumes its session and receives what was published before, during and after the close', server, async (ctx) => {
    const p = uniquePrefix('life-faye');
    const faye = await ctx.open('faye', 'websocket', 'subscriber');
    const sub = await faye.subscribe(`${p}/ch`);
    await publish(`${p}/ch`, 'before');
    await waitFor(() => sub.messages.length === 1, WAIT_MS, 'the message published before the close');

    await waitFor(() => closingReplies(faye).length > 0, WAIT_MS, 'the server to end the socket\'s lifetime');
    await publish(`${p}/ch`, 'gap'); // the socket is closing or closed: this waits in the session
    await waitFor(() => sub.messages.length === 2, WAIT_MS, 'the message published in the gap');
    await publish(`${p}/ch`, 'after');
    await waitFor(() => sub.messages.length === 3, WAIT_MS, 'the message published after the client came back');

    assert.deepEqual(sub.messages.map((m) => m.data), ['before', 'gap', 'after']);
    faye.assertTransportUsed(); // one handshake, every connect over websocket, nothing refused
  });

  scenario('cometd (websocket) handshakes again: it keeps receiving when it subscribes in a /meta/handshake listener, and loses the gap', server, async (ctx) => {
    const p = uniquePrefix('life-cometd');
    const cometd = new CometDPeer(server().url, 'websocket', 'subscriber');
    ctx.peers.push(cometd);
    // CometD's own advice: subscribe in a /meta/handshake listener, so a new handshake subscribes again.
    const messages = [];
    const subscribed = [];
    cometd.cometd.addListener('/meta/handshake', (m) => {
      if (!m.successful) return;
      cometd.cometd.subscribe(`${p}/ch`, (e) => messages.push(e.data), (r) => subscribed.push(r));
    });
    await cometd.handshake();
    await waitFor(() => subscribed.length === 1, WAIT_MS, 'the first subscribe reply');
    assert.equal(subscribed[0].successful, true, JSON.stringify(subscribed[0]));
    await publish(`${p}/ch`, 'before');
    await waitFor(() => messages.length === 1, WAIT_MS, 'the message published before the close');

    await waitFor(() => closingReplies(cometd).length > 0, WAIT_MS, 'the server to end the socket\'s lifetime');
    await publish(`${p}/ch`, 'gap');
    // CometD reconnects on a new socket; the session is not bound to it (no cookie, no token): 402, handshake again.
    await waitFor(() => subscribed.length === 2, WAIT_MS, 'the subscribe of the second handshake');
    assert.equal(subscribed[1].successful, true, JSON.stringify(subscribed[1]));
    await publish(`${p}/ch`, 'after');
    await waitFor(() => messages.length === 2, WAIT_MS, 'the message published after the new subscription');

    assert.deepEqual(messages, ['before', 'after'], 'CometD is documented to lose what was published between the close and its new subscription');
    const refused = cometd.wire.filter((w) => w.dir === 'in' && w.msg.channel === '/meta/connect' && w.msg.error === '402::session_unknown');
    assert.equal(refused.length, 1, 'the reconnect on the new socket is refused once with 402');
    const handshakes = cometd.wire.filter((w) => w.dir === 'in' && w.msg.channel === '/meta/handshake' && w.msg.successful);
    assert.equal(handshakes.length, 2);
    assert.notEqual(handshakes[0].msg.clientId, handshakes[1].msg.clientId);
    for (const c of cometd.outgoing('/meta/connect')) assert.equal(c.connectionType, 'websocket');
  });
});
