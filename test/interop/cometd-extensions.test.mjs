// CometD-specific features: the ack and timesync extensions, remote calls to /service/echo,
// and /service/** channels never being broadcast.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { AckExtension, TimeSyncExtension } from 'cometd';
import { scenario, useServer, waitForMessage } from './scenarios.mjs';
import { asJson, uniquePrefix } from './harness.mjs';

const server = useServer();

for (const transport of ['long-polling', 'websocket']) {
  describe(`cometd extensions over ${transport}`, () => {
    scenario('AckExtension: 20 messages arrive once, in order', server, async (ctx) => {
      const p = uniquePrefix(`ack-${transport}`);
      const c = await ctx.open('cometd', transport, 'acker', { extensions: { ack: new AckExtension() } });
      const ack = c.handshakeReply.ext?.ack;
      assert.ok(ack === true || ack?.enabled === true, `server did not enable acks in the handshake reply: ext=${JSON.stringify(c.handshakeReply.ext)}`);
      const s = await c.subscribe(`${p}/acked`);
      for (let i = 0; i < 20; i++) c.publishNoWait(`${p}/acked`, { i });
      await c.publish(`${p}/acked`, { i: 'end' });
      await waitForMessage(c, s, `${p}/acked`, (d) => d.i === 'end');
      const want = [...Array.from({ length: 20 }, (_, i) => i), 'end'];
      assert.deepEqual(s.messages.map((m) => m.data.i), want, 'listener: messages missing, duplicated or out of order');
      assert.deepEqual(c.delivered(p).map((m) => m.data.i), want, 'wire: messages missing, duplicated or out of order');
      const connects = c.outgoing('/meta/connect');
      assert.ok(connects.some((m) => typeof m.ext?.ack === 'number'), 'no /meta/connect carried ext.ack');
      const replies = c.wire.filter((w) => w.dir === 'in' && w.msg.channel === '/meta/connect').map((w) => w.msg);
      assert.ok(replies.some((m) => typeof m.ext?.ack === 'number'), `no /meta/connect reply carried a batch number in ext.ack: ${JSON.stringify(replies.map((r) => r.ext))}`);
      c.assertTransportUsed();
    });

    scenario('TimeSyncExtension: server answers with tc, ts, p, a', server, async (ctx) => {
      const ts = new TimeSyncExtension();
      const c = await ctx.open('cometd', transport, 'timesync', { extensions: { timesync: ts } });
      const sent = c.outgoing('/meta/handshake')[0];
      assert.equal(typeof sent.ext?.timesync?.tc, 'number', 'client did not send timesync');
      const reply = c.handshakeReply;
      const t = reply.ext?.timesync;
      assert.ok(t, `handshake reply has no ext.timesync: ${asJson(reply)}`);
      assert.equal(t.tc, sent.ext.timesync.tc, 'tc must echo the client timestamp');
      for (const k of ['ts', 'p', 'a']) assert.equal(typeof t[k], 'number', `ext.timesync.${k} is not a number: ${JSON.stringify(t)}`);
      assert.ok(Math.abs(t.ts - t.tc) < 5_000, `server time ${t.ts} is far from client time ${t.tc} on the same machine`);
      assert.ok(Math.abs(ts.getTimeOffset()) < 5_000, `estimated offset ${ts.getTimeOffset()} ms`);
      c.assertTransportUsed();
    });

    scenario('remote call to /service/echo returns the data', server, async (ctx) => {
      const c = await ctx.open('cometd', transport, 'caller');
      const data = { hello: 'wörld', n: [1, 2, 3] };
      const r = await c.remoteCall('/echo', data);
      assert.notEqual(r.successful, false, `remote call failed: ${asJson(r)}`);
      assert.equal(r.channel, '/service/echo');
      assert.deepEqual(r.data, data);
      c.assertTransportUsed();
    });

    scenario('/service/** messages are not broadcast to a /** subscriber', server, async (ctx) => {
      const p = uniquePrefix(`service-${transport}`);
      const watcher = await ctx.open('cometd', transport, 'watcher');
      const caller = await ctx.open('cometd', transport, 'caller');
      const all = await watcher.subscribe('/**');
      await caller.remoteCall('/echo', { secret: 1 });
      await caller.publish(`${p}/marker`, { m: 1 });
      await waitForMessage(watcher, all, `${p}/marker`);
      assert.deepEqual(watcher.delivered('/service/'), [], 'a /service message was broadcast');
      // (CometD itself also hands meta replies to a local /** listener: only /service matters here.)
      assert.deepEqual(all.messages.filter((m) => m.channel.startsWith('/service/')), [], 'a /** listener saw a /service message');
      watcher.assertTransportUsed();
    });
  });
}
