// Resumable streams with the official clients, unchanged: a subscriber that comes back subscribes with the
// last position it saw (ext.halley.position in /meta/subscribe, added through CometD's subscribe props or a
// Faye extension) and receives exactly what it missed, in order, then live messages (docs/recovery.md).
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { scenario, useServer } from './scenarios.mjs';
import { publishViaApi, uniquePrefix, waitFor } from './harness.mjs';

const server = useServer(['--Halley:History:Channels:/it/**:Size=100']);

const WAIT_MS = 10_000;

const publish = (channel, data) => publishViaApi(server(), channel, data);

/** The positions the server put on the messages of `channel` that `peer` received, in arrival order. */
function positions(peer, channel) {
  return peer.delivered(channel).filter((m) => m.channel === channel).map((m) => m.ext?.halley?.position);
}

const offset = (position) => Number(position.slice(position.lastIndexOf(':') + 1));

for (const [kind, transport] of [['cometd', 'websocket'], ['cometd', 'long-polling'], ['faye', 'websocket'], ['faye', 'long-polling']]) {
  describe(`recovery: ${kind} over ${transport}`, () => {
    scenario('a new session resubscribing from the last position gets exactly what it missed, in order, then live', server, async (ctx) => {
      const channel = `${uniquePrefix(`rec-${kind}-${transport}`)}/feed`;
      const first = await ctx.open(kind, transport, 'first');
      const before = await first.subscribe(channel);
      for (let n = 1; n <= 3; n++) await publish(channel, { n });
      await waitFor(() => before.messages.length === 3, WAIT_MS, 'the first three messages');
      const seen = positions(first, channel);
      assert.equal(seen.length, 3);
      assert.ok(seen.every((p) => typeof p === 'string'), `every message carries ext.halley.position: ${JSON.stringify(seen)}`);
      await first.disconnect();

      for (let n = 4; n <= 8; n++) await publish(channel, { n });
      const second = await ctx.open(kind, transport, 'second');
      const resumed = await second.subscribe(channel, { position: seen.at(-1) });
      assert.equal(resumed.reply?.ext?.halley?.recovered, true, `subscribe reply: ${JSON.stringify(resumed.reply)}`);
      await publish(channel, { n: 9 });
      await waitFor(() => resumed.messages.length >= 6, WAIT_MS, 'the five missed messages and one live one');

      assert.deepEqual(resumed.messages.map((m) => m.data.n), [4, 5, 6, 7, 8, 9]);
      const offsets = positions(second, channel).map(offset);
      assert.ok(offsets.every((o, i) => i === 0 || o > offsets[i - 1]), `positions increase: ${offsets}`);
      assert.ok(offsets[0] > offset(seen.at(-1)), 'the replay starts after the position given');
    });

    scenario('a position the server no longer has gets recovered: false and no replay', server, async (ctx) => {
      const channel = `${uniquePrefix(`rec-${kind}-${transport}`)}/gone`;
      await publish(channel, { n: 1 });
      const peer = await ctx.open(kind, transport, 'late');
      // A well-formed position of another epoch: what a client holds after the server restarted.
      const sub = await peer.subscribe(channel, { position: 'otherepoch:1' });
      assert.equal(sub.reply?.ext?.halley?.recovered, false, `subscribe reply: ${JSON.stringify(sub.reply)}`);
      await publish(channel, { n: 2 });
      await waitFor(() => sub.messages.length >= 1, WAIT_MS, 'the live message');
      assert.deepEqual(sub.messages.map((m) => m.data.n), [2]);
    });
  });
}
