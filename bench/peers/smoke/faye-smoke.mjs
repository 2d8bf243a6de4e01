// Smoke test for the Faye peer with the official faye client (from ../faye/node_modules):
// N WebSocket subscribers on /room/1, M publishes, every message must reach every subscriber.
// Usage: node faye-smoke.mjs URL [SUBSCRIBERS=100] [PUBLISHES=100]   (URL like http://127.0.0.1:PORT/faye)
import { createRequire } from 'node:module';

const require = createRequire(new URL('../faye/package.json', import.meta.url));
const faye = require('faye');

const url = process.argv[2];
const subscribers = Number(process.argv[3] ?? 100);
const publishes = Number(process.argv[4] ?? 100);
const channel = '/room/1';
const expected = subscribers * publishes;
let delivered = 0;
let malformed = 0;
const seen = new Array(publishes).fill(0);

const deadline = setTimeout(() => finish('timed out'), 60_000);
const clients = [];

function finish(reason) {
  clearTimeout(deadline);
  const complete = seen.every((n) => n === subscribers);
  console.log(`faye: delivered ${delivered}/${expected}, malformed ${malformed}, every message to every subscriber: ${complete} (${reason})`);
  for (const client of clients) client.disconnect();
  setTimeout(() => process.exit(complete && delivered === expected && malformed === 0 ? 0 : 1), 200);
}

const started = Date.now();
const subscriptions = [];
for (let i = 0; i < subscribers; i++) {
  const client = new faye.Client(url, { timeout: 30 });
  client.disable('autodisconnect');
  clients.push(client);
  const subscription = client.subscribe(channel, (message) => {
    if (typeof message?.n !== 'number' || message.text !== 'héllo /room/1' || message.n < 0 || message.n >= publishes) {
      malformed++;
      return;
    }
    seen[message.n]++;
    if (++delivered === expected) finish(`all delivered ${Date.now() - publishStarted} ms after the first publish`);
  });
  subscriptions.push(new Promise((resolve, reject) => subscription.then(resolve, reject)));
}

let publishStarted = 0;
await Promise.all(subscriptions);
console.log(`faye: ${subscribers} subscribed in ${Date.now() - started} ms (transport of the first: ${await transportOf(clients[0])})`);

const publisher = new faye.Client(url);
clients.push(publisher);
publishStarted = Date.now();
const inFlight = [];
for (let n = 0; n < publishes; n++) {
  inFlight.push(new Promise((resolve, reject) => publisher.publish(channel, { n, text: 'héllo /room/1' }).then(resolve, reject)));
}
await Promise.all(inFlight);
console.log(`faye: published ${publishes} in ${Date.now() - publishStarted} ms`);

function transportOf(client) {
  return new Promise((resolve) => client.connect(() => resolve(client._dispatcher._transport?.connectionType ?? 'unknown')));
}
