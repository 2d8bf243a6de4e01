// HalleyClient: one API over every Bayeux transport, with fallback, reconnect and recovery.
import { backoffDelay } from './backoff.js';
import { channelMatches, isMeta } from './channels.js';
import { Emitter, reportError } from './emitter.js';
import { SharedClient, shareSettings } from './shared/share.js';
import { TRANSPORTS, createTransport, isAvailable } from './transports/index.js';
import { EventSourceTransport } from './transports/eventsource.js';
import { TransportError } from './transports/transport.js';

/** @typedef {'connecting' | 'connected' | 'reconnecting' | 'disconnected'} HalleyState */

/** A refusal from the server: a Bayeux error such as `403:/a:refused_by_extension`, or a timeout. */
export class HalleyError extends Error {
  /**
   * @param {string} message
   * @param {{ error?: string, channel?: string, cause?: unknown }} [details]
   */
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'HalleyError';
    /** The Bayeux error string of the reply, when there was one. */
    this.error = details.error;
    /** The channel of the request. */
    this.channel = details.channel;
  }
}

/** Thrown inside the loop when the server wants no retry (advice reconnect: none). */
class StopError extends HalleyError {}

const DEFAULTS = {
  backoff: { min: 500, max: 30_000 },
  connectTimeout: 5_000,
  requestTimeout: 10_000,
  retryWebSocketAfter: 60_000,
  streamSenseTimeout: 4_000,
  streamPadding: 8_192,
};

/** One server subscription per channel or pattern, shared by the local subscriptions to it. */
class SubscriptionRecord {
  /** @param {string} channel */
  constructor(channel) {
    this.channel = channel;
    /** @type {string | null} the last position received on it: opaque, sent back on resubscribe */
    this.position = null;
    this.recovered = true;
    /** @type {Set<Subscription>} */
    this.subscriptions = new Set();
    /** @type {string | null} the session it is subscribed in */
    this.session = null;
    /** Whether it was subscribed in an earlier session: subscribing again is a resume. */
    this.everSubscribed = false;
    /** @type {Promise<void> | null} the subscribe in flight */
    this.inFlight = null;
    /** @type {Set<{ resolve: () => void, reject: (e: Error) => void }>} subscribe() calls waiting for a session */
    this.waiting = new Set();
  }
}

/** A subscription of the application, returned by {@link HalleyClient#subscribe}. */
export class Subscription {
  #record;
  #remove;

  /**
   * @param {SubscriptionRecord} record
   * @param {(data: any, message: import('../index.js').HalleyMessage) => void} handler
   * @param {(s: Subscription) => Promise<void>} remove
   */
  constructor(record, handler, remove) {
    this.#record = record;
    this.#remove = remove;
    this.handler = handler;
    this.active = true;
  }

