// Fakes for the unit tests: a clock the test advances, and a small Bayeux server reachable through a fake
// WebSocket constructor and a fake fetch. The integration tests use the real server; these make time and
// failures exact (a refused socket, one that opens and stays silent, a lost session, a dropped connection).
import { channelMatches } from '../halley/channels.js';

/** Timers that run only when the test advances the clock. */
export class FakeClock {
  now = 0;
  #next = 1;
  /** @type {Map<number, { at: number, fn: () => void }>} */
  #timers = new Map();
  /** Every delay ever asked for, in order (the backoff shows here). */
  requested = [];

  timers() {
    return {
      setTimeout: (fn, ms) => {
        const handle = this.#next++;
        this.requested.push(ms);
        this.#timers.set(handle, { at: this.now + Math.max(0, ms), fn });
        return handle;
      },
      clearTimeout: (handle) => { this.#timers.delete(handle); },
      now: () => this.now,
    };
  }

  /** How many timers are armed. */
  get pending() { return this.#timers.size; }

  /** Runs the timers due within `ms`, in order, letting promises settle between them. */
  async advance(ms) {
    const target = this.now + ms;
    for (;;) {
      await settle();
      let due = null;
      for (const [handle, timer] of this.#timers) {
        if (timer.at <= target && (due === null || timer.at < due[1].at)) due = [handle, timer];
      }
      if (!due) break;
      this.#timers.delete(due[0]);
      this.now = Math.max(this.now, due[1].at);
      due[1].fn();
    }
    this.now = target;
    await settle();
  }

  /** Advances in steps until `condition()` holds, failing after `ms` of fake time. */
  async until(condition, ms, what, step = 50) {
    for (let waited = 0; waited <= ms; waited += step) {
      await settle();
      if (condition()) return;
      await this.advance(step);
    }
    throw new Error(`fake time: ${what} did not happen within ${ms} ms`);
  }
}

/** Awaits a promise while advancing fake time (the client's timers run only when the clock moves). */
export async function resolveOn(clock, promise, ms, what) {
  let done = false;
  let value;
  let error;
  promise.then((v) => { done = true; value = v; }, (e) => { done = true; error = e; });
  await clock.until(() => done, ms, what);
  if (error) throw error;
  return value;
}

/** Lets every pending promise callback and immediate run. */
export async function settle() {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** An EventTarget that counts its listeners (window, document). */
export class CountingTarget {
  /** @type {Map<string, Set<Function>>} */
  listeners = new Map();
  visibilityState = 'visible';
  addEventListener(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
  }
  removeEventListener(type, fn) { this.listeners.get(type)?.delete(fn); }
  dispatch(type) { for (const fn of [...(this.listeners.get(type) ?? [])]) fn({ type }); }
  get count() { let n = 0; for (const s of this.listeners.values()) n += s.size; return n; }
}

/**
 * A Bayeux server in memory. `websocket` is 'ok', 'refuse' (the socket fails to open) or 'silent' (it opens, then
 * never answers); `http` is 'ok' or 'refuse'. Connects with advice.timeout 0 are answered at once, others held
 * until an event is queued or the test releases them.
 */
export class FakeServer {
  websocket = 'ok';
  http = 'ok';
  /** What a resubscribe from a position answers in ext.halley.recovered. */
  recovers = true;
  /** @type {Map<string, { subs: Set<string>, queue: any[], carrier: any, held: null | (() => void) }>} */
  sessions = new Map();
  /** Every message received, in order. */
  received = [];
  /** @type {FakeSocket[]} */
  sockets = [];
  #clients = 0;
  #offset = 0;

  get WebSocket() {
    const server = this;
    return class extends FakeSocket {
      constructor(url) { super(server, url); }
    };
  }

  /** A fetch that carries POSTs (long-polling) and JSONP GETs to this server. */
  get fetch() {
    return async (url, init = {}) => {
      if (this.http !== 'ok') throw new TypeError('fetch failed');
      const u = new URL(url);
      const jsonp = u.searchParams.get('jsonp');
      const batch = JSON.parse(jsonp ? u.searchParams.get('message') : init.body);
      const replies = await this.#httpBatch(batch, init.signal);
      const body = jsonp ? `/**/${jsonp}(${JSON.stringify(replies)});` : JSON.stringify(replies);
      return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
    };
  }

  /** Sockets the server still holds open. */
  get openSockets() { return this.sockets.filter((s) => s.readyState === 1); }

  /** Forgets every session, as a restarted server would. */
  forgetSessions() {
    for (const session of this.sessions.values()) session.held?.();
    this.sessions.clear();
  }

  /** Drops every connection without a close handshake (the network or the server died). */
  dropAll() {
    for (const socket of this.openSockets) socket.serverDrop();
  }

  /** Publishes as a backend would; returns the position. */
  publish(channel, data) {
    this.#offset += 1;
    const position = `e:${this.#offset}`;
    const event = { channel, data, ext: { halley: { position } } };
    for (const session of this.sessions.values()) {
      if (![...session.subs].some((p) => channelMatches(p, channel))) continue;
      if (session.carrier?.readyState === 1) session.carrier.push([event]);
      else {
        session.queue.push(event);
        session.held?.();
      }
    }
    return position;
  }

  /**
   * @param {any[]} batch
   * @param {any} carrier the socket, or null over HTTP
   * @returns {{ replies: any[], hold: boolean }}
   */
  handle(batch, carrier) {
    const replies = [];
    let hold = false;
    for (const message of batch) {
      this.received.push(message);
      const reply = { channel: message.channel, id: message.id, successful: true };
      const session = this.sessions.get(message.clientId);
      switch (message.channel) {
        case '/meta/handshake': {
          const clientId = `c${++this.#clients}`;
          this.sessions.set(clientId, { subs: new Set(), queue: [], carrier, held: null });
          Object.assign(reply, {
            clientId, version: '1.0', supportedConnectionTypes: ['websocket', 'eventsource', 'long-polling', 'callback-polling'],
            advice: { reconnect: 'retry', interval: 0, timeout: 20_000 }, ext: { halley: { token: `t-${clientId}` } },
          });
          break;
        }
        case '/meta/connect':
          if (!session) Object.assign(reply, { successful: false, error: '402::session_unknown', advice: { reconnect: 'handshake' } });
          else {
            session.carrier = carrier;
            hold = message.advice?.timeout !== 0;
          }
          break;
        case '/meta/subscribe': {
          if (!session) { Object.assign(reply, { successful: false, error: '402::session_unknown', advice: { reconnect: 'handshake' } }); break; }
          session.subs.add(message.subscription);
          reply.subscription = message.subscription;
          const from = message.ext?.halley?.position;
          reply.ext = { halley: { position: `e:${this.#offset}`, ...(from ? { recovered: this.recovers } : {}) } };
          break;
        }
        case '/meta/unsubscribe':
          session?.subs.delete(message.subscription);
          reply.subscription = message.subscription;
          break;
        case '/meta/disconnect':
          this.sessions.delete(message.clientId);
          break;
        default:
          if (message.channel.startsWith('/service/')) reply.data = message.data;
          else reply.ext = { halley: { position: this.publish(message.channel, message.data) } };
      }
      replies.push(reply);
    }
    return { replies, hold };
  }

  async #httpBatch(batch, signal) {
    const { replies, hold } = this.handle(batch, null);
    const clientId = batch[0]?.clientId;
    const session = this.sessions.get(clientId);
    if (hold && session && session.queue.length === 0) {
      await new Promise((resolve, reject) => {
        session.held = () => { session.held = null; resolve(); };
        signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')), { once: true });
      });
    }
    const events = session ? session.queue.splice(0) : [];
    return [...replies, ...events];
  }
}

/** A WebSocket as the browser's and the ws package's look to the client. */
class FakeSocket {
  readyState = 0;
  onopen = null;
  onmessage = null;
  onerror = null;
  onclose = null;

  constructor(server, url) {
    this.server = server;
    this.url = url;
    server.sockets.push(this);
    queueMicrotask(() => {
      if (this.readyState !== 0) return;
      if (server.websocket === 'refuse') {
        this.readyState = 3;
        this.onerror?.({});
        this.onclose?.({ code: 1006 });
        return;
      }
      this.readyState = 1;
      this.onopen?.({});
    });
  }

  send(text) {
    if (this.readyState !== 1) throw new Error('not open');
    if (this.server.websocket === 'silent') return;
    const { replies } = this.server.handle(JSON.parse(text), this);
    // A held connect stays unanswered: over WebSocket events are pushed on their own.
    const now = replies.filter((r) => !(r.channel === '/meta/connect' && r.successful && JSON.parse(text).some((m) => m.id === r.id && m.advice?.timeout !== 0)));
    if (now.length > 0) this.push(now);
  }

  push(batch) {
    queueMicrotask(() => { if (this.readyState === 1) this.onmessage?.({ data: JSON.stringify(batch) }); });
  }

  close() { this.readyState = 3; }

  serverDrop() {
    this.readyState = 3;
    this.onclose?.({ code: 1006 });
  }
}
