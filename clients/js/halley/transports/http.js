// HTTP requests for the polling transports and the eventsource stream: fetch, abortable, with a cookie store
// where the platform has none (Node), so the server's BAYEUX_BROWSER cookie binds the session as in a browser.
import { TransportError } from './transport.js';

/** Requests a transport has in flight, so closing it aborts them all (no request or timer outlives it). */
export class HttpRequests {
  /** @type {Set<AbortController>} */
  #inFlight = new Set();
  /** @type {import('./transport.js').TransportEnv} */
  #env;

  /** @param {import('./transport.js').TransportEnv} env */
  constructor(env) {
    this.#env = env;
  }

  /**
   * @param {string} url
   * @param {RequestInit & { headers?: Record<string, string> }} init
   * @returns {Promise<{ response: Response, done: () => void }>} call done() once the body is read
   */
  async fetch(url, init) {
    const fetchImpl = this.#env.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new TransportError('fetch is not available: pass options.fetch');
    const controller = new AbortController();
    this.#inFlight.add(controller);
    const done = () => this.#inFlight.delete(controller);
    const headers = { ...(init.headers ?? {}) };
    const cookies = this.#env.cookies;
    if (cookies && cookies.size > 0) headers.cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    try {
      const response = await fetchImpl(url, { credentials: 'same-origin', cache: 'no-store', ...init, headers, signal: controller.signal });
      if (cookies) keepCookies(cookies, response.headers);
      return { response, done };
    } catch (error) {
      done();
      throw new TransportError(`${init.method ?? 'GET'} ${url} failed`, { cause: error });
    }
  }

  /**
   * A request whose whole body is text.
   * @param {string} url
   * @param {RequestInit & { headers?: Record<string, string> }} init
   * @returns {Promise<string>}
   */
  async text(url, init) {
    const { response, done } = await this.fetch(url, init);
    try {
      const body = await response.text();
      if (!response.ok) throw new TransportError(`${init.method ?? 'GET'} ${url} answered ${response.status}`, { status: response.status });
      return body;
    } catch (error) {
      throw error instanceof TransportError ? error : new TransportError(`reading ${url} failed`, { cause: error });
    } finally {
      done();
    }
  }

  /** Aborts every request in flight. */
  abortAll() {
    for (const controller of this.#inFlight) controller.abort();
    this.#inFlight.clear();
  }
}

/**
 * Keeps the name=value of each Set-Cookie (Node's fetch exposes them; a browser never does, it keeps its own).
 * @param {Map<string, string>} cookies
 * @param {Headers} headers
 */
function keepCookies(cookies, headers) {
  const list = typeof headers.getSetCookie === 'function' ? headers.getSetCookie() : [];
  for (const line of list) {
    const pair = line.split(';', 1)[0];
    const eq = pair.indexOf('=');
    if (eq > 0) cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
  }
}

/**
 * What the HTTP transports share: the client's environment, the sink they report to, and their requests in flight,
 * which close() aborts. Nothing to open: each request is its own connection.
 */
export class HttpTransport {
  /**
   * @param {import('./transport.js').TransportEnv} env
   * @param {import('./transport.js').TransportSink} sink
   */
  constructor(env, sink) {
    this.env = env;
    this.sink = sink;
    this.http = new HttpRequests(env);
  }

  async open() {}

  close() {
    this.http.abortAll();
  }
}

/**
 * Parses a response body that must be a JSON array of Bayeux messages.
 * @param {string} body
 * @returns {any[]}
 */
export function parseBatch(body) {
  let value;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new TransportError('the server answered with something that is not JSON', { cause: error });
  }
  return Array.isArray(value) ? value : [value];
}
