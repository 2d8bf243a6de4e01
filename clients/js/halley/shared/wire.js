// What travels between a tab and the hub that holds the shared connection: names, ids and errors as plain data
// (a MessagePort and a BroadcastChannel carry structured clones, which keep no class).
import { HalleyError } from '../client.js';
import { TransportError } from '../transports/transport.js';

/**
 * The options a hub in a SharedWorker can be given: the ones that survive a structured clone (no functions).
 * @param {any} options
 */
export function portableOptions(options) {
  /** @type {any} */
  const portable = {};
  for (const key of ['transports', 'transport', 'backoff', 'connectTimeout', 'requestTimeout', 'retryWebSocketAfter', 'acknowledge']) {
    if (options[key] !== undefined) portable[key] = options[key];
  }
  return portable;
}

/** A random id: a tab's, or a hub's. */
export function randomId() {
  const c = /** @type {any} */ (globalThis).crypto;
  return typeof c?.randomUUID === 'function' ? c.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/** The Web Lock a tab holds for as long as it takes part: the hub learns that a tab is gone when it is released. */
export const tabLock = (/** @type {string} */ name, /** @type {string} */ tab) => `halley-share:${name}:tab:${tab}`;

/** The Web Lock the leading tab holds (Web Locks mode). */
export const leaderLock = (/** @type {string} */ name) => `halley-share:${name}:leader`;

/** @param {any} error */
export function encodeError(error) {
  return { name: error?.name, message: String(error?.message ?? error), error: error?.error, channel: error?.channel, status: error?.status };
}

/** @param {any} data */
export function decodeError(data) {
  if (data?.name === 'TransportError' || data?.name === 'TimeoutError') {
    const error = new TransportError(data.message, { status: data.status });
    error.name = data.name;
    return error;
  }
  if (data?.name === 'TypeError') return new TypeError(data.message);
  return new HalleyError(data?.message ?? 'failed', { error: data?.error, channel: data?.channel });
}
