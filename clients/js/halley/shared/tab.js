// A tab's side of a shared connection: the HalleyClient API, carried out by the hub (hub.js) that a SharedWorker
// or the leading tab runs. A tab keeps its own subscriptions (handlers, positions) and tells the hub which
// channels it wants; when a new hub takes over (the leading tab closed), the tab sends all of it again.
import { HalleyClient, HalleyError, Subscription } from '../client.js';
import { reportError } from '../emitter.js';
import { Hub } from './hub.js';
import { decodeError, leaderLock, portableOptions, randomId, tabLock } from './wire.js';

/**
 * @typedef {object} ShareSettings
 * @property {string} name what tabs share one connection: the same name on the same origin
 * @property {'worker' | 'locks'} mode
 * @property {any} locks a LockManager (navigator.locks)
 * @property {any} BroadcastChannel
 * @property {any} SharedWorker
 * @property {string} workerUrl
 */

/**
 * @typedef {object} TabRecord a channel this tab subscribed to, shared by its local subscriptions
 * @property {string} channel
 * @property {string | null} position the last position this tab received on it
 * @property {boolean} recovered
 * @property {Set<Subscription>} subscriptions
 * @property {boolean} ready whether the hub has answered a subscribe for it once (a later answer is a resume)
 * @property {Set<{ resolve: () => void, reject: (e: Error) => void }>} waiting
 */

export class SharedTab {
  #url;
  #options;
  #settings;
  #emitter;
  /** A new id each time the tab joins, so that nothing the hub still holds of an earlier visit counts. */
  #tab = randomId();
  /** @type {import('../client.js').HalleyState} */
  #state = 'disconnected';
  #everConnected = false;
  #status = { transport: null, clientId: null };
  /** @type {{ promise: Promise<void>, resolve: () => void, reject: (e: Error) => void } | null} */
  #connecting = null;
  /** @type {Map<string, TabRecord>} */
  #records = new Map();
  /** @type {Map<string, string>} the last position per channel of the hub, from every message it sent: a tab that comes to lead resumes from them */
  #positions = new Map();
  /** @type {string | null} the hub serving this tab */
  #hub = null;
  #nextId = 0;
  /** @type {Map<string, { message: any, resolve: (v: any) => void, reject: (e: Error) => void, timer: any, sent: boolean }>} */
  #pending = new Map();
  /** @type {{ post: (m: any) => void, close: () => void } | null} */
  #link = null;
  /** @type {AbortController | null} ends this tab's lock requests when it leaves */
  #abort = null;
  /** @type {(() => void) | null} */
  #releaseTab = null;
  /** @type {{ hub: Hub, stop: () => Promise<void> } | null} the hub this tab runs while it leads */
  #leading = null;
  /** @type {(() => void) | null} */
  #unlisten = null;

  /**
   * @param {string} url
   * @param {any} options the HalleyClient options
   * @param {import('../emitter.js').Emitter} emitter where state and resubscribe events go
   * @param {ShareSettings} settings
   */
  constructor(url, options, emitter, settings) {
    this.#url = url;
    this.#options = options;
    this.#emitter = emitter;
    this.#settings = settings;
  }

