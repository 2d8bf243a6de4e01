// The hub: the one real HalleyClient of the tabs that share a connection, run by a SharedWorker or by the leading
// tab. Tabs talk to it in messages (see tab.js); it subscribes each channel once, for as many tabs as want it.
import { encodeError } from './wire.js';

/**
 * @typedef {object} HubEntry one server subscription, reference-counted over the tabs that want it
 * @property {string} channel
 * @property {Set<string>} tabs
 * @property {string | null} start the position it resumed from (null: fresh)
 * @property {Promise<any>} ready the HalleyClient's Subscription
 */

export class Hub {
  #id;
  #client;
  #send;
  #watch;
  /** @type {Map<string, HubEntry>} */
  #entries = new Map();
  /** @type {Set<string>} tabs attached */
  #tabs = new Set();
  /** @type {Set<string>} tabs that asked to be connected */
  #connected = new Set();
  /** @type {Map<string, string>} the last position per channel: where a hub that takes over resumes */
  #positions;
  /** @type {(() => void)[]} */
  #off = [];

  /**
   * @param {object} init
   * @param {string} init.id this hub's id: a tab drops what an older hub still sends
   * @param {any} init.client the HalleyClient the hub drives
   * @param {(message: any) => void} init.send delivers a message to the tab named by its `tab` or `tabs`, or to all
   * @param {(tab: string, gone: () => void) => void} init.watch calls `gone` once the tab has closed
   * @param {Map<string, string>} [init.positions] the last positions the tab that now leads saw (a handoff)
   */
  constructor({ id, client, send, watch, positions }) {
    this.#id = id;
    this.#client = client;
    this.#send = send;
    this.#watch = watch;
    this.#positions = new Map(positions);
    this.#off.push(
      client.on('state', () => this.#broadcast({ t: 'state', ...this.#status() })),
      client.on('resubscribe', (/** @type {any} */ subscription, /** @type {boolean} */ recovered) => {
        const entry = this.#entries.get(subscription.channel);
        if (!entry) return;
        this.#remember(entry.channel, subscription.position);
        this.#broadcast({ t: 'resubscribe', channel: entry.channel, tabs: [...entry.tabs], recovered, position: subscription.position });
      }),
    );
  }

