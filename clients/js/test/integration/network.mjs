// What the integration tests put between the client and the real server: the ws package as the WebSocket
// (Node 20 has none), Node's fetch, and a gate that can cut every connection and refuse new ones, as a network
// outage would, so a test makes a gap of its own length instead of sleeping.
import WebSocket from 'ws';

export { asJson, exitWhenIdle, publishViaApi, startServer, waitFor } from '../../../../test/interop/harness.mjs';

/** Where a refused connection goes: the discard port on loopback, closed on a test machine. */
const NOWHERE = 'ws://127.0.0.1:9/';

export function gatedNetwork() {
  const sockets = new Set();
  const requests = new Set();
  const gate = {
    blocked: false,
    /** Set by loseNext: the next delivery holding this text is dropped, with its connection. */
    lose: null,
    /** A WebSocket constructor (the ws package) that fails to connect while the gate is blocked. */
    WebSocket: function GatedWebSocket(url) {
      const socket = new WebSocket(gate.blocked ? NOWHERE : url);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      // The client's onmessage sees every frame but the one loseNext names.
      let handler = null;
      Object.defineProperty(socket, 'onmessage', { configurable: true, get: () => handler, set: (fn) => { handler = fn; } });
      socket.addEventListener('message', (event) => {
        if (gate.lose && String(event.data).includes(gate.lose)) {
          gate.lose = null;
          socket.terminate();
          return;
        }
        handler?.(event);
      });
      return socket;
    },
    /** fetch, failing while the gate is blocked. */
    fetch(url, init = {}) {
      if (gate.blocked) return Promise.reject(new TypeError('fetch failed (the test network is down)'));
      const controller = new AbortController();
      init.signal?.addEventListener('abort', () => controller.abort(), { once: true });
      // Kept until cut() (not only until the headers come): a stream's body is still being read after that.
      requests.add(controller);
      const response = fetch(url, { ...init, signal: controller.signal });
      if (init.headers?.accept === 'text/event-stream') return response;
      // Each answer is read first, so one that loseNext names (armed even after the request went out, as a held
      // connect's) is dropped as if the connection broke while it was on its way.
      return response.then(async (r) => {
        const body = await r.text();
        if (gate.lose && body.includes(gate.lose)) {
          gate.lose = null;
          throw new TypeError('fetch failed (the answer was lost on its way)');
        }
        return new Response(body, { status: r.status, headers: r.headers });
      });
    },
    /** Drops the next delivery (a WebSocket frame, an HTTP answer) holding `text`, and its connection. */
    loseNext(text) {
      gate.lose = text;
    },
    /** Blocks new connections and cuts the open ones (sockets terminated, requests and streams aborted). */
    cut() {
      gate.blocked = true;
      for (const socket of sockets) socket.terminate();
      for (const controller of requests) controller.abort();
      requests.clear();
    },
    restore() {
      gate.blocked = false;
    },
  };
  return gate;
}

/**
 * A WebSocket constructor whose sockets open (the upgrade succeeds) and then never deliver a message, as behind
 * a proxy that accepts the upgrade and then buffers or drops frames.
 */
export function SilentWebSocket(url) {
  const socket = new WebSocket(url);
  Object.defineProperty(socket, 'onmessage', { set() {}, get() { return null; } });
  return socket;
}

export const TRANSPORTS = ['websocket', 'eventsource', 'long-polling', 'callback-polling'];

/** Resolves with the next value `client` emits for `event` that satisfies `predicate`. */
export function nextEvent(client, event, predicate = () => true) {
  return new Promise((resolve) => {
    const off = client.on(event, (...args) => {
      if (!predicate(...args)) return;
      off();
      resolve(args);
    });
  });
}

/** POST /api/disconnect: ends a session from the backend. */
export async function endSession(server, clientId) {
  const response = await fetch(`${server.base}/api/disconnect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId }),
  });
  await response.text();
  return response.status;
}