  get state() { return this.#state; }
  get transport() { return this.#state === 'disconnected' ? null : this.#status.transport; }
  get clientId() { return this.#state === 'disconnected' ? null : this.#status.clientId; }

  /** 'worker' (a SharedWorker holds the connection), 'leader' (this tab does), 'follower' (another tab does). */
  get sharing() { return this.#settings.mode === 'worker' ? 'worker' : this.#leading ? 'leader' : 'follower'; }

  connect() {
    if (this.#connecting) return this.#connecting.promise;
    /** @type {any} */
    const deferred = {};
    deferred.promise = new Promise((resolve, reject) => Object.assign(deferred, { resolve, reject }));
    deferred.promise.catch(() => {});
    this.#connecting = deferred;
    this.#everConnected = false;
    this.#setState('connecting');
    this.#listen();
    void this.#join();
    return deferred.promise;
  }

  async disconnect() {
    if (!this.#connecting && this.#state === 'disconnected') return;
    const stopped = new HalleyError('the client disconnected');
    this.#post({ t: 'detach' });
    this.#unlisten?.();
    this.#unlisten = null;
    const leaving = this.#leave();
    for (const p of this.#pending.values()) p.reject(stopped);
    this.#pending.clear();
    for (const record of this.#records.values()) {
      for (const waiter of record.waiting) waiter.reject(stopped);
      for (const subscription of record.subscriptions) subscription.active = false;
    }
    this.#records.clear();
    this.#positions.clear();
    this.#connecting?.reject(stopped);
    this.#connecting = null;
    this.#setState('disconnected');
    await leaving;
  }

  /**
   * @param {string} channel
   * @param {(data: any, message: any) => void} handler
   * @param {{ position?: string }} [options]
   */
  async subscribe(channel, handler, options) {
    if (typeof channel !== 'string' || !channel.startsWith('/')) throw new TypeError('a channel starts with /');
    if (typeof handler !== 'function') throw new TypeError('subscribe needs a handler');
    if (!this.#connecting) throw new HalleyError('not connected: call connect() first', { channel });
    let record = this.#records.get(channel);
    const fresh = !record;
    if (!record) {
      const since = typeof options?.position === 'string' ? options.position : null;
      record = { channel, position: since, recovered: true, subscriptions: new Set(), ready: false, waiting: new Set() };
      this.#records.set(channel, record);
    }
    const current = record;
    const subscription = new Subscription(/** @type {any} */ (current), handler, (s) => this.#remove(s));
    current.subscriptions.add(subscription);
    if (current.ready) return subscription;
    try {
      await new Promise((resolve, reject) => {
        current.waiting.add({ resolve: () => resolve(undefined), reject });
        if (fresh) this.#post({ t: 'subscribe', channel, since: current.position });
      });
    } catch (error) {
      subscription.active = false;
      current.subscriptions.delete(subscription);
      if (current.subscriptions.size === 0 && this.#records.get(channel) === current) this.#records.delete(channel);
      throw error;
    }
    return subscription;
  }

  /**
   * @param {string} channel
   * @param {unknown} data
   */
  publish(channel, data) { return this.#request({ t: 'publish', channel, data }); }

  /**
   * @param {string} channel
   * @param {unknown} data
   */
  call(channel, data) {
    if (!channel.startsWith('/service/')) return Promise.reject(new TypeError('call() is for /service/ channels'));
    return this.#request({ t: 'call', channel, data });
  }

  // ---------------------------------------------------------------------------------------------------------

  /** @param {Subscription} subscription */
  async #remove(subscription) {
    const record = this.#records.get(subscription.channel);
    if (!record || !record.subscriptions.delete(subscription) || record.subscriptions.size > 0) return;
    this.#records.delete(record.channel);
    this.#post({ t: 'unsubscribe', channel: record.channel });
  }

  /** @param {any} message */
  #request(message) {
    if (!this.#connecting) return Promise.reject(new HalleyError('not connected: call connect() first'));
    return new Promise((resolve, reject) => {
      const id = String(++this.#nextId);
      const request = { ...message, id };
      const requestTimeout = this.#options.requestTimeout ?? 10_000;
      // The hub's client bounds the wait for the connection and for the reply; this bounds a hub that never answers.
      const timers = this.#options.timers ?? {};
      const timer = (timers.setTimeout ?? setTimeout)(() => {
        this.#pending.delete(id);
        reject(new HalleyError(`no reply to ${message.channel} from the shared connection`, { channel: message.channel }));
      }, 2 * requestTimeout + 1_000);
      const pending = { message: request, resolve, reject, timer, sent: this.#hub !== null };
      this.#pending.set(id, {
        ...pending,
        resolve: (v) => { (timers.clearTimeout ?? clearTimeout)(timer); resolve(v); },
        reject: (e) => { (timers.clearTimeout ?? clearTimeout)(timer); reject(e); },
      });
      this.#post(request);
    });
  }

  /** @param {any} message */
  #post(message) {
    if (this.#hub !== null) this.#link?.post({ ...message, hub: this.#hub });
  }

  /** Takes part: holds this tab's lock, opens the link to the hub, and (Web Locks) queues for leading. */
  async #join() {
    if (this.#abort) return;
    const abort = (this.#abort = new AbortController());
    this.#tab = randomId();
    const { locks } = this.#settings;
    if (locks) {
      await new Promise((acquired) => {
        locks.request(tabLock(this.#settings.name, this.#tab), { signal: abort.signal }, () => new Promise((release) => {
          this.#releaseTab = () => release(undefined);
          acquired(undefined);
        })).catch(() => acquired(undefined));
      });
    }
    if (abort.signal.aborted) return;
    this.#link = this.#settings.mode === 'worker' ? this.#workerLink() : this.#channelLink();
    if (this.#settings.mode === 'locks') this.#queueForLead(abort.signal);
  }

  /** Leaves: closes the link, releases the locks and, when leading, stops the hub (the next tab takes over). */
  async #leave() {
    this.#abort?.abort();
    this.#abort = null;
    this.#link?.close();
    this.#link = null;
    this.#hub = null;
    this.#releaseTab?.();
    this.#releaseTab = null;
    const leading = this.#leading;
    this.#leading = null;
    await leading?.stop();
  }

  #workerLink() {
    const { SharedWorker, workerUrl, name } = this.#settings;
    const worker = new SharedWorker(workerUrl, { type: 'module', name: `halley-share:${name}` });
    const port = worker.port;
    port.onmessage = (/** @type {MessageEvent} */ e) => this.#receive(e.data);
    // A worker script that cannot load (a bundle that left it out): share through Web Locks instead.
    worker.onerror = () => {
      if (this.#hub !== null || !this.#settings.locks || !this.#settings.BroadcastChannel) return;
      this.#settings = { ...this.#settings, mode: /** @type {'locks'} */ ('locks') };
      void this.#leave().then(() => { if (this.#connecting) void this.#join(); });
    };
    port.start();
    port.postMessage({ t: 'hi', tab: this.#tab, name, url: this.#url, options: portableOptions(this.#options) });
    return {
      post: (/** @type {any} */ m) => port.postMessage({ ...m, tab: this.#tab }),
      close: () => {
        port.onmessage = null;
        worker.onerror = null;
        port.close();
      },
    };
  }

  #channelLink() {
    const channel = new this.#settings.BroadcastChannel(`halley-share:${this.#settings.name}`);
    channel.onmessage = (/** @type {MessageEvent} */ e) => { if (e.data?.to !== 'hub') this.#receive(e.data); };
    channel.postMessage({ t: 'hi', tab: this.#tab, to: 'hub' });
    return {
      post: (/** @type {any} */ m) => channel.postMessage({ ...m, tab: this.#tab, to: 'hub' }),
      close: () => {
        channel.onmessage = null;
        channel.close();
      },
    };
  }

  /**
   * Asks for the leader's lock; granted, this tab runs the hub until it leaves. The lock is released when the
   * tab closes, however it closes (no unload handler), and the next tab in the queue takes over.
   * @param {AbortSignal} signal
   */
  #queueForLead(signal) {
    const { locks, BroadcastChannel, name } = this.#settings;
    locks.request(leaderLock(name), { signal }, () => {
      if (signal.aborted) return undefined;
      return new Promise((released) => {
        const bus = new BroadcastChannel(`halley-share:${name}`);
        const watching = new AbortController();
        const hub = new Hub({
          id: randomId(),
          client: new HalleyClient(this.#url, { ...this.#options, share: false }),
          positions: this.#positions,
          send: (/** @type {any} */ m) => bus.postMessage(m),
          // A tab's lock comes free when it closes: only then is this request granted.
          watch: (/** @type {string} */ tab, /** @type {() => void} */ gone) => {
            locks.request(tabLock(name, tab), { signal: watching.signal }, () => gone()).catch(() => {});
          },
        });
        bus.onmessage = (/** @type {MessageEvent} */ e) => {
          const m = e.data;
          if (m?.to === 'hub' && (m.t === 'hi' || m.hub === hub.id)) hub.receive(m.tab, m);
        };
        this.#leading = {
          hub,
          stop: async () => {
            watching.abort();
            bus.onmessage = null;
            await hub.close();
            bus.close();
            released(undefined);
          },
        };
        // This tab switches first, so that nothing the old hub still sends counts after the snapshot of positions.
        this.#adopt(hub.id, null);
        hub.announce();
      });
    }).catch(() => {});
  }

  /** @param {any} m */
  #receive(m) {
    if (!m || typeof m.t !== 'string') return;
    if (m.t === 'hello') {
      if (m.hub !== this.#hub) this.#adopt(m.hub, m);
      else if (m.tab === this.#tab) this.#status = { transport: m.transport, clientId: m.clientId };
      return;
    }
    if (m.hub !== this.#hub) return;
    if (m.t === 'message' || m.t === 'position') {
      if (m.t === 'position' && m.position === null) this.#positions.delete(m.channel);
      else if (typeof (m.position ?? m.message?.position) === 'string') this.#positions.set(m.channel, m.position ?? m.message.position);
    }
    if (m.tab !== undefined && m.tab !== this.#tab) return;
    if (m.tabs !== undefined && !m.tabs.includes(this.#tab)) return;
    switch (m.t) {
      case 'state': this.#hubState(m); break;
      case 'message': this.#deliver(m); break;
      case 'subscribed': this.#subscribed(m); break;
      case 'resubscribe': {
        const record = this.#records.get(m.channel);
        if (record) this.#resubscribed(record, m.position, m.recovered);
        break;
      }
      case 'reply': {
        const pending = this.#pending.get(m.id);
        if (!pending) break;
        this.#pending.delete(m.id);
        if (m.ok) pending.resolve(m.value);
        else pending.reject(decodeError(m.error));
        break;
      }
      case 'stopped': {
        const connecting = this.#connecting;
        this.#connecting = null;
        void this.disconnect();
        connecting?.reject(decodeError(m.error));
        break;
      }
      default: break;
    }
  }

  /**
   * A hub serves this tab from now on: the first one, or one that took over. The tab tells it everything it
   * wants again; requests sent to the one before may or may not have been carried out, so they fail.
   * @param {string} hub
   * @param {any} hello
   */
  #adopt(hub, hello) {
    this.#hub = hub;
    if (hello) {
      this.#positions = new Map(Object.entries(hello.positions ?? {}));
      this.#status = { transport: hello.transport, clientId: hello.clientId };
    }
    // A request sent before (to a hub now gone, or under this tab's earlier id) gets no answer any more.
    for (const [id, pending] of [...this.#pending]) {
      if (!pending.sent) continue;
      this.#pending.delete(id);
      pending.reject(new HalleyError(`the connection moved to another tab before ${pending.message.channel} was answered`, { channel: pending.message.channel }));
    }
    this.#post({ t: 'attach' });
    if (this.#connecting) this.#post({ t: 'connect' });
    for (const record of this.#records.values()) this.#post({ t: 'subscribe', channel: record.channel, since: record.position, resume: record.ready });
    for (const pending of this.#pending.values()) {
      pending.sent = true;
      this.#post(pending.message);
    }
  }

  /** @param {any} m */
  #hubState(m) {
    this.#status = { transport: m.transport, clientId: m.clientId };
    // The hub is idle between one tab's leaving and this one's connect: this tab still wants the connection.
    if (!this.#connecting || m.state === 'disconnected') return;
    // A hub that took over connects anew: for this tab that is a reconnect.
    this.#setState(m.state === 'connecting' && this.#everConnected ? 'reconnecting' : m.state);
    if (m.state !== 'connected') return;
    this.#everConnected = true;
    this.#connecting.resolve();
  }

  /** @param {any} m */
  #deliver(m) {
    const record = this.#records.get(m.channel);
    if (!record) return;
    if (typeof m.message?.position === 'string') record.position = m.message.position;
    for (const subscription of [...record.subscriptions]) {
      if (!subscription.active) continue;
      try {
        subscription.handler(m.data, m.message);
      } catch (error) {
        reportError(error);
      }
    }
  }

  /** @param {any} m */
  #subscribed(m) {
    const record = this.#records.get(m.channel);
    if (!record) return;
    if (!m.ok) {
      const error = decodeError(m.error);
      for (const waiter of record.waiting) waiter.reject(error);
      this.#records.delete(record.channel);
      for (const subscription of record.subscriptions) subscription.active = false;
      return;
    }
    // A second answer for the same channel is a resume after a handoff: the application hears of it as it does
    // when a session was lost.
    if (record.ready) this.#resubscribed(record, m.position, m.recovered);
    else {
      record.position = m.position;
      if (!m.recovered) record.recovered = false;
    }
    record.ready = true;
    for (const waiter of record.waiting) waiter.resolve();
    record.waiting.clear();
  }

  /**
   * @param {TabRecord} record
   * @param {string | null} position
   * @param {boolean} recovered
   */
  #resubscribed(record, position, recovered) {
    if (!recovered && typeof position === 'string') record.position = position;
    record.recovered = recovered;
    for (const subscription of record.subscriptions) this.#emitter.emit('resubscribe', subscription, recovered);
  }

  /** @param {import('../client.js').HalleyState} state */
  #setState(state) {
    if (this.#state === state) return;
    this.#state = state;
    this.#emitter.emit('state', state);
  }

  /**
   * pagehide: the tab leaves (a page in the back/forward cache must hold no lock), keeping its subscriptions;
   * pageshow from that cache: it takes part again, and each subscription says whether it missed messages.
   */
  #listen() {
    const target = /** @type {any} */ (this.#options.window === undefined ? globalThis : this.#options.window);
    if (typeof target?.addEventListener !== 'function') return;
    const hide = () => { void this.#leave(); };
    const show = (/** @type {any} */ e) => { if (e?.persisted && this.#connecting) void this.#join(); };
    target.addEventListener('pagehide', hide);
    target.addEventListener('pageshow', show);
    this.#unlisten = () => {
      target.removeEventListener('pagehide', hide);
      target.removeEventListener('pageshow', show);
    };
  }
}
