// eventsource (Faye's): events come on a Server-Sent Events stream (GET <endpoint>/<clientId>, read with fetch, so
// a refusal is told from a network failure), messages go up as long-polling POSTs answered at once. A new stream
// sends ?lastEventId=: the server sends again what went into a dead stream after it.
// Stream-sense: a stream silent for streamSenseTimeout (the server writes at once) is held by a proxy: it is
// opened again with ?pad=N, the silent one read to its end (the server ends it, the proxy passes on what it held).
import { HttpTransport } from './http.js';
import { LongPollingTransport } from './long-polling.js';
import { TransportError } from './transport.js';

export class EventSourceTransport extends HttpTransport {
  /** @type {string} */
  name = 'eventsource';
  /** Whether streams are opened with ?pad=. */
  padded = false;
  #upstream;
  /** @type {string | null} */
  #lastEventId = null;
  /** @type {Set<{ superseded: boolean }>} streams being read; a superseded one's end is not reported */
  #streams = new Set();
  /** @type {Set<any>} */
  #timers = new Set();
  #closed = false;
  /** @type {(() => void) | null} */
  #retired = null;

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
   * Opens the session's stream; resolves on its first byte, or once a silent one was followed by a padded one
   * (whose silence is reported as lost, `buffered`). Rejects when refused (404: the session is gone).
   * @param {string} clientId
   */
  async attach(clientId) {
    this.#supersede();
    const padded = this.padded;
    const verdict = await this.#open(clientId, padded);
    if (verdict === 'flowing') return;
    if (padded) throw bufferedError();
    this.#supersede();
    this.padded = true;
    const next = this.#open(clientId, true);
    next.then((v) => { if (v === 'silent') this.#lose(bufferedError()); }, (error) => this.#lose(error));
  }

  /**
   * Opens one stream: 'flowing' on its first byte, 'silent' when streamSenseTimeout passes first.
   * @param {string} clientId
   * @param {boolean} padded
   * @returns {Promise<'flowing' | 'silent'>}
   */
  #open(clientId, padded) {
    const url = new URL(`${this.env.url.replace(/\/+$/, '')}/${encodeURIComponent(clientId)}`);
    if (this.#lastEventId && !padded) url.searchParams.set('lastEventId', this.#lastEventId);
    if (padded) url.searchParams.set('pad', String(this.env.streamPadding));
    const stream = { superseded: false };
    this.#streams.add(stream);
    return new Promise((resolve, reject) => {
      let decided = false;
      const decide = (/** @type {() => void} */ settle) => {
        if (decided) return false;
        decided = true;
        this.#clear(timer);
        settle();
        return true;
      };
      const timer = this.#timer(() => decide(() => resolve('silent')), /** @type {number} */ (this.env.streamSenseTimeout));
      const fail = (/** @type {Error} */ error) => {
        if (!decide(() => reject(error))) this.#ended(stream, error);
      };
      this.#run(stream, url, () => decide(() => resolve('flowing'))).then(
        () => fail(new TransportError('the event stream ended')),
        fail,
      ).finally(() => {
        this.#clear(timer);
        this.#streams.delete(stream);
        if (this.#retired && this.#streams.size === 0) this.close();
      });
    });
  }

  /**
   * @param {{ superseded: boolean }} stream
   * @param {URL} url
   * @param {() => void} flowing
   */
  async #run(stream, url, flowing) {
    const { response, done } = await this.http.fetch(url.href, { method: 'GET', headers: { accept: 'text/event-stream' } });
    try {
      if (!response.ok || !response.body) {
        throw new TransportError(`the event stream ${url.pathname} answered ${response.status}`, { status: response.status });
      }
      await this.#read(stream, response.body, flowing);
    } catch (error) {
      throw error instanceof TransportError ? error : new TransportError('the event stream failed', { cause: error });
    } finally {
      done();
    }
  }

  /**
   * @param {{ superseded: boolean }} stream
   * @param {ReadableStream<Uint8Array>} body
   * @param {() => void} flowing
   */
  async #read(stream, body, flowing) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done || this.#closed) return;
      if (value.length > 0) flowing();
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
        else if (field === 'id' && !stream.superseded) this.#lastEventId = text;
      }
    }
  }

  /**
   * @param {{ superseded: boolean }} stream
   * @param {Error} error
   */
  #ended(stream, error) {
    if (stream.superseded || this.#closed) return;
    stream.superseded = true;
    this.#lose(error);
  }

  #supersede() {
    for (const stream of this.#streams) stream.superseded = true;
  }

  /** @param {Error} error */
  #lose(error) {
    if (this.#closed || this.#retired) return;
    this.sink.onLost(error);
  }

  /**
   * Stops sending, but reads the open streams to their end (their messages still go to the sink), then closes.
   * @param {() => void} onClosed
   */
  retire(onClosed) {
    this.#retired = onClosed;
    this.#supersede();
    this.#upstream.close();
    if (this.#closed || this.#streams.size === 0) this.close();
  }

  /**
   * @param {() => void} fn
   * @param {number} ms
   */
  #timer(fn, ms) {
    const handle = /** @type {NonNullable<typeof this.env.setTimeout>} */ (this.env.setTimeout)(() => {
      this.#timers.delete(handle);
      fn();
    }, ms);
    this.#timers.add(handle);
    return handle;
  }

  /** @param {any} handle */
  #clear(handle) {
    if (!this.#timers.delete(handle)) return;
    this.env.clearTimeout?.(handle);
  }

  close() {
    const onClosed = this.#retired;
    this.#retired = null;
    onClosed?.();
    if (this.#closed) return;
    this.#closed = true;
    for (const handle of [...this.#timers]) this.#clear(handle);
    super.close();
    this.#upstream.close();
  }
}

function bufferedError() {
  return new TransportError('a proxy buffers the event stream', { buffered: true });
}
