// The transports by Bayeux connection type, and whether each can run here.
import { CallbackPollingTransport } from './callback-polling.js';
import { EventSourceTransport } from './eventsource.js';
import { LongPollingTransport } from './long-polling.js';
import { WebSocketTransport } from './websocket.js';

/** Every connection type the client speaks, in its default order of preference. */
export const TRANSPORTS = /** @type {const} */ (['websocket', 'eventsource', 'long-polling', 'callback-polling']);

const constructors = {
  websocket: WebSocketTransport,
  eventsource: EventSourceTransport,
  'long-polling': LongPollingTransport,
  'callback-polling': CallbackPollingTransport,
};

/**
 * @param {string} name
 * @param {import('./transport.js').TransportEnv} env
 * @param {import('./transport.js').TransportSink} sink
 */
export function createTransport(name, env, sink) {
  const Transport = constructors[/** @type {keyof typeof constructors} */ (name)];
  return new Transport(env, sink);
}

/**
 * Whether transport `name` can run with what this platform (or the options) provide.
 * @param {string} name
 * @param {import('./transport.js').TransportEnv} env
 */
export function isAvailable(name, env) {
  const g = /** @type {any} */ (globalThis);
  const hasFetch = typeof (env.fetch ?? g.fetch) === 'function';
  switch (name) {
    case 'websocket': return typeof (env.WebSocket ?? g.WebSocket) === 'function';
    case 'eventsource': return hasFetch && typeof g.ReadableStream === 'function' && typeof g.TextDecoder === 'function';
    case 'long-polling': return hasFetch;
    case 'callback-polling': return Boolean(env.document) || hasFetch;
    default: return false;
  }
}