  /** The channel or pattern subscribed to. */
  get channel() { return this.#record.channel; }

  /** False when, after the last resume, what was missed could not be replayed (reload the state). */
  get recovered() { return this.#record.recovered; }

  /** The last position received on this subscription's channel or pattern (opaque), null before any. */
  get position() { return this.#record.position; }

  /** Stops the handler at once; unsubscribes on the server when no other local subscription needs the channel. */
  unsubscribe() {
    if (!this.active) return Promise.resolve();
    this.active = false;
    return this.#remove(this);
  }
}

export class HalleyClient {
  #url;
  #options;
  #env;
  #emitter = new Emitter();
  /** @type {HalleyState} */
  #state = 'disconnected';
  /** Incremented by disconnect(): a loop or callback of an older run stops. */
  #run = 0;
  /** @type {any} */
  #transport = null;
  /** @type {{ clientId: string, token: string | null, ack: number | null } | null} ack: the last batch received, null without the ack extension */
  #session = null;
  #advice = { reconnect: 'retry', interval: 0, timeout: 20_000 };
  #nextId = 0;
  /** @type {Map<string, { resolve: (m: any) => void, reject: (e: Error) => void, timer: any }>} */
  #pending = new Map();
  /** @type {Map<string, SubscriptionRecord>} */
  #records = new Map();
  /** @type {Set<any>} */
  #timers = new Set();
  /** @type {(() => void) | null} cuts the current backoff wait short */
  #wake = null;
  /** @type {(() => void) | null} cuts the current wait short, whatever it is (the connection was lost) */
  #wakeAny = null;
  /** @type {Map<string, number>} when a rung last failed while a lower one worked */
  #failedAt = new Map();
  /** When an unpadded event stream last stayed silent while a padded one worked (stream-sense). */
  #paddedAt = -Infinity;
  /** @type {Set<any>} transports given up while their streams may still carry messages (see #discard) */
  #retired = new Set();
  #everConnected = false;
  /** @type {{ promise: Promise<void>, resolve: () => void, reject: (e: Error) => void } | null} */
  #connecting = null;
  /** @type {(() => void) | null} removes the page listeners */
  #unlisten = null;
  /** @type {string | null} a fresh connection token for the next connect's ext.auth.token (the server asked to refresh) */
  #freshToken = null;
  /** @type {Promise<void> | null} the fresh token being obtained */
  #refreshing = null;

  /**
   * @param {string} url the Bayeux endpoint, e.g. `https://push.example.com/cometd`
   * @param {import('../index.js').HalleyClientOptions} [options]
   */
  constructor(url, options = {}) {
    const g = /** @type {any} */ (globalThis);
    this.#url = new URL(url, g.location?.href).href;
    const transports = options.transport ? [options.transport] : [...(options.transports ?? TRANSPORTS)];
    for (const name of transports) {
      if (!TRANSPORTS.includes(/** @type {any} */ (name))) throw new TypeError(`unknown transport ${name} (known: ${TRANSPORTS.join(', ')})`);
    }
    if (transports.length === 0) throw new TypeError('options.transports is empty');
    this.#options = {
      transports,
      backoff: { ...DEFAULTS.backoff, ...options.backoff },
      connectTimeout: options.connectTimeout ?? DEFAULTS.connectTimeout,
      requestTimeout: options.requestTimeout ?? DEFAULTS.requestTimeout,
      retryWebSocketAfter: options.retryWebSocketAfter ?? DEFAULTS.retryWebSocketAfter,
      streamSenseTimeout: options.streamSenseTimeout ?? DEFAULTS.streamSenseTimeout,
      acknowledge: options.acknowledge === true,
      auth: options.auth ?? null,
      setTimeout: options.timers?.setTimeout ?? ((/** @type {() => void} */ fn, /** @type {number} */ ms) => setTimeout(fn, ms)),
      clearTimeout: options.timers?.clearTimeout ?? ((/** @type {any} */ t) => clearTimeout(t)),
      now: options.timers?.now ?? (() => Date.now()),
      random: options.random ?? Math.random,
      window: options.window === undefined ? (typeof g.addEventListener === 'function' ? g : null) : options.window,
    };
    const document = options.document === undefined ? g.document : options.document;
    this.#env = {
      url: this.#url,
      WebSocket: options.WebSocket,
      fetch: options.fetch,
      document: document ?? undefined,
      // A browser keeps the server's cookie itself (and never shows it); elsewhere the client keeps it.
      cookies: document ? undefined : new Map(),
      streamSenseTimeout: this.#options.streamSenseTimeout,
      streamPadding: options.streamPadding ?? DEFAULTS.streamPadding,
      setTimeout: this.#options.setTimeout,
      clearTimeout: this.#options.clearTimeout,
    };
    // One connection for every tab of the origin (shared/): where no tab can share, this client connects alone.
    const share = options.share ? shareSettings(this.#url, options.share) : null;
    if (share) return /** @type {any} */ (new SharedClient(this.#url, options, share));
  }

  /** @returns {HalleyState} */
  get state() { return this.#state; }

  /** The connection type in use ('websocket', 'eventsource', 'long-polling', 'callback-polling'), null when none. */
  get transport() { return this.#transport?.name ?? null; }

  /** The session's client id, null when there is none. */
  get clientId() { return this.#session?.clientId ?? null; }

  /**
   * @param {'state' | 'resubscribe'} event
   * @param {Function} handler `state`: (state) => …; `resubscribe`: (subscription, recovered) => …
   * @returns {() => void} removes the handler
   */
  on(event, handler) { return this.#emitter.on(event, handler); }

  /**
   * @param {string} event
   * @param {Function} handler
   */
  off(event, handler) { this.#emitter.off(event, handler); }

  /**
   * Connects, retrying with backoff until it works (the first connect too). Idempotent: while connecting or
   * connected, returns the same promise. Rejects when disconnect() comes first or the server refuses for good.
   * @returns {Promise<void>}
   */
  connect() {
    if (this.#connecting) return this.#connecting.promise;
    /** @type {any} */
    const deferred = {};
    deferred.promise = new Promise((resolve, reject) => Object.assign(deferred, { resolve, reject }));
    deferred.promise.catch(() => {}); // a caller that never awaits it must not see an unhandled rejection
    this.#connecting = deferred;
    this.#everConnected = false;
    const run = ++this.#run;
    this.#listen(run);
    this.#setState('connecting');
    void this.#loop(run);
    return deferred.promise;
  }

  /**
   * Ends the session (best effort `/meta/disconnect`), closes the transport, removes every page listener and
   * timer, and ends every subscription. Idempotent.
   * @returns {Promise<void>}
   */
  async disconnect() {
    if (!this.#connecting && this.#state === 'disconnected') return;
    this.#run += 1;
    const transport = this.#transport;
    const session = this.#session;
    this.#transport = null;
    this.#session = null;
    this.#unlisten?.();
    this.#unlisten = null;
    for (const timer of this.#timers) this.#options.clearTimeout(timer);
    this.#timers.clear();
    const wake = this.#wakeAny;
    this.#wake = this.#wakeAny = null;
    wake?.();
    const stopped = new HalleyError('the client disconnected');
    this.#failPending(stopped);
    this.#connecting?.reject(stopped);
    this.#connecting = null;
    for (const record of this.#records.values()) {
      for (const waiter of record.waiting) waiter.reject(stopped);
      for (const subscription of record.subscriptions) subscription.active = false;
    }
    this.#records.clear();
    for (const retired of [...this.#retired]) retired.close();
    this.#setState('disconnected');
    if (transport && session) {
      // Tell the server, but never wait long for it: the session expires by itself anyway.
      let timer;
      const sent = transport.send([this.#withToken({ channel: '/meta/disconnect', clientId: session.clientId, id: this.#id() }, session)]).catch(() => {});
      await Promise.race([sent, new Promise((resolve) => { timer = this.#options.setTimeout(() => resolve(undefined), 1_000); })]);
      this.#options.clearTimeout(timer);
    }
    transport?.close();
  }

  /**
   * Subscribes to a channel or a pattern (`/a/*`, `/a/**`); resolves once the server accepted it.
   * @param {string} channel
   * @param {(data: any, message: import('../index.js').HalleyMessage) => void} handler
   * @param {{ position?: string }} [options] `position`: resume from a position kept earlier (the server replays what followed)
   * @returns {Promise<Subscription>}
   */
  async subscribe(channel, handler, options) {
    if (typeof channel !== 'string' || !channel.startsWith('/')) throw new TypeError('a channel starts with /');
    if (typeof handler !== 'function') throw new TypeError('subscribe needs a handler');
    if (!this.#connecting) throw new HalleyError('not connected: call connect() first', { channel });
    let record = this.#records.get(channel);
    const fresh = !record;
    if (!record) this.#records.set(channel, (record = new SubscriptionRecord(channel)));
    if (fresh && typeof options?.position === 'string') record.position = options.position;
    const subscription = new Subscription(record, handler, (s) => this.#remove(s));
    record.subscriptions.add(subscription);
    try {
      if (fresh || !record.session) {
        await new Promise((resolve, reject) => {
          const waiter = { resolve: () => resolve(undefined), reject };
          /** @type {SubscriptionRecord} */ (record).waiting.add(waiter);
          if (this.#state === 'connected') void this.#subscribeRecord(/** @type {SubscriptionRecord} */ (record)).catch(() => {});
        });
      }
    } catch (error) {
      subscription.active = false;
      record.subscriptions.delete(subscription);
      if (record.subscriptions.size === 0 && this.#records.get(channel) === record) this.#records.delete(channel);
      throw error;
    }
    return subscription;
  }

  /**
   * Publishes `data` on `channel`; resolves with the message's position (null when the channel keeps no history).
   * @param {string} channel
   * @param {unknown} data
   * @returns {Promise<{ position: string | null }>}
   */
  async publish(channel, data) {
    const reply = await this.#publishRequest(channel, data);
    return { position: reply.ext?.halley?.position ?? null };
  }

  /**
   * Calls a service channel (`/service/…`): resolves with the data of the server's reply.
   * @param {string} channel
   * @param {unknown} data
   * @returns {Promise<any>}
   */
  async call(channel, data) {
    if (!channel.startsWith('/service/')) throw new TypeError('call() is for /service/ channels');
    const reply = await this.#publishRequest(channel, data);
    return reply.data;
  }

  // ---------------------------------------------------------------------------------------------------------
  // The loop: establish a transport and a session, keep a /meta/connect outstanding, back off on failures.

  /** @param {number} run */
  async #loop(run) {
    let attempt = 0;
    let handshakes = 0;
    while (run === this.#run) {
      try {
        if (!this.#transport) {
          await this.#establish(run);
        } else if (!this.#session) {
          // The session was lost while the connection works: handshake at once, the second time in a row
          // only after a backoff, so a server that keeps forgetting sessions is not hammered.
          this.#setState(this.#everConnected ? 'reconnecting' : 'connecting');
          if (handshakes++ > 0) await this.#sleep(backoffDelay(attempt++, this.#options.backoff, this.#options.random), true);
          if (run !== this.#run) return;
          await this.#handshake(this.#transport, this.#options.requestTimeout);
          await this.#resumeStream(this.#transport, this.#options.requestTimeout);
        }
        await this.#syncSubscriptions();
        if (run !== this.#run) return;
        this.#connected();
        // A connect held without the fresh token the server asked for would end with the old token.
        if (this.#refreshing) await this.#refreshing;
        if (run !== this.#run) return;
        const reply = await this.#request(this.#connectMessage(false), this.#advice.timeout + this.#options.requestTimeout);
        if (run !== this.#run) return;
        this.#takeAdvice(reply);
        this.#refreshTokenIfAsked(reply);
        if (!reply.successful) {
          if (this.#sessionLost(reply)) continue;
          throw new HalleyError(`the connect was refused: ${reply.error ?? 'no reason'}`, { error: reply.error, channel: '/meta/connect' });
        }
        // Only a connect the server answered in the ordinary way resets the backoff: a server that accepts
        // connections and drops them at once still meets a growing delay.
        attempt = 0;
        handshakes = 0;
        if (this.#upgradeDue()) {
          // Between two polls nothing is in flight (the session queues what comes meanwhile), so the transport
          // can change here without losing a message: the next round tries the better ones again, same session.
          this.#dropTransport();
          continue;
        }
        if (this.#advice.interval > 0) await this.#sleep(this.#advice.interval, false);
        if (run === this.#run && !this.#transport) throw new TransportError('the connection was lost');
      } catch (error) {
        if (run !== this.#run) return;
        if (error instanceof StopError) {
          this.#stop(error);
          return;
        }
        if (error instanceof TransportError) this.#dropTransport();
        this.#setState(this.#everConnected ? 'reconnecting' : 'connecting');
        // The advice's interval paces connects that work (eventsource's is the server's Timeout); a failure
        // backs off instead.
        await this.#sleep(backoffDelay(attempt++, this.#options.backoff, this.#options.random), true);
      }
    }
  }

  /**
   * Tries the transports in order until one opens and answers within the connect timeout: a rung that does not
   * (a blocked WebSocket, or one that upgrades and then stays silent) is skipped at once. A rung that failed
   * while a lower one worked is left out for retryWebSocketAfter, then tried again.
   * @param {number} run
   */
  async #establish(run) {
    const now = this.#options.now();
    // The server refuses an eventsource stream to a session with the ack extension: its messages travel only in
    // connect replies.
    const available = this.#options.transports.filter((name) => isAvailable(name, this.#env)
      && !(this.#options.acknowledge && name === 'eventsource'));
    if (available.length === 0) throw new StopError(`none of the transports ${this.#options.transports.join(', ')} can run here`);
    const ladder = available.filter((name, i) => i === available.length - 1
      || now - (this.#failedAt.get(name) ?? -Infinity) >= this.#options.retryWebSocketAfter);
    /** @type {string[]} */
    const failed = [];
    let lastError;
    for (const name of ladder) {
      if (run !== this.#run) return;
      const transport = createTransport(name, this.#env, this.#sink(() => this.#transport === transport, () => this.#retired.has(transport)));
      // A proxy found buffering event streams is remembered for a while: streams start padded meanwhile.
      if (transport instanceof EventSourceTransport) transport.padded = now - this.#paddedAt < this.#options.retryWebSocketAfter;
      this.#transport = transport;
      try {
        await this.#within(this.#options.connectTimeout, `${name} did not connect`, transport, async () => {
          await transport.open();
          if (!this.#session) await this.#handshake(transport, this.#options.connectTimeout);
          await this.#resumeStream(transport, this.#options.connectTimeout);
          let reply = await this.#request(this.#connectMessage(true), this.#options.connectTimeout);
          if (!reply.successful && this.#sessionLost(reply)) {
            await this.#handshake(transport, this.#options.connectTimeout);
            await this.#resumeStream(transport, this.#options.connectTimeout);
            reply = await this.#request(this.#connectMessage(true), this.#options.connectTimeout);
          }
          this.#takeAdvice(reply);
          this.#refreshTokenIfAsked(reply);
          if (!reply.successful) throw new TransportError(`${name}: the connect was refused (${reply.error ?? 'no reason'})`);
        });
        // Rungs above a working one failed on their own, not because the network or server is down: skip them
        // for a while. When every rung fails, nothing is held against any of them.
        for (const name of failed) this.#failedAt.set(name, now);
        this.#failedAt.delete(name);
        if (transport instanceof EventSourceTransport && transport.padded) this.#paddedAt = now;
        return;
      } catch (error) {
        if (this.#transport === transport) this.#transport = null;
        this.#discard(transport);
        if (error instanceof StopError || run !== this.#run) throw error;
        failed.push(name);
        lastError = error;
      }
    }
    throw lastError instanceof TransportError ? lastError : new TransportError('no transport could connect', { cause: lastError });
  }

  /**
   * Whether a polling transport in use should give way to a better one that failed long enough ago, so a
   * fallback is not pinned for as long as the connection lasts. Streams (websocket, eventsource) are kept: a
   * message can be on its way on them at any time.
   */
  #upgradeDue() {
    const current = this.#transport?.name;
    if (current !== 'long-polling' && current !== 'callback-polling') return false;
    const now = this.#options.now();
    for (const name of this.#options.transports) {
      if (name === current) return false;
      const failedAt = this.#failedAt.get(name);
      if (failedAt !== undefined && now - failedAt >= this.#options.retryWebSocketAfter && isAvailable(name, this.#env)) return true;
    }
    return false;
  }

  /**
   * Runs `work`, failing it (and closing the transport, which fails its requests) when `ms` pass first.
   * @param {number} ms
   * @param {string} message
   * @param {any} transport
   * @param {() => Promise<void>} work
   */
  async #within(ms, message, transport, work) {
    let timer;
    const expired = new Promise((_, reject) => {
      timer = this.#timer(() => {
        this.#discard(transport);
        this.#failPending(new TransportError(message));
        reject(new TransportError(message));
      }, ms);
    });
    try {
      await Promise.race([work(), expired]);
    } finally {
      this.#clearTimer(timer);
    }
  }

  /**
   * @param {any} transport
   * @param {number} timeout
   */
  async #handshake(transport, timeout) {
    const reply = await this.#request({
      channel: '/meta/handshake',
      version: '1.0',
      minimumVersion: '1.0',
      supportedConnectionTypes: this.#options.transports,
      id: this.#id(),
      ...this.#handshakeExt(await this.#authToken()),
    }, timeout, transport);
    this.#takeAdvice(reply);
    if (!reply.successful || typeof reply.clientId !== 'string') {
      const message = `the handshake was refused: ${reply.error ?? 'no reason'}`;
      if (reply.advice?.reconnect === 'none') throw new StopError(message, { error: reply.error, channel: '/meta/handshake' });
      throw new TransportError(message);
    }
    if (Array.isArray(reply.supportedConnectionTypes) && !reply.supportedConnectionTypes.includes(transport.name)) {
      throw new TransportError(`the server does not offer ${transport.name}`);
    }
    this.#session = { clientId: reply.clientId, token: reply.ext?.halley?.token ?? null, ack: reply.ext?.ack === true ? -1 : null };
  }

  /**
   * Opens the eventsource transport's stream, once there is a session. A stream refused with 404 says the session
   * is gone (it expired, or the backend ended it while the client was away): handshake, then open it again.
   * @param {any} transport
   * @param {number} timeout for the handshake
   */
  async #resumeStream(transport, timeout) {
    if (typeof transport.attach !== 'function' || !this.#session) return;
    try {
      await transport.attach(this.#session.clientId);
    } catch (error) {
      if (!(error instanceof TransportError) || error.status !== 404) throw error;
      this.#forgetSession();
      await this.#handshake(transport, timeout);
      await transport.attach(/** @type {{ clientId: string }} */ (this.#session).clientId);
    }
  }

  /**
   * Subscribes every channel not yet subscribed in this session: new subscriptions, and after a new handshake
   * all of them, each from its last position, so the server replays what was missed.
   */
  async #syncSubscriptions() {
    const session = this.#session;
    const records = [...this.#records.values()].filter((r) => r.session !== session?.clientId);
    await Promise.all(records.map((record) => this.#subscribeRecord(record).catch((error) => {
      if (error instanceof TransportError) throw error;
    })));
  }

  /** @param {SubscriptionRecord} record */
  #subscribeRecord(record) {
    if (record.inFlight) return record.inFlight;
    const session = this.#session;
    const resuming = record.position !== null;
    const message = { channel: '/meta/subscribe', clientId: session?.clientId, subscription: record.channel, id: this.#id(), ...(resuming ? { ext: { halley: { position: record.position } } } : {}) };
    const inFlight = (async () => {
      const reply = await this.#request(message, this.#options.requestTimeout);
      if (this.#records.get(record.channel) !== record) {
        // Unsubscribed while the subscribe was on its way: undo it on the server too (unless subscribed anew).
        if (reply.successful && !this.#records.has(record.channel)) this.#unsubscribeOnServer(record.channel).catch(() => {});
        return;
      }
      if (!reply.successful) {
        const error = new HalleyError(`subscribing to ${record.channel} was refused: ${reply.error ?? 'no reason'}`, { error: reply.error, channel: record.channel });
        for (const waiter of record.waiting) waiter.reject(error);
        record.waiting.clear();
        this.#records.delete(record.channel);
        for (const subscription of record.subscriptions) subscription.active = false;
        throw error;
      }
      record.session = session?.clientId ?? null;
      const halley = reply.ext?.halley;
      // Where the subscription starts now: a fresh one, or one whose gap could not be replayed, continues from
      // the reply's position (a client cut off before its first message still resumes from there). A recovered
      // one keeps its own: the replay that follows moves it.
      if (typeof halley?.position === 'string' && (!resuming || halley.recovered === false)) record.position = halley.position;
      if (record.everSubscribed) {
        // Subscribed again in a new session: without a position to resume from (the channel keeps no history)
        // whatever was published meanwhile is lost, and the application is told so as when a replay fails.
        record.recovered = resuming && halley?.recovered === true;
        for (const subscription of record.subscriptions) this.#emitter.emit('resubscribe', subscription, record.recovered);
      } else if (resuming) {
        // A first subscribe from a position the application kept: whether what followed it could be replayed.
        record.recovered = halley?.recovered === true;
      }
      record.everSubscribed = true;
      for (const waiter of record.waiting) waiter.resolve();
      record.waiting.clear();
    })();
    record.inFlight = inFlight;
    inFlight.finally(() => { if (record.inFlight === inFlight) record.inFlight = null; }).catch(() => {});
    return inFlight;
  }

  /** @param {Subscription} subscription */
  async #remove(subscription) {
    const record = this.#records.get(subscription.channel);
    if (!record || !record.subscriptions.delete(subscription) || record.subscriptions.size > 0) return;
    this.#records.delete(record.channel);
    if (this.#state !== 'connected' || !this.#session || !record.session) return;
    await this.#unsubscribeOnServer(record.channel);
  }

  /** @param {string} channel */
  async #unsubscribeOnServer(channel) {
    if (!this.#session) return;
    const reply = await this.#request({ channel: '/meta/unsubscribe', clientId: this.#session.clientId, subscription: channel, id: this.#id() }, this.#options.requestTimeout);
    if (!reply.successful) throw new HalleyError(`unsubscribing from ${channel} failed: ${reply.error}`, { error: reply.error, channel });
  }

  /**
   * @param {string} channel
   * @param {unknown} data
   */
  async #publishRequest(channel, data) {
    if (typeof channel !== 'string' || !channel.startsWith('/') || isMeta(channel)) throw new TypeError(`cannot publish to ${channel}`);
    await this.#whenConnected();
    const reply = await this.#request({ channel, data, clientId: this.#session?.clientId, id: this.#id() }, this.#options.requestTimeout);
    if (!reply.successful) throw new HalleyError(`publishing to ${channel} was refused: ${reply.error ?? 'no reason'}`, { error: reply.error, channel });
    return reply;
  }

  /** Resolves when connected (at once if so), rejects after the request timeout or on disconnect. */
  #whenConnected() {
    if (this.#state === 'connected') return Promise.resolve();
    if (!this.#connecting) return Promise.reject(new HalleyError('not connected: call connect() first'));
    return new Promise((resolve, reject) => {
      const timer = this.#timer(() => { off(); reject(new HalleyError('timed out waiting for the connection')); }, this.#options.requestTimeout);
      const off = this.#emitter.on('state', (/** @type {HalleyState} */ state) => {
        if (state === 'connected') { off(); this.#clearTimer(timer); resolve(undefined); }
        if (state === 'disconnected') { off(); this.#clearTimer(timer); reject(new HalleyError('the client disconnected')); }
      });
    });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Requests and replies.

  /**
   * The handshake's ext: the ack extension's opt-in and the connection token (`ext.auth.token`), if any.
   * @param {string | null} token
   */
  #handshakeExt(token) {
    const ext = {
      ...(this.#options.acknowledge ? { ack: true } : {}),
      ...(token ? { auth: { token } } : {}),
    };
    return Object.keys(ext).length > 0 ? { ext } : {};
  }

  /** The connection token of options.auth (a string, or a function that returns one, or a promise of one). */
  async #authToken() {
    const auth = this.#options.auth;
    const token = typeof auth === 'function' ? await auth() : auth;
    return typeof token === 'string' && token.length > 0 ? token : null;
  }

  /**
   * A connect reply saying the token expires soon (`ext.auth.refresh`): get a fresh one for the next connect.
   * @param {any} reply
   */
  #refreshTokenIfAsked(reply) {
    if (reply.ext?.auth?.refresh !== true || !this.#options.auth || this.#refreshing || this.#freshToken) return;
    this.#refreshing = this.#authToken()
      .then((token) => { this.#freshToken = token; })
      .catch((error) => reportError(error))
      .finally(() => { this.#refreshing = null; });
  }

  /** @param {boolean} confirm */
  #connectMessage(confirm) {
    const session = /** @type {{ clientId: string, ack: number | null }} */ (this.#session);
    const token = this.#freshToken;
    this.#freshToken = null;
    const ext = {
      // With the ack extension every connect says which batch came last; the server sends the later ones again.
      ...(session.ack !== null ? { ack: session.ack } : {}),
      // A fresh connection token renews the session before the old one expires.
      ...(token ? { auth: { token } } : {}),
    };
    return {
      channel: '/meta/connect',
      clientId: session.clientId,
      connectionType: this.#transport?.name,
      id: this.#id(),
      ...(Object.keys(ext).length > 0 ? { ext } : {}),
      // An immediate answer proves the connection works; afterwards the server holds the connect.
      ...(confirm ? { advice: { timeout: 0 } } : {}),
    };
  }

  /**
   * Sends one message and resolves with its reply; rejects when the transport fails or no reply comes in time.
   * @param {any} message
   * @param {number} timeout
   * @param {any} [transport]
   * @returns {Promise<any>}
   */
  #request(message, timeout, transport = this.#transport) {
    return new Promise((resolve, reject) => {
      if (!transport) {
        reject(new TransportError('no transport'));
        return;
      }
      const id = message.id;
      const timer = this.#timer(() => {
        this.#pending.delete(id);
        const error = new TransportError(`no reply to ${message.channel} within ${timeout} ms`);
        error.name = 'TimeoutError';
        reject(error);
      }, timeout);
      this.#pending.set(id, {
        resolve: (reply) => { this.#clearTimer(timer); resolve(reply); },
        reject: (error) => { this.#clearTimer(timer); reject(error); },
        timer,
      });
      const outgoing = message.channel === '/meta/handshake' ? message : this.#withToken(message, this.#session);
      transport.send([outgoing]).catch((/** @type {Error} */ error) => {
        const pending = this.#pending.get(id);
        if (!pending) return;
        this.#pending.delete(id);
        pending.reject(error);
      });
    });
  }

  /**
   * Adds the session token: it binds a new connection (a new WebSocket, a request without the cookie) to the session.
   * @param {any} message
   * @param {{ token: string | null } | null} session
   */
  #withToken(message, session) {
    if (!session?.token) return message;
    return { ...message, ext: { ...message.ext, halley: { ...message.ext?.halley, token: session.token } } };
  }

  /**
   * @param {() => boolean} current whether the transport reporting is still the client's
   * @param {() => boolean} retired whether it was given up while its streams may still carry messages
   */
  #sink(current, retired) {
    return {
      onMessages: (/** @type {any[]} */ messages) => { if (current() || retired()) this.#receive(messages); },
      onLost: (/** @type {Error} */ error) => { if (current()) this.#lost(error); },
    };
  }

  /** @param {any[]} messages */
  #receive(messages) {
    for (const message of messages) {
      if (!message || typeof message.channel !== 'string') continue;
      const id = message.id === undefined || message.id === null ? null : String(message.id);
      const pending = id === null ? undefined : this.#pending.get(id);
      // A connect reply numbers its batch (ack extension): noted as it arrives, with the events it carries, so
      // the next connect acknowledges them whichever connection carries it.
      if (message.channel === '/meta/connect' && typeof message.ext?.ack === 'number' && this.#session && this.#session.ack !== null) {
        this.#session.ack = message.ext.ack;
      }
      if (pending && 'successful' in message) {
        this.#pending.delete(/** @type {string} */ (id));
        pending.resolve(message);
      } else if (!isMeta(message.channel) && 'data' in message && !('successful' in message)) {
        this.#deliver(message);
      }
    }
  }

  /** @param {any} message */
  #deliver(message) {
    const position = typeof message.ext?.halley?.position === 'string' ? message.ext.halley.position : null;
    /** @type {import('../index.js').HalleyMessage} */
    const event = { channel: message.channel, data: message.data, position };
    for (const record of [...this.#records.values()]) {
      if (!channelMatches(record.channel, message.channel)) continue;
      if (position !== null) record.position = position;
      for (const subscription of [...record.subscriptions]) {
        if (!subscription.active) continue;
        try {
          subscription.handler(message.data, event);
        } catch (error) {
          reportError(error);
        }
      }
    }
  }

  /**
   * The transport reported its connection gone: fail what waits on it, and cut an interval wait short. A stream
   * buffered even padded gives way to polling: eventsource is left out for a while, its transport retired.
   * @param {Error} [error]
   */
  #lost(error) {
    if (error instanceof TransportError && error.buffered && this.#transport) {
      this.#failedAt.set(this.#transport.name, this.#options.now());
      const transport = this.#transport;
      this.#transport = null;
      this.#discard(transport);
    }
    this.#dropTransport();
    const wake = this.#wakeAny;
    this.#wakeAny = null;
    wake?.();
  }

  /** @param {Error} error */
  #failPending(error) {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
  }

  /** @param {any} reply */
  #takeAdvice(reply) {
    const advice = reply?.advice;
    if (!advice || typeof advice !== 'object') return;
    if (typeof advice.reconnect === 'string') this.#advice.reconnect = advice.reconnect;
    if (typeof advice.interval === 'number' && advice.interval >= 0) this.#advice.interval = advice.interval;
    if (typeof advice.timeout === 'number' && advice.timeout >= 0) this.#advice.timeout = advice.timeout;
    if (advice.reconnect === 'none') throw new StopError(`the server ended the session${reply.error ? `: ${reply.error}` : ''}`, { error: reply.error, channel: reply.channel });
  }

  /**
   * A connect refused because the session is gone (402, or advice handshake): forget it, so the loop handshakes.
   * @param {any} reply
   */
  #sessionLost(reply) {
    if (reply.advice?.reconnect === 'handshake' || String(reply.error ?? '').startsWith('402')) {
      this.#forgetSession();
      return true;
    }
    return false;
  }

  #forgetSession() {
    this.#session = null;
    for (const record of this.#records.values()) record.session = null;
  }

  #connected() {
    if (this.#state === 'connected') return;
    this.#everConnected = true;
    this.#setState('connected');
    this.#connecting?.resolve();
  }

  /**
   * Gives up a transport. An eventsource one is retired, not closed: a proxy may hold what its stream carried until
   * the server ends it, once another connection carries the session; until then its messages are delivered.
   * @param {any} transport
   */
  #discard(transport) {
    if (this.#retired.has(transport)) return;
    if (typeof transport.retire !== 'function') {
      transport.close();
      return;
    }
    this.#retired.add(transport);
    const timer = this.#timer(() => transport.close(), this.#options.requestTimeout);
    transport.retire(() => {
      this.#retired.delete(transport);
      this.#clearTimer(timer);
    });
  }

  /** Closes the transport and keeps the session, which a new connection resumes with the token. */
  #dropTransport() {
    const transport = this.#transport;
    this.#transport = null;
    transport?.close();
    this.#failPending(new TransportError('the connection was lost'));
  }

  /** @param {HalleyError} error the server wants no retry */
  #stop(error) {
    const connecting = this.#connecting;
    this.#connecting = null;
    void this.disconnect();
    connecting?.reject(error);
  }

  /** @param {HalleyState} state */
  #setState(state) {
    if (this.#state === state) return;
    this.#state = state;
    this.#emitter.emit('state', state);
  }

  #id() {
    this.#nextId += 1;
    return String(this.#nextId);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Timers and the page's network events.

  /**
   * @param {() => void} fn
   * @param {number} ms
   */
  #timer(fn, ms) {
    const handle = this.#options.setTimeout(() => {
      this.#timers.delete(handle);
      fn();
    }, ms);
    this.#timers.add(handle);
    return handle;
  }

  /** @param {any} handle */
  #clearTimer(handle) {
    if (handle === undefined || !this.#timers.delete(handle)) return;
    this.#options.clearTimeout(handle);
  }

  /**
   * Waits `ms`; a wakeable wait (a backoff) ends early on online/visibilitychange/pageshow or disconnect().
   * @param {number} ms
   * @param {boolean} wakeable
   */
  #sleep(ms, wakeable) {
    return new Promise((resolve) => {
      const timer = this.#timer(() => {
        if (this.#wake === wake) this.#wake = null;
        if (this.#wakeAny === wake) this.#wakeAny = null;
        resolve(undefined);
      }, ms);
      const wake = () => { this.#clearTimer(timer); resolve(undefined); };
      this.#wakeAny = wake;
      if (wakeable) this.#wake = wake;
    });
  }

  /**
   * Listens for the page's network events, so a client that lost its connection retries at once when the
   * network or the tab comes back, instead of at the end of its backoff (a background tab's timers are throttled).
   * @param {number} run
   */
  #listen(run) {
    const target = this.#options.window;
    const document = this.#env.document;
    if (!target && !document) return;
    const check = () => {
      if (run !== this.#run) return;
      if (document && document.visibilityState === 'hidden') return;
      if (this.#state === 'connected' && this.#transport && this.#transport.alive === false) {
        this.#lost();
        return;
      }
      const wake = this.#wake;
      this.#wake = null;
      wake?.();
    };
    target?.addEventListener('online', check);
    target?.addEventListener('pageshow', check);
    document?.addEventListener?.('visibilitychange', check);
    this.#unlisten = () => {
      target?.removeEventListener('online', check);
      target?.removeEventListener('pageshow', check);
      document?.removeEventListener?.('visibilitychange', check);
    };
  }
}
