// The SharedWorker that holds the connection for every tab of an origin that shares it (mode 'worker'): one hub,
// created by the first tab with its URL and options, living as long as any tab keeps a port to it.
import { HalleyClient } from '../client.js';
import { Hub } from './hub.js';
import { randomId, tabLock } from './wire.js';

/** @type {Hub | null} */
let hub = null;
/** @type {Map<string, MessagePort>} */
const ports = new Map();
const scope = /** @type {any} */ (globalThis);

/** @param {string} tab */
function drop(tab) {
  ports.get(tab)?.close();
  ports.delete(tab);
}

/** @param {any} hi the first tab's hello: its name, URL and portable options */
function createHub(hi) {
  const name = String(hi.name);
  return new Hub({
    id: randomId(),
    client: new HalleyClient(String(hi.url), { ...hi.options, document: null }),
    send: (/** @type {any} */ m) => {
      const targets = typeof m.tab === 'string' ? [m.tab] : Array.isArray(m.tabs) ? m.tabs : [...ports.keys()];
      for (const tab of targets) ports.get(tab)?.postMessage(m);
    },
    // A tab's lock comes free when it closes, however it closes: only then is this request granted.
    watch: (tab, gone) => {
      scope.navigator?.locks?.request(tabLock(name, tab), () => { gone(); drop(tab); }).catch(() => {});
    },
  });
}

scope.onconnect = (/** @type {MessageEvent} */ event) => {
  const port = event.ports[0];
  port.onmessage = (e) => {
    const m = e.data;
    if (!m || typeof m.tab !== 'string') return;
    if (m.t === 'hi') {
      hub ??= createHub(m);
      ports.set(m.tab, port);
    } else if (ports.get(m.tab) !== port || m.hub !== hub?.id) {
      return;
    }
    /** @type {Hub} */ (hub).receive(m.tab, m);
    if (m.t === 'detach') drop(m.tab);
  };
  port.start();
};
