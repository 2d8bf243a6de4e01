// websocket: Bayeux messages as JSON-array text frames, both ways, on one socket.
import { parseBatch } from './http.js';
import { TransportError } from './transport.js';

export class WebSocketTransport {
  /** @type {string} */
  name = 'websocket';
  #env;
  #sink;
  /** @type {any} */
  #socket = null;

  /**
   * @param {import('./transport.js').TransportEnv} env
   * @param {import('./transport.js').TransportSink} sink
   */
  constructor(env, sink) {
    this.#env = env;
    this.#sink = sink;
  }

  /**
   * Opens the socket (resolves on its open event). The client bounds it with its connect timeout and closes the
   * transport when that passes.
   */
  open() {
    const WebSocketImpl = this.#env.WebSocket ?? /** @type {any} */ (globalThis).WebSocket;
    if (typeof WebSocketImpl !== 'function') {
      return Promise.reject(new TransportError('no WebSocket constructor: pass options.WebSocket (e.g. the ws package on Node 20)'));
    }
    const url = new URL(this.#env.url);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return new Promise((resolve, reject) => {
      let socket;
      try {
        socket = new WebSocketImpl(url.href);
      } catch (error) {
        reject(new TransportError(`could not open a WebSocket to ${url.href}`, { cause: error }));
        return;
      }
      this.#socket = socket;
      let opened = false;
      socket.onopen = () => {
        opened = true;
        resolve(undefined);
      };
      socket.onmessage = (/** @type {{ data: unknown }} */ event) => {
        let batch;
        try {
          batch = parseBatch(typeof event.data === 'string' ? event.data : String(event.data));
        } catch (error) {
          this.#lost(socket, /** @type {Error} */ (error));
          return;
        }
        this.#sink.onMessages(batch);
      };
      socket.onerror = () => {
        if (!opened) reject(new TransportError(`the WebSocket to ${url.href} failed to open`));
      };
      socket.onclose = (/** @type {{ code?: number, reason?: string }} */ event) => {
        const error = new TransportError(`the WebSocket closed (${event?.code ?? 'no code'}${event?.reason ? `: ${event.reason}` : ''})`);
        if (!opened) reject(error);
        else this.#lost(socket, error);
      };
    });
  }

  /** @param {any[]} messages */
  async send(messages) {
    const socket = this.#socket;
    if (!socket || socket.readyState !== 1) throw new TransportError('the WebSocket is not open');
    socket.send(JSON.stringify(messages));
  }

  /** Whether the socket still looks open (checked on online/visibilitychange/pageshow). */
  get alive() {
    return this.#socket?.readyState === 1;
  }

  /**
   * @param {any} socket
   * @param {Error} error
   */
  #lost(socket, error) {
    if (socket !== this.#socket) return;
    this.close();
    this.#sink.onLost(error);
  }

  close() {
    const socket = this.#socket;
    this.#socket = null;
    if (!socket) return;
    // No-ops rather than null: the ws package emits 'error' when a socket is closed while still connecting,
    // and an EventEmitter with no 'error' listener throws.
    const ignore = () => {};
    socket.onopen = socket.onmessage = socket.onerror = socket.onclose = ignore;
    try {
      socket.close();
    } catch {
      // closing a socket that never opened may throw on some platforms; it is gone either way
    }
  }
}
