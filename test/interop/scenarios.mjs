// The Bayeux scenarios every client × transport combination must pass, plus the test context
// that owns a test's clients and prints their wire logs when the test fails.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPeer } from './clients.mjs';
import { asJson, exitWhenIdle, startServer, uniquePrefix, waitFor } from './harness.mjs';

const DELIVERY_MS = 10_000;

/** Starts one server for the calling test file (with extra command-line `args`); returns a getter for it. */
export function useServer(args = []) {
  let server;
  before(async () => { server = await startServer(args); });
  after(async () => {
    await server?.stop();
    exitWhenIdle();
  });
  return () => server;
}

export class Ctx {
  peers = [];
  constructor(server) { this.server = server; }

  /** A client that has handshaken and is connected. */
  async open(kind, transport, name, options) {
    const peer = createPeer(kind, this.server.url, transport, name, options);
    this.peers.push(peer);
    await peer.handshake();
    return peer;
  }

  report() {
    const out = this.server.output();
    return `\n--- wire logs ---\n${this.peers.map((p) => p.wireDump()).join('\n')}\n--- server output (tail) ---\n${out.slice(-4000)}`;
  }

  async closeAll() {
    for (const p of this.peers) {
      try { await p.disconnect(); } catch { /* reported by the test itself if it matters */ }
    }
  }
}

/** A test whose failure message carries every client's wire log and the server's output. */
export function scenario(name, getServer, fn, options = {}) {
  test(name, { timeout: 90_000, ...options }, async () => {
    const ctx = new Ctx(getServer());
    try {
      await fn(ctx);
    } catch (e) {
      if (e && typeof e === 'object') {
        const report = ctx.report();
        // The TAP reporter prints err.message, the spec reporter err.stack: put the report in both.
        const original = e.message;
        e.message = `${original}${report}`;
        if (typeof e.stack === 'string') {
          e.stack = e.stack.includes(original) ? e.stack.replace(original, () => e.message) : `${e.stack}${report}`;
        }
      }
      throw e;
    } finally {
      await ctx.closeAll();
    }
  });
}

/** Waits until `sub` received a message on `channel` matching `pred`. */
export function waitForMessage(peer, sub, channel, pred = () => true) {
  return waitFor(() => sub.messages.find((m) => m.channel === channel && pred(m.data)), DELIVERY_MS,
    `${peer.label} to receive a message on ${channel} (subscription ${sub.channel})`);
}

export const RICH = {
  text: 'héllo wörld ✓ 日本語 \u{1F680} "quoted" \\ back\nslash',
  int: 42, negative: -7, float: 1.5, big: 9007199254740991, zero: 0,
  yes: true, no: false, nothing: null,
  list: [1, 'two', { three: 3 }, [4]],
  nested: { deep: { er: { est: 'bottom' } } },
  empty: { obj: {}, arr: [], str: '' },
};

