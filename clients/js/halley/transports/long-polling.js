// long-polling: every batch is a POST of a JSON array; the answer holds the replies, then queued events.
import { HttpRequests, parseBatch } from './http.js';

export class LongPollingTransport {
  /** @type {string} */
  name = 'long-polling';
  #env;
  #sink;
  #http;

  /**
   * @param {import('./transport.js').TransportEnv} env
   * @param {import('./transport.js').TransportSink} sink
   */
  constructor(env, sink) {
    this.#env = env;
    this.#sink = sink;
    this.#http = new HttpRequests(env);
  }

  /** Nothing to open: each request is its own connection. */
  async open() {}

  /**
   * Sends a batch; its answer is handed to the sink. Rejects when the request fails.
   * @param {any[]} messages
   */
  async send(messages) {
    const body = await this.#http.text(this.#env.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json;charset=UTF-8' },
      body: JSON.stringify(messages),
    });
    this.#sink.onMessages(parseBatch(body));
  }

  close() {
    this.#http.abortAll();
  }
}
