// callback-polling (JSONP): every batch is a GET with message=<json>&jsonp=<callback>, for pages whose origin the
// server's CORS rules do not allow. In a browser through a <script> element; where there is no DOM (Node),
// the same request through fetch, unwrapping the `/**/callback([…]);` answer.
import { HttpTransport, parseBatch } from './http.js';
import { TransportError } from './transport.js';

let sequence = 0;

export class CallbackPollingTransport extends HttpTransport {
  /** @type {string} */
  name = 'callback-polling';
  /** @type {Set<() => void>} cancels of the script requests in flight */
  #scripts = new Set();

  /** @param {any[]} messages */
  async send(messages) {
    sequence += 1;
    const callback = `__halley_jsonp_${sequence}`;
    const url = new URL(this.env.url);
    url.searchParams.set('message', JSON.stringify(messages));
    url.searchParams.set('jsonp', callback);
    const document = this.env.document;
    const batch = document ? await this.#viaScript(document, url.href, callback) : await this.#viaFetch(url.href, callback);
    this.sink.onMessages(batch);
  }

  /**
   * @param {any} document
   * @param {string} url
   * @param {string} callback
   * @returns {Promise<any[]>}
   */
  #viaScript(document, url, callback) {
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      const global = /** @type {any} */ (globalThis);
      const cleanup = (/** @type {boolean} */ answered) => {
        this.#scripts.delete(cancel);
        // A script already requested may still run after its element is removed (a held connect answered
        // after close()): its callback then stays defined, as a no-op that removes itself.
        if (answered) delete global[callback];
        else global[callback] = () => { delete global[callback]; };
        script.onerror = null;
        script.remove();
      };
      const cancel = () => {
        cleanup(false);
        reject(new TransportError('the transport was closed'));
      };
      global[callback] = (/** @type {any} */ batch) => {
        cleanup(true);
        resolve(Array.isArray(batch) ? batch : [batch]);
      };
      script.onerror = () => {
        cleanup(false);
        reject(new TransportError(`GET ${url} failed`));
      };
      this.#scripts.add(cancel);
      script.src = url;
      script.async = true;
      (document.head ?? document.documentElement).appendChild(script);
    });
  }

  /**
   * @param {string} url
   * @param {string} callback
   * @returns {Promise<any[]>}
   */
  async #viaFetch(url, callback) {
    const body = await this.http.text(url, { method: 'GET' });
    const start = body.indexOf(`${callback}(`);
    const end = body.lastIndexOf(')');
    if (start < 0 || end < start) throw new TransportError('the callback-polling answer is not a call of its callback');
    return parseBatch(body.slice(start + callback.length + 1, end));
  }

  close() {
    super.close();
    for (const cancel of [...this.#scripts]) cancel();
  }
}
