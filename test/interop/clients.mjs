// One small promise-based wrapper over each official client (CometD 9 via cometd-nodejs-client,
// and Faye 1.4.3), with a wire log kept by a client extension: every message the client sends
// (after all other extensions) and every message it receives (before any other extension).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { adapt } from 'cometd-nodejs-client';
import { CometD, WebSocketTransport as CometDWebSocketTransport } from 'cometd';
import faye from 'faye';
import { asJson, waitFor } from './harness.mjs';
import { NodeCallbackPollingTransport } from './callback-polling.mjs';

adapt();

// ---------------------------------------------------------------------------------------------
// Socket log: which WebSockets each peer's client opened and when they closed, seen from the client's side
// (the events of the socket object the client itself uses). Each client makes its sockets in one place; the
// hooks below note the socket there and hand it to the peer that owns the client (a WeakMap, keyed by the
// CometD instance or the Faye dispatcher).

const socketOwners = new WeakMap();

// CometD's WebSocketTransport creates its socket with `new window.WebSocket(url)`, synchronously inside its
// send(): a socket made while a peer's transport is sending is that peer's.
let sendingFor = null;
const NodeWebSocket = window.WebSocket;
window.WebSocket = class extends NodeWebSocket {
  constructor(...args) {
    super(...args);
    sendingFor?.trackSocket(this);
  }
};
const cometdSend = CometDWebSocketTransport.prototype.send;
CometDWebSocketTransport.prototype.send = function send(...args) {
  const owner = socketOwners.get(this.cometd) ?? null;
  const go = () => {
    const outer = sendingFor;
    sendingFor = owner;
    try {
      return cometdSend.apply(this, args);
    } finally {
      sendingFor = outer;
    }
  };
  // While the peer holds its sends (holdSends()), what CometD sends waits here, before any socket is made for it.
  if (owner?.held) owner.held.push(go);
  else go();
};

// Faye's websocket transport (one per dispatcher) creates each socket in _createSocket().
const FayeWebSocketTransport = createRequire(import.meta.url)('faye/src/transport/web_socket');
const fayeCreateSocket = FayeWebSocketTransport.prototype._createSocket;
FayeWebSocketTransport.prototype._createSocket = function _createSocket(...args) {
  const socket = fayeCreateSocket.apply(this, args);
  if (socket) socketOwners.get(this._dispatcher)?.trackSocket(socket);
  return socket;
};

const ACK_MS = 10_000;

class Peer {
  /** @type {{dir: 'out'|'in', via: string, at: number, msg: any}[]} */
  wire = [];
  handshakeReply = null;

  constructor(kind, transport, name) {
    this.kind = kind;
    this.transport = transport;
    this.name = name;
  }

  get label() { return `${this.name} (${this.kind} over ${this.transport})`; }

  /** @type {{n: number, createdAt: number, openedAt?: number, closedAt?: number, code?: number}[]} every WebSocket the client made, in order */
  sockets = [];

  trackSocket(socket) {
    const entry = { n: this.sockets.length + 1, createdAt: Date.now() };
    this.sockets.push(entry);
    socket.addEventListener('open', () => { entry.openedAt = Date.now(); });
    socket.addEventListener('close', (event) => { entry.closedAt = Date.now(); entry.code = event?.code; });
  }

  /** The client's sockets that opened and have not closed: those that can carry its session. */
  openSockets() {
    return this.sockets.filter((s) => s.openedAt !== undefined && s.closedAt === undefined);
  }

  /** @type {(() => void)[] | null} sends held back by holdSends(), in order */
  held = null;

  /**
   * Holds back what the client sends (it sends nothing, so opens no new socket, as over a network slow to come
   * back) until the returned function is called, which sends it all in order.
   */
  holdSends() {
    assert.equal(this.held, null, `${this.label}: already holding its sends`);
    this.held = [];
    return () => {
      const held = this.held;
      this.held = null;
      for (const send of held) send();
    };
  }

  // via: the client's current transport when the message passed its extension (for Faye, a reply
  // to a request made over HTTP can still arrive just after it switched to websocket).
  record(dir, msg) {
    this.wire.push({ dir, via: this.currentTransport(), at: Date.now(), msg: structuredClone(msg) });
  }

  /** Messages the server delivered to this client on non-meta channels (what was on the wire). */
  delivered(prefix = '') {
    return this.wire
      .filter((w) => w.dir === 'in' && !w.msg.channel.startsWith('/meta/') && w.msg.data !== undefined && w.msg.channel.startsWith(prefix))
      .map((w) => w.msg);
  }

