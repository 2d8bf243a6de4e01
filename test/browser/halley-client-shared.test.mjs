// Halley's client with `share` in real Chromium: two tabs of one origin use one connection — counted at a TCP
// proxy in front of the server — in both modes (a SharedWorker; a Web Locks leader with BroadcastChannel), and
// closing the tab that holds it (or the first tab, with the worker) loses no message and doubles none.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { exitWhenIdle, publishViaApi, startServer } from '../interop/harness.mjs';
import { launchChromium } from './browser.mjs';
import { openTab, sharedContext, startCountingProxy } from './shared-tabs.mjs';

const WAIT_MS = 30_000;
const ARGS = ['--Halley:History:Channels:/**:Size=100'];
let browser;

after(async () => {
  await browser?.close();
  exitWhenIdle();
});

const got = (page) => page.evaluate(() => window.halleyTest.got);
const waitForGot = (page, n) => page.waitForFunction((k) => window.halleyTest.got.length >= k, n, { timeout: WAIT_MS });

for (const mode of ['worker', 'locks']) {
  test(`share (${mode}): two tabs use one connection; closing the tab that opened it loses nothing`, { timeout: 120_000 }, async () => {
    const server = await startServer(ARGS);
    const proxy = await startCountingProxy(server.base);
    browser ??= await launchChromium();
    const context = await sharedContext(browser, proxy.base);
    const errors = [];
    try {
      const first = await openTab(context, proxy.base, errors, WAIT_MS);
      const a = await first.evaluate(([m]) => window.halleyTest.start(m, '/tabs/**'), [mode]);
      const second = await openTab(context, proxy.base, errors, WAIT_MS);
      const b = await second.evaluate(([m]) => window.halleyTest.start(m, '/tabs/**'), [mode]);
      assert.deepEqual([a.sharing, b.sharing], mode === 'worker' ? ['worker', 'worker'] : ['leader', 'follower']);
      assert.equal(b.state, 'connected');
      assert.equal(a.clientId, b.clientId, 'one session');

      for (const n of [1, 2, 3]) await publishViaApi(server, `/tabs/${n}`, n);
      await Promise.all([waitForGot(first, 3), waitForGot(second, 3)]);
      assert.deepEqual(await got(first), [1, 2, 3]);
      assert.deepEqual(await got(second), [1, 2, 3]);
      assert.equal(proxy.upgrades(), 1, 'the server saw one WebSocket for both tabs');

      // The first tab goes. With Web Locks the second takes over, and its connection is held at the proxy until
      // 4 and 5 are published: they reach the server while no tab is connected, and come by the resume from the
      // last position the tabs saw. The worker keeps its connection, and they come live.
      if (mode === 'locks') proxy.hold();
      await first.close();
      if (mode === 'locks') await proxy.held();
      for (const n of [4, 5]) await publishViaApi(server, `/tabs/${n}`, n);
      proxy.release();
      await second.waitForFunction(() => window.halleyTest.client.state === 'connected', null, { timeout: WAIT_MS });
      if (mode === 'locks') {
        await second.waitForFunction(() => window.halleyTest.client.sharing === 'leader' && window.halleyTest.resubscribed.length === 1, null, { timeout: WAIT_MS });
        assert.deepEqual(await second.evaluate(() => window.halleyTest.resubscribed), [true], 'resumed with every message replayed');
      }
      await publishViaApi(server, '/tabs/6', 6);
      await second.waitForFunction(() => window.halleyTest.got.includes(6), null, { timeout: WAIT_MS });
      assert.deepEqual(await got(second), [1, 2, 3, 4, 5, 6], 'each message once, in order, across the handoff');
      assert.equal(proxy.upgrades(), mode === 'worker' ? 1 : 2, 'the worker kept its connection; a new leader opens one');
      assert.equal(proxy.open(), 1, 'one connection open');

      await second.evaluate(() => window.halleyTest.client.disconnect());
      await second.waitForFunction(() => window.halleyTest.client.state === 'disconnected', null, { timeout: WAIT_MS });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
      await proxy.close();
      await server.stop();
    }
  });
}
