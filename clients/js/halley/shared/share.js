// `share` on HalleyClient: the tabs of an origin share one connection. What every page loads is only this
// facade; the rest (tab.js, hub.js) is imported when a page asks to share.
import { Emitter } from '../emitter.js';

/**
 * How this page can share, or null when it cannot (no SharedWorker, and no Web Locks with BroadcastChannel).
 * @param {string} url the Bayeux endpoint, absolute
 * @param {true | import('../../index.js').ShareOptions} share
 * @returns {import('./tab.js').ShareSettings | null}
 */
export function shareSettings(url, share) {
  const g = /** @type {any} */ (globalThis);
  const o = share === true ? {} : share;
  const locks = o.locks ?? g.navigator?.locks;
  const BroadcastChannel = o.BroadcastChannel ?? g.BroadcastChannel;
  const SharedWorker = o.SharedWorker ?? g.SharedWorker;
  const workerUrl = new URL('./worker.js', import.meta.url).href;
  // A SharedWorker's script must be of the page's origin: a page that imports the client from the push server's
  // origin shares through Web Locks instead.
  const sameOrigin = !g.location || new URL(workerUrl).origin === g.location.origin;
  const canLock = Boolean(locks && BroadcastChannel);
  let mode = o.mode ?? 'auto';
  if (mode === 'auto') mode = typeof SharedWorker === 'function' && sameOrigin ? 'worker' : 'locks';
  if (mode === 'worker' ? typeof SharedWorker !== 'function' : !canLock) return null;
  return { name: o.name ?? url, mode, locks, BroadcastChannel, SharedWorker, workerUrl };
}

/** The HalleyClient a page gets with `share`: the same API, its work done by the tab module once loaded. */
export class SharedClient {
  #emitter = new Emitter();
  /** @type {import('./tab.js').SharedTab | null} */
  #tab = null;
  /** @type {Promise<import('./tab.js').SharedTab>} */
  #loading;
  /** @type {Promise<void> | null} a connect() asked for before the module was there */
  #early = null;

  /**
   * @param {string} url
   * @param {any} options
   * @param {import('./tab.js').ShareSettings} settings
   */
  constructor(url, options, settings) {
    this.#loading = import('./tab.js').then((m) => (this.#tab = new m.SharedTab(url, options, this.#emitter, settings)));
  }

  get state() { return this.#tab?.state ?? (this.#early ? 'connecting' : 'disconnected'); }
  get transport() { return this.#tab?.transport ?? null; }
  get clientId() { return this.#tab?.clientId ?? null; }
  /** 'worker', 'leader' or 'follower'; null until the module is loaded. */
  get sharing() { return this.#tab?.sharing ?? null; }

  /**
   * @param {'state' | 'resubscribe'} event
   * @param {Function} handler
   */
  on(event, handler) { return this.#emitter.on(event, handler); }

  /**
   * @param {string} event
   * @param {Function} handler
   */
  off(event, handler) { this.#emitter.off(event, handler); }

  connect() {
    if (this.#tab) return this.#tab.connect();
    this.#early ??= this.#loading.then((tab) => tab.connect());
    return this.#early;
  }

  async disconnect() {
    this.#early = null;
    await (await this.#loading).disconnect();
  }

  /**
   * @param {string} channel
   * @param {(data: any, message: any) => void} handler
   * @param {{ position?: string }} [options]
   */
  async subscribe(channel, handler, options) { return (await this.#loading).subscribe(channel, handler, options); }

  /**
   * @param {string} channel
   * @param {unknown} data
   */
  async publish(channel, data) { return (await this.#loading).publish(channel, data); }

  /**
   * @param {string} channel
   * @param {unknown} data
   */
  async call(channel, data) { return (await this.#loading).call(channel, data); }
}
