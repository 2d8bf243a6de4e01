// CometD and Faye clients talking to each other through one Halley server.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { RICH, scenario, useServer, waitForMessage } from './scenarios.mjs';
import { uniquePrefix } from './harness.mjs';

const server = useServer();

const pairs = [
  // [publisher kind, transport] -> [subscriber kind, transport]
  [['cometd', 'websocket'], ['faye', 'long-polling']],
  [['cometd', 'long-polling'], ['faye', 'websocket']],
  [['faye', 'websocket'], ['cometd', 'long-polling']],
  [['faye', 'long-polling'], ['cometd', 'websocket']],
];

describe('cross-client', () => {
  for (const [[pk, pt], [sk, st]] of pairs) {
    scenario(`${pk} (${pt}) publishes, ${sk} (${st}) receives`, server, async (ctx) => {
      const p = uniquePrefix(`cross-${pk}-${sk}`);
      const sub = await ctx.open(sk, st, 'subscriber');
      const pub = await ctx.open(pk, pt, 'publisher');
      const exact = await sub.subscribe(`${p}/room`);
      const wild = await sub.subscribe(`${p}/**`);
      await pub.publish(`${p}/room`, RICH);
      await pub.publish(`${p}/deep/er`, { n: 2 });
      await waitForMessage(sub, wild, `${p}/deep/er`);
      assert.deepEqual(exact.messages, [{ channel: `${p}/room`, data: RICH }]);
      assert.deepEqual(wild.messages, [{ channel: `${p}/room`, data: RICH }, { channel: `${p}/deep/er`, data: { n: 2 } }]);
      assert.deepEqual(sub.delivered(p).map((m) => m.channel), [`${p}/room`, `${p}/deep/er`], 'each message must be delivered once per client');
      sub.assertTransportUsed();
      pub.assertTransportUsed();
    });
  }
});
