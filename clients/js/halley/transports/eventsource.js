// eventsource (Faye's): events arrive on a Server-Sent Events stream, GET <endpoint>/<clientId> with
// Accept: text/event-stream, while every message (connects included) goes up as a long-polling POST that the
// server answers at once. The stream is read with fetch, in browsers and Node alike, so a refused stream (404,
// 403) is told from a network failure, and Node needs no EventSource. A new stream sends ?lastEventId= with the
// last id the previous one carried: the server sends again what went into a dead stream after it.
import { HttpTransport } from './http.js';
import { LongPollingTransport } from './long-polling.js';
import { TransportError } from './transport.js';

export class EventSourceTransport extends HttpTransport {
  /** @type {string} */
  name = 'eventsource';
  #upstream;
  /** @type {string | null} */
  #lastEventId = null;
  #generation = 0;

  /**
   * @param {import('./transport.js').TransportEnv} env
   * @param {import('./transport.js').TransportSink} sink
   */
  constructor(env, sink) {
    super(env, sink);
    this.#upstream = new LongPollingTransport(env, sink);
  }

  /** @param {any[]} messages */
  send(messages) {
    return this.#upstream.send(messages);
  }

  /**
   * Opens the session's stream; resolves once the server accepted it (its headers came).
   * @param {string} clientId
   */
  async attach(clientId) {
    const generation = ++this.#generation;
    const url = new URL(`${this.env.url.replace(/\/+$/, '')}/${encodeURIComponent(clientId)}`);
    if (this.#lastEventId) url.searchParams.set('lastEventId', this.#lastEventId);
    const { response, done } = await this.http.fetch(url.href, { method: 'GET', headers: { accept: 'text/event-stream' } });
    if (!response.ok || !response.body) {
      done();
      throw new TransportError(`the event stream ${url.pathname} answered ${response.status}`, { status: response.status });
    }
    this.#read(response.body, generation).then(
      () => this.#end(generation, new TransportError('the event stream ended')),
      (error) => this.#end(generation, new TransportError('the event stream failed', { cause: error })),
    ).finally(done);
  }

  /**
   * @param {ReadableStream<Uint8Array>} body
   * @param {number} generation
   */
  async #read(body, generation) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done || generation !== this.#generation) return;
      buffer += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        if (line === '') {
          if (data.length > 0) {
            const batch = JSON.parse(data.join('\n'));
            data = [];
            this.sink.onMessages(Array.isArray(batch) ? batch : [batch]);
          }
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(text);
        else if (field === 'id') this.#lastEventId = text;
      }
    }
  }

  /**
   * @param {number} generation
   * @param {Error} error
   */
  #end(generation, error) {
    if (generation !== this.#generation) return;
    this.#generation += 1;
    this.sink.onLost(error);
  }

  close() {
    this.#generation += 1;
    super.close();
    this.#upstream.close();
  }
}
