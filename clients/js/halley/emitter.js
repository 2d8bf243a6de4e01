// A minimal event emitter: the client's own events, independent of the DOM's EventTarget (absent on old Node).

export class Emitter {
  /** @type {Map<string, Set<Function>>} */
  #handlers = new Map();

  /**
   * @param {string} event
   * @param {Function} handler
   * @returns {() => void} removes the handler
   */
  on(event, handler) {
    let set = this.#handlers.get(event);
    if (!set) this.#handlers.set(event, (set = new Set()));
    set.add(handler);
    return () => this.off(event, handler);
  }

  /**
   * @param {string} event
   * @param {Function} handler
   */
  off(event, handler) {
    const set = this.#handlers.get(event);
    if (set && set.delete(handler) && set.size === 0) this.#handlers.delete(event);
  }

  /**
   * Calls every handler of `event`; one that throws does not stop the others (the error is reported asynchronously).
   * @param {string} event
   * @param {...unknown} args
   */
  emit(event, ...args) {
    const set = this.#handlers.get(event);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(...args);
      } catch (error) {
        reportError(error);
      }
    }
  }

  /** How many handlers are registered, over all events (for leak tests). */
  get listenerCount() {
    let n = 0;
    for (const set of this.#handlers.values()) n += set.size;
    return n;
  }
}

/**
 * Reports an application handler's exception without breaking the client: the browser's reportError where it
 * exists, else a rethrow on a fresh task (Node's uncaughtException).
 * @param {unknown} error
 */
export function reportError(error) {
  const report = /** @type {any} */ (globalThis).reportError;
  if (typeof report === 'function') report(error);
  else queueMicrotask(() => { throw error; });
}