  get id() { return this.#id; }

  /** How many tabs are attached. */
  get tabs() { return this.#tabs.size; }

  /** Tells every tab that this hub now serves them (a new leader). */
  announce() { this.#broadcast({ t: 'hello', ...this.#status(), positions: Object.fromEntries(this.#positions) }); }

  /**
   * Handles a message from a tab.
   * @param {string} tab
   * @param {any} m
   */
  receive(tab, m) {
    if (typeof tab !== 'string' || !m || typeof m.t !== 'string') return;
    if (m.t === 'hi') {
      this.#attach(tab);
      this.#broadcast({ t: 'hello', tab, ...this.#status(), positions: Object.fromEntries(this.#positions) });
      return;
    }
    if (m.t === 'detach') {
      this.#detach(tab);
      return;
    }
    this.#attach(tab);
    switch (m.t) {
      case 'connect':
        this.#connected.add(tab);
        this.#client.connect().catch((/** @type {any} */ error) => {
          // Refused for good (advice reconnect: none), unless the hub itself disconnected since: every tab stops.
          if (this.#connected.size === 0) return;
          this.#broadcast({ t: 'stopped', error: encodeError(error) });
          this.#connected.clear();
        });
        this.#broadcast({ t: 'state', tab, ...this.#status() });
        break;
      case 'subscribe':
        this.#subscribe(tab, String(m.channel), typeof m.since === 'string' ? m.since : null, m.resume === true);
        break;
      case 'unsubscribe':
        this.#leave(tab, String(m.channel));
        break;
      case 'publish':
      case 'call': {
        const work = m.t === 'publish' ? this.#client.publish(m.channel, m.data) : this.#client.call(m.channel, m.data);
        work.then(
          (/** @type {any} */ value) => this.#broadcast({ t: 'reply', tab, id: m.id, ok: true, value }),
          (/** @type {any} */ error) => this.#broadcast({ t: 'reply', tab, id: m.id, ok: false, error: encodeError(error) }),
        );
        break;
      }
      default:
        break;
    }
  }

  /** Stops serving: the client disconnects (best effort /meta/disconnect); a tab that leads next resumes. */
  async close() {
    for (const off of this.#off) off();
    this.#off = [];
    this.#tabs.clear();
    this.#connected.clear();
    this.#entries.clear();
    await this.#client.disconnect();
  }

  #status() {
    return { state: this.#client.state, transport: this.#client.transport, clientId: this.#client.clientId };
  }

  /** @param {any} message */
  #broadcast(message) { this.#send({ ...message, hub: this.#id }); }

  /** @param {string} tab */
  #attach(tab) {
    if (this.#tabs.has(tab)) return;
    this.#tabs.add(tab);
    this.#watch(tab, () => this.#detach(tab));
  }

  /** @param {string} tab */
  #detach(tab) {
    if (!this.#tabs.delete(tab)) return;
    for (const entry of [...this.#entries.values()]) if (entry.tabs.has(tab)) this.#leave(tab, entry.channel);
    // The last tab that wanted the connection went: end the session rather than keep it for nobody.
    if (this.#connected.delete(tab) && this.#connected.size === 0) void this.#client.disconnect();
  }

  /**
   * @param {string} channel
   * @param {string | null} position
   */
  #remember(channel, position) {
    if (typeof position !== 'string' || this.#positions.get(channel) === position) return;
    this.#positions.set(channel, position);
    this.#broadcast({ t: 'position', channel, position });
  }

  /**
   * @param {string} tab
   * @param {string} channel
   * @param {string | null} since the last position the tab saw on it (or kept), null for none
   * @param {boolean} resume whether the tab subscribed to it before (a handoff, a return from the page cache)
   */
  #subscribe(tab, channel, since, resume) {
    let entry = this.#entries.get(channel);
    if (!entry) {
      // Resume from the last position this hub (or the tabs, in a handoff) saw: every message after it is replayed
      // by the server, and none the tabs already have.
      const start = this.#positions.get(channel) ?? since;
      /** @type {HubEntry} */
      const created = { channel, tabs: new Set(), start, ready: Promise.resolve() };
      created.ready = this.#client.subscribe(channel, (/** @type {any} */ data, /** @type {any} */ message) => {
        if (message.position !== null) this.#positions.set(channel, message.position);
        this.#broadcast({ t: 'message', channel, tabs: [...created.tabs], data, message });
      }, start === null ? undefined : { position: start });
      created.ready.then((subscription) => {
        if (this.#entries.get(channel) === created) this.#remember(channel, subscription.position);
      }, () => {
        if (this.#entries.get(channel) === created) this.#entries.delete(channel);
      });
      this.#entries.set(channel, (entry = created));
    }
    const joined = entry;
    joined.tabs.add(tab);
    joined.ready.then((subscription) => {
      if (!joined.tabs.has(tab)) return;
      // A tab is up to date when it saw the position the subscription resumed from (then the server's answer
      // holds) or the one it stands at now; otherwise messages passed while it was away. Without a position
      // (no history) only a first subscribe has nothing to recover.
      const upToDate = since !== null && (since === subscription.position || (since === joined.start && subscription.recovered));
      const recovered = upToDate || (since === null && !resume);
      this.#broadcast({ t: 'subscribed', tab, channel, ok: true, position: subscription.position, recovered });
    }, (error) => {
      joined.tabs.delete(tab);
      this.#broadcast({ t: 'subscribed', tab, channel, ok: false, error: encodeError(error) });
    });
  }

  /**
   * @param {string} tab
   * @param {string} channel
   */
  #leave(tab, channel) {
    const entry = this.#entries.get(channel);
    if (!entry || !entry.tabs.delete(tab) || entry.tabs.size > 0) return;
    this.#entries.delete(channel);
    // Nobody wants it any more: a later subscribe starts fresh, not from where this one stood.
    this.#positions.delete(channel);
    this.#broadcast({ t: 'position', channel, position: null });
    entry.ready.then((subscription) => subscription.unsubscribe()).catch(() => {});
  }
}
