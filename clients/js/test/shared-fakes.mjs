// Fakes for the tab-sharing tests: a Web Locks manager (exclusive locks, granted in request order, released when
// the callback's promise settles, pending requests abortable) and "tabs" in one process: each its own
// HalleyClient with `share`, a window that can fire pagehide, and Node's BroadcastChannel between them.
import { HalleyClient } from '../halley.js';
import { CountingTarget } from './fakes.mjs';

export class FakeLocks {
  /** @type {Map<string, object>} */
  #held = new Map();
  /** @type {Map<string, any[]>} */
  #queues = new Map();

  request(name, options, callback) {
    if (typeof options === 'function') [options, callback] = [{}, options];
    return new Promise((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) {
        reject(new DOMException('aborted', 'AbortError'));
        return;
      }
      const request = { callback, resolve, reject };
      const queue = this.#queue(name);
      queue.push(request);
      signal?.addEventListener('abort', () => {
        const i = queue.indexOf(request);
        if (i < 0) return;
        queue.splice(i, 1);
        reject(new DOMException('aborted', 'AbortError'));
      });
      this.#grant(name);
    });
  }

  /** Whether `name` is held. */
  held(name) { return this.#held.has(name); }

  /** How many requests wait, over all names. */
  get waiting() { let n = 0; for (const q of this.#queues.values()) n += q.length; return n; }

  #queue(name) {
    if (!this.#queues.has(name)) this.#queues.set(name, []);
    return this.#queues.get(name);
  }

  #grant(name) {
    if (this.#held.has(name)) return;
    const request = this.#queue(name).shift();
    if (!request) return;
    this.#held.set(name, request);
    const release = () => {
      this.#held.delete(name);
      this.#grant(name);
    };
    Promise.resolve()
      .then(() => request.callback({ name, mode: 'exclusive' }))
      .then((value) => { release(); request.resolve(value); }, (error) => { release(); request.reject(error); });
  }
}

/**
 * A tab: a HalleyClient sharing through Web Locks (the fake lock manager, Node's BroadcastChannel) with the
 * server's fake WebSocket and the test's clock.
 */
export function openTab(url, { server, clock, locks, name = 'test', options = {} }) {
  const window = new CountingTarget();
  const client = new HalleyClient(url, {
    WebSocket: server.WebSocket,
    fetch: server.fetch,
    timers: clock.timers(),
    window,
    document: null,
    transports: ['websocket'],
    share: { mode: 'locks', name, locks, BroadcastChannel },
    ...options,
  });
  const states = [];
  client.on('state', (s) => states.push(s));
  return {
    client,
    window,
    states,
    /** The page goes away (pagehide, then its locks are released), as a closed tab does. */
    close() { window.dispatch('pagehide'); },
  };
}

/**
 * A SharedWorker constructor that runs the worker module (halley/shared/worker.js) in this process: each instance
 * gets a MessageChannel whose far end goes to the module's `onconnect`, as a browser does.
 */
export class FakeSharedWorker {
  static created = 0;

  constructor(url, options) {
    FakeSharedWorker.created += 1;
    this.url = url;
    this.options = options;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.onerror = null;
    queueMicrotask(() => globalThis.onconnect({ ports: [port2] }));
  }
}