/** Registers the standard scenarios for one client kind over one transport. */
export function standardScenarios(kind, transport, getServer) {
  const tag = `${kind}-${transport}`;
  describe(`${kind} over ${transport}`, () => {
    scenario('handshake succeeds', getServer, async (ctx) => {
      const c = await ctx.open(kind, transport, 'client');
      const reply = c.handshakeReply;
      assert.equal(reply.channel, '/meta/handshake');
      assert.equal(reply.successful, true);
      assert.equal(typeof reply.clientId, 'string');
      assert.ok(reply.clientId.length > 0, 'empty clientId');
      assert.equal(reply.version, '1.0');
      assert.ok(Array.isArray(reply.supportedConnectionTypes), 'supportedConnectionTypes missing');
      c.assertTransportUsed();
    });

    scenario('subscribe to an exact channel, publish and receive', getServer, async (ctx) => {
      const p = uniquePrefix(tag);
      const sub = await ctx.open(kind, transport, 'subscriber');
      const pub = await ctx.open(kind, transport, 'publisher');
      const s = await sub.subscribe(`${p}/chat`);
      const other = await sub.subscribe(`${p}/other`);
      await pub.publish(`${p}/chat`, RICH);
      await pub.publish(`${p}/other`, { marker: true });
      const got = await waitForMessage(sub, s, `${p}/chat`);
      assert.deepEqual(got.data, RICH, 'payload changed in transit');
      await waitForMessage(sub, other, `${p}/other`);
      assert.deepEqual(s.messages, [{ channel: `${p}/chat`, data: RICH }]);
      assert.deepEqual(sub.delivered(p).map((m) => m.channel), [`${p}/chat`, `${p}/other`], 'server delivered unexpected messages');
      sub.assertTransportUsed();
      pub.assertTransportUsed();
    });

    scenario('wildcards: exact, /a/* (one segment) and /a/** (any depth)', getServer, async (ctx) => {
      const p = uniquePrefix(tag);
      const pub = await ctx.open(kind, transport, 'publisher');
      const subs = {};
      for (const [key, pattern] of [['exact', '/a/b'], ['one', '/a/*'], ['any', '/a/**']]) {
        const peer = await ctx.open(kind, transport, `sub ${pattern}`);
        subs[key] = { peer, s: await peer.subscribe(`${p}${pattern}`), done: await peer.subscribe(`${p}/done`) };
      }
      const published = ['/a', '/a/b', '/a/c', '/a/b/c', '/a/b/c/d', '/ab', '/ab/c', '/b/a', '/x/a/b'];
      for (const ch of published) await pub.publish(`${p}${ch}`, { ch });
      await pub.publish(`${p}/done`, { done: true });
      const expected = {
        exact: ['/a/b'],
        one: ['/a/b', '/a/c'],
        any: ['/a/b', '/a/c', '/a/b/c', '/a/b/c/d'],
      };
      for (const [key, { peer, s, done }] of Object.entries(subs)) {
        await waitForMessage(peer, done, `${p}/done`);
        const want = expected[key].map((ch) => ({ channel: `${p}${ch}`, data: { ch } }));
        assert.deepEqual(s.messages, want, `${peer.label}: listener of ${s.channel} got the wrong messages`);
        assert.deepEqual(peer.delivered(p).map((m) => m.channel), [...want.map((m) => m.channel), `${p}/done`],
          `${peer.label}: server delivered the wrong messages for ${s.channel}`);
        peer.assertTransportUsed();
      }
    });

    scenario('100 messages published in order arrive in order, none missing', getServer, async (ctx) => {
      const p = uniquePrefix(tag);
      const sub = await ctx.open(kind, transport, 'subscriber');
      const pub = await ctx.open(kind, transport, 'publisher');
      const s = await sub.subscribe(`${p}/seq`);
      if (kind === 'faye' && transport === 'long-polling') {
        // Faye long-polling sends each batch as its own POST without waiting for the previous
        // one, so a burst may reach the server on concurrent requests with no defined order.
        for (let i = 0; i < 100; i++) await pub.publish(`${p}/seq`, { i });
      } else {
        for (let i = 0; i < 100; i++) pub.publishNoWait(`${p}/seq`, { i });
      }
      await pub.publish(`${p}/seq`, { i: 'end' });
      await waitForMessage(sub, s, `${p}/seq`, (d) => d.i === 'end');
      const got = s.messages.map((m) => m.data.i);
      assert.deepEqual(got, [...Array.from({ length: 100 }, (_, i) => i), 'end'], 'messages missing, duplicated or out of order');
      sub.assertTransportUsed();
      pub.assertTransportUsed();
    });

    scenario('unsubscribe stops delivery', getServer, async (ctx) => {
      const p = uniquePrefix(tag);
      const sub = await ctx.open(kind, transport, 'subscriber');
      const pub = await ctx.open(kind, transport, 'publisher');
      const gone = await sub.subscribe(`${p}/gone`);
      const marker = await sub.subscribe(`${p}/marker`);
      // Delivery works before the unsubscribe.
      await pub.publish(`${p}/gone`, { n: 1 });
      await waitForMessage(sub, gone, `${p}/gone`, (d) => d.n === 1);
      await sub.unsubscribe(gone);
      const wireMark = sub.wire.length;
      await pub.publish(`${p}/gone`, { n: 2 });
      await pub.publish(`${p}/marker`, { n: 3 });
      await waitForMessage(sub, marker, `${p}/marker`, (d) => d.n === 3);
      assert.deepEqual(gone.messages.map((m) => m.data.n), [1], 'listener called after unsubscribe');
      const after = sub.wire.slice(wireMark).filter((w) => w.dir === 'in' && w.msg.channel === `${p}/gone`);
      assert.deepEqual(after.map((w) => w.msg), [], 'server delivered a message on an unsubscribed channel');
      sub.assertTransportUsed();
      pub.assertTransportUsed();
    });

    scenario('disconnect succeeds', getServer, async (ctx) => {
      const c = await ctx.open(kind, transport, 'client');
      const s = await c.subscribe(`${uniquePrefix(tag)}/x`);
      assert.ok(s);
      c.assertTransportUsed();
      const reply = await c.disconnect();
      assert.ok(reply, `${c.label}: no /meta/disconnect reply`);
      assert.equal(reply.channel, '/meta/disconnect');
      assert.equal(reply.successful, true, `${c.label}: disconnect failed: ${asJson(reply)}`);
    });
  });
}