  outgoing(channel) {
    return this.wire.filter((w) => w.dir === 'out' && w.msg.channel === channel).map((w) => w.msg);
  }

  replyTo(channel, pred = () => true) {
    return this.wire.find((w) => w.dir === 'in' && w.msg.channel === channel && w.msg.successful !== undefined && pred(w.msg))?.msg;
  }

  wireDump(max = 60) {
    const lines = this.wire.slice(-max).map((w) => `  ${new Date(w.at).toISOString().slice(11, 23)} ${w.dir === 'out' ? '->' : '<-'} [${w.via}] ${JSON.stringify(w.msg)}`);
    const skipped = this.wire.length > max ? `  (${this.wire.length - max} earlier entries not shown)\n` : '';
    const time = (at) => (at === undefined ? '-' : new Date(at).toISOString().slice(11, 23));
    const sockets = this.sockets.map((s) => `\n  socket ${s.n}: created ${time(s.createdAt)}, opened ${time(s.openedAt)}, closed ${time(s.closedAt)}${s.code === undefined ? '' : ` (${s.code})`}`).join('');
    return `wire of ${this.label}:\n${skipped}${lines.join('\n')}${sockets}`;
  }

  /** Asserts that the handshake advertised the transport under test and every /meta/connect used it. */
  assertTransportUsed() {
    const failed = this.wire.filter((w) => w.dir === 'in' && w.msg.successful === false);
    assert.deepEqual(failed.map((w) => w.msg), [], `${this.label}: the server answered unsuccessfully`);
    const handshakes = this.outgoing('/meta/handshake');
    assert.equal(handshakes.length, 1, `${this.label}: the client had to handshake ${handshakes.length} times`);
    const connects = this.outgoing('/meta/connect');
    assert.ok(connects.length > 0, `${this.label}: no /meta/connect was sent`);
    assert.ok(this.handshakeReply?.supportedConnectionTypes?.includes(this.transport),
      `${this.label}: handshake reply does not advertise ${this.transport}: ${JSON.stringify(this.handshakeReply?.supportedConnectionTypes)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// CometD

export class CometDPeer extends Peer {
  constructor(url, transport, name, { extensions = {} } = {}) {
    super('cometd', transport, name);
    const cometd = this.cometd = new CometD(name);
    socketOwners.set(cometd, this);
    // Registered first: its outgoing hook runs last (CometD applies outgoing extensions in
    // reverse order) and its incoming hook runs first, so it sees exactly what is on the wire.
    cometd.registerExtension('wire', {
      outgoing: (m) => { this.record('out', m); return m; },
      incoming: (m) => { this.record('in', m); return m; },
    });
    for (const [n, ext] of Object.entries(extensions)) cometd.registerExtension(n, ext);
    if (transport === 'websocket') {
      // Keep the default registry (websocket, then long-polling fallback) as a user would;
      // assertTransportUsed() fails if CometD silently fell back to long-polling.
    } else if (transport === 'long-polling') {
      assert.ok(cometd.unregisterTransport('websocket'), 'websocket transport was not registered');
    } else if (transport === 'callback-polling') {
      cometd.unregisterTransports();
      cometd.registerTransport('callback-polling', new NodeCallbackPollingTransport());
    } else {
      throw new Error(`unknown transport ${transport}`);
    }
    cometd.configure({ url, logLevel: process.env.HALLEY_INTEROP_VERBOSE ? 'debug' : 'warn' });
  }

  currentTransport() { return this.cometd?.getTransport()?.type ?? 'none'; }

  holdSends() {
    assert.equal(this.transport, 'websocket', `${this.label}: holdSends() holds CometD's websocket transport only`);
    return super.holdSends();
  }

  async handshake() {
    const reply = await waitFor(new Promise((resolve) => this.cometd.handshake((r) => resolve(r))), ACK_MS, `${this.label}: /meta/handshake reply`);
    this.handshakeReply = reply;
    assert.equal(reply.successful, true, `${this.label}: handshake failed: ${asJson(reply)}`);
    // The first /meta/connect follows the handshake; wait until the server answered it.
    await waitFor(() => this.replyTo('/meta/connect'), ACK_MS, `${this.label}: first /meta/connect reply`);
    const connectReply = this.replyTo('/meta/connect');
    assert.equal(connectReply.successful, true, `${this.label}: first /meta/connect failed: ${JSON.stringify(connectReply)}`);
    return reply;
  }

  /**
   * Subscribes and resolves with {channel, messages, reply} once the server acknowledged. With `position`,
   * asks Halley to replay what came after it (ext.halley.position), through CometD's own subscribe props.
   */
  async subscribe(channel, { position } = {}) {
    const messages = [];
    let handle;
    const props = position ? { ext: { halley: { position } } } : {};
    const reply = await waitFor(new Promise((resolve) => {
      handle = this.cometd.subscribe(channel, (m) => messages.push({ channel: m.channel, data: m.data }), props, (r) => resolve(r));
    }), ACK_MS, `${this.label}: /meta/subscribe reply for ${channel}`);
    assert.equal(reply.successful, true, `${this.label}: subscribe to ${channel} failed: ${asJson(reply)}`);
    return { channel, messages, handle, reply };
  }

  async unsubscribe(sub) {
    const reply = await waitFor(new Promise((resolve) => this.cometd.unsubscribe(sub.handle, (r) => resolve(r))), ACK_MS, `${this.label}: /meta/unsubscribe reply for ${sub.channel}`);
    assert.equal(reply.successful, true, `${this.label}: unsubscribe from ${sub.channel} failed: ${asJson(reply)}`);
    return reply;
  }

  async publish(channel, data) {
    const reply = await waitFor(new Promise((resolve) => this.cometd.publish(channel, data, (r) => resolve(r))), ACK_MS, `${this.label}: publish reply on ${channel}`);
    assert.equal(reply.successful, true, `${this.label}: publish to ${channel} failed: ${asJson(reply)}`);
    return reply;
  }

  /** Publishes without waiting for the acknowledgement (CometD still sends them in order). */
  publishNoWait(channel, data) {
    this.cometd.publish(channel, data);
  }

  async remoteCall(target, data) {
    return waitFor(new Promise((resolve) => this.cometd.remoteCall(target, data, 5_000, (r) => resolve(r))), ACK_MS, `${this.label}: remote call reply from ${target}`);
  }

  async disconnect() {
    if (this.cometd.isDisconnected()) return null;
    return waitFor(new Promise((resolve) => this.cometd.disconnect((r) => resolve(r))), ACK_MS, `${this.label}: /meta/disconnect reply`);
  }

  assertTransportUsed() {
    super.assertTransportUsed();
    assert.equal(this.currentTransport(), this.transport, `${this.label}: CometD negotiated ${this.currentTransport()}`);
    for (const c of this.outgoing('/meta/connect')) {
      assert.equal(c.connectionType, this.transport, `${this.label}: /meta/connect sent with connectionType ${c.connectionType}`);
    }
    for (const w of this.wire) {
      assert.equal(w.via, this.transport, `${this.label}: message ${JSON.stringify(w.msg)} went over ${w.via}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Faye

export class FayePeer extends Peer {
  constructor(url, transport, name) {
    super('faye', transport, name);
    const client = this.client = new faye.Client(url, { timeout: 60, retry: 2 });
    socketOwners.set(client._dispatcher, this);
    // Faye has no switch that forces websocket: after a handshake over HTTP it moves to
    // websocket by itself when the server offers it and the socket opens. disable('websocket')
    // keeps it on long-polling.
    if (transport === 'long-polling') client.disable('websocket');
    else if (transport !== 'websocket') throw new Error(`unknown transport ${transport}`);
    // Faye has no subscribe options: an extension, the documented way to add fields, puts a position to
    // resume from into the /meta/subscribe of its channel. Added before the wire recorder, so the
    // recorder sees the message as sent.
    this.resumeFrom = new Map();
    client.addExtension({
      outgoing: (m, cb) => {
        const position = m.channel === '/meta/subscribe' && this.resumeFrom.get(m.subscription);
        if (position) m.ext = { ...m.ext, halley: { position } };
        cb(m);
      },
    });
    // Faye makes a socket only to send: holding messages here (holdSends()) keeps it from opening one.
    client.addExtension({
      outgoing: (m, cb) => {
        if (this.held) this.held.push(() => cb(m));
        else cb(m);
      },
    });
    client.addExtension({
      outgoing: (m, cb) => { this.record('out', m); cb(m); },
      incoming: (m, cb) => { this.record('in', m); cb(m); },
    });
  }

  currentTransport() { return this.client?._dispatcher?.connectionType ?? 'none'; }

  async handshake() {
    // connect() runs the handshake, then sends the first /meta/connect.
    this.client.connect();
    await waitFor(() => this.replyTo('/meta/handshake'), ACK_MS, `${this.label}: /meta/handshake reply`);
    const reply = this.handshakeReply = this.replyTo('/meta/handshake');
    assert.equal(reply.successful, true, `${this.label}: handshake failed: ${asJson(reply)}`);
    // Ready once a /meta/connect went out over the transport under test (for websocket this is
    // after the socket opened and any /meta/connect held over HTTP came back).
    await waitFor(() => this.outgoing('/meta/connect').some((c) => c.connectionType === this.transport), 30_000,
      `${this.label}: a /meta/connect with connectionType ${this.transport}`);
    // Faye does not ask for an immediate answer to that /meta/connect, so the server may hold it.
    // One acknowledged round trip over the same transport shows the session is usable (a server
    // answers messages on one connection in order, so a rejected /meta/connect shows up first).
    await this.publish('/interop/ready', { ready: this.name });
    return reply;
  }

  /** Subscribes (with `position`, resuming after it) and resolves with {channel, messages, reply}. */
  async subscribe(channel, { position } = {}) {
    const messages = [];
    if (position) this.resumeFrom.set(channel, position);
    const before = this.wire.length;
    const handle = this.client.subscribe(channel).withChannel((ch, data) => messages.push({ channel: ch, data }));
    await waitFor(new Promise((resolve, reject) => handle.then(resolve, reject)), ACK_MS, `${this.label}: /meta/subscribe reply for ${channel}`);
    const reply = this.wire.slice(before).find((w) => w.dir === 'in' && w.msg.channel === '/meta/subscribe' && w.msg.subscription === channel)?.msg;
    return { channel, messages, handle, reply };
  }

  async unsubscribe(sub) {
    const before = this.wire.length;
    sub.handle.cancel();
    const reply = await waitFor(() => this.wire.slice(before).find((w) => w.dir === 'in' && w.msg.channel === '/meta/unsubscribe' && w.msg.subscription === sub.channel)?.msg,
      ACK_MS, `${this.label}: /meta/unsubscribe reply for ${sub.channel}`);
    assert.equal(reply.successful, true, `${this.label}: unsubscribe from ${sub.channel} failed: ${asJson(reply)}`);
    return reply;
  }

  async publish(channel, data) {
    const pub = this.client.publish(channel, data);
    await waitFor(new Promise((resolve, reject) => pub.then(resolve, (e) => reject(new Error(`${this.label}: publish to ${channel} failed: ${e?.message ?? e}`)))),
      ACK_MS, `${this.label}: publish reply on ${channel}`);
  }

  publishNoWait(channel, data) {
    this.client.publish(channel, data);
  }

  async disconnect() {
    if (this.client._state !== this.client.CONNECTED) return null;
    const before = this.wire.length;
    const done = this.client.disconnect();
    await waitFor(new Promise((resolve, reject) => done.then(resolve, reject)), ACK_MS, `${this.label}: /meta/disconnect reply`);
    return this.wire.slice(before).find((w) => w.dir === 'in' && w.msg.channel === '/meta/disconnect')?.msg;
  }

  assertTransportUsed() {
    super.assertTransportUsed();
    assert.equal(this.currentTransport(), this.transport, `${this.label}: Faye selected ${this.currentTransport()}`);
    const connects = this.outgoing('/meta/connect');
    if (this.transport === 'long-polling') {
      for (const c of connects) assert.equal(c.connectionType, 'long-polling', `${this.label}: /meta/connect sent with ${c.connectionType}`);
      assert.equal(this.client._dispatcher.transports.websocket, undefined, `${this.label}: a websocket was opened although disabled`);
    } else {
      // The handshake, and possibly the first /meta/connect, go over HTTP; from the first
      // websocket /meta/connect on, everything must go over the socket.
      const first = this.wire.findIndex((w) => w.dir === 'out' && w.msg.channel === '/meta/connect' && w.msg.connectionType === 'websocket');
      assert.ok(first >= 0, `${this.label}: no /meta/connect was sent over websocket`);
      for (const w of this.wire.slice(first)) {
        assert.equal(w.via, 'websocket', `${this.label}: message ${JSON.stringify(w.msg)} went over ${w.via}`);
        if (w.dir === 'out' && w.msg.channel === '/meta/connect') assert.equal(w.msg.connectionType, 'websocket');
      }
    }
  }
}

/** Creates a client of the given kind (not yet handshaken). */
export function createPeer(kind, url, transport, name, options) {
  if (kind === 'cometd') return new CometDPeer(url, transport, name, options);
  if (kind === 'faye') return new FayePeer(url, transport, name);
  throw new Error(`unknown client kind ${kind}`);
}
