// CometD's CallbackPollingTransport sends each request by adding a <script> element to
// window.document (JSONP). cometd-nodejs-client provides XMLHttpRequest and WebSocket but no DOM,
// so the stock transport cannot run under Node: its jsonpSend() throws on window.document.
// This subclass keeps everything else of CometD's transport (URL building, message splitting,
// jsonp=/message= parameters, response handling) and replaces only jsonpSend() with what a browser
// does: a GET that carries the cookies, whose body is run as a script calling the callback.
import http from 'node:http';
import vm from 'node:vm';
import { CallbackPollingTransport } from 'cometd';

export class NodeCallbackPollingTransport extends CallbackPollingTransport {
  #jsonp = 0;
  #cookies = new Map();
  /** Raw HTTP exchanges, for failure reports: {url, status, body}. */
  exchanges = [];

  jsonpSend(packet) {
    const callbackName = `_cometd_jsonp_${this.#jsonp++}`;
    let url = packet.url;
    url += url.indexOf('?') < 0 ? '?' : '&';
    url += `jsonp=${callbackName}`;
    url += `&message=${encodeURIComponent(packet.body)}`;
    const headers = { ...(packet.headers || {}) };
    if (this.#cookies.size > 0) headers.Cookie = [...this.#cookies.values()].join('; ');
    const req = http.get(url, { headers }, (res) => {
      for (const c of res.headers['set-cookie'] || []) {
        const nv = c.split(';')[0].trim();
        const eq = nv.indexOf('=');
        if (eq > 0) this.#cookies.set(nv.slice(0, eq), nv);
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        const exchange = { url, status: res.statusCode, contentType: res.headers['content-type'], body };
        this.exchanges.push(exchange);
        if (res.statusCode !== 200) {
          packet.onError(`jsonp HTTP ${res.statusCode}`);
          return;
        }
        let called = false;
        try {
          // The callback's argument comes from another realm: hand CometD a plain same-realm copy.
          vm.runInNewContext(body, { [callbackName]: (r) => { called = true; packet.onSuccess(JSON.parse(JSON.stringify(r))); } }, { timeout: 1_000 });
        } catch (e) {
          if (!called) packet.onError(`jsonp script error: ${e.message}`, e);
          return;
        }
        if (!called) packet.onError('jsonp response did not call the callback');
      });
    });
    req.on('error', (e) => packet.onError(`jsonp ${e.message}`, e));
  }
}
