// Helpers of the tab-sharing tests: a loopback TCP proxy in front of the server that counts the WebSocket
// connections the browser opens through it (the server exposes no count of its own), and tabs of one browser
// context (one origin, so they share SharedWorkers, Web Locks and BroadcastChannels) on the proxy's origin.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Forwards every TCP connection to `target` (http://127.0.0.1:port) unchanged, noting which opened a WebSocket
 * (its first request asks to upgrade `/cometd`). The Host header names the proxy, so the page's origin is the
 * proxy's, and the server takes it for its own. `hold()` keeps new connections waiting (unread) until `release()`:
 * `held()` resolves when one arrives.
 */
export async function startCountingProxy(target) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  let upgrades = 0;
  const webSockets = new Set();
  /** @type {(() => void)[] | null} connections waiting for release() */
  let holding = null;
  /** @type {(() => void)[]} */
  let onHeld = [];
  const server = net.createServer((client) => {
    if (!holding) {
      forward(client);
      return;
    }
    holding.push(() => forward(client));
    for (const resolve of onHeld) resolve();
    onHeld = [];
  });
  const forward = (client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    let head = '';
    const sniff = (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      client.off('data', sniff);
      if (/^GET \/cometd[^\r]*\r\n/.test(head) && /\r\nupgrade:\s*websocket/i.test(head)) {
        upgrades += 1;
        webSockets.add(client);
      }
    };
    client.on('data', sniff);
    client.pipe(upstream).pipe(client);
    const end = () => {
      webSockets.delete(client);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  };
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    /** WebSocket connections opened so far. */
    upgrades: () => upgrades,
    /** WebSocket connections open now. */
    open: () => webSockets.size,
    hold: () => { holding ??= []; },
    /** Resolves once a connection is held. */
    held: () => new Promise((resolve) => { if (holding?.length) resolve(); else onHeld.push(resolve); }),
    release: () => {
      const waiting = holding ?? [];
      holding = null;
      for (const go of waiting) go();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A browser context whose pages are on `base` (the proxy), with `pages/halley-shared.html` answered from disk by
 * playwright; everything else (the client from /halley.js, its SharedWorker script, /cometd) goes to the server.
 */
export async function sharedContext(browser, base) {
  // See browser.mjs: a routed page needs the permission to reach the loopback server.
  const context = await browser.newContext({ permissions: ['local-network-access'] });
  const body = await readFile(path.join(here, 'pages', 'halley-shared.html'));
  await context.route(`${base}/halley-shared.html`, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body }));
  return context;
}

/** Opens a tab of `context` on the page and waits until its script is ready; its errors go to `errors`. */
export async function openTab(context, base, errors, timeout) {
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  await page.goto(`${base}/halley-shared.html`);
  await page.waitForFunction(() => window.halleyTest?.ready, null, { timeout });
  return page;
}
