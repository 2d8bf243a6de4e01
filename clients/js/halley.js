// Halley's JavaScript client: one API over WebSocket, eventsource, long-polling and callback-polling, with
// fallback, reconnect and recovery. An ES module with no dependencies; the server serves it at /halley.js.
export { HalleyClient, HalleyError, Subscription } from './halley/client.js';
export { backoffDelay } from './halley/backoff.js';
export { channelMatches } from './halley/channels.js';
export { TRANSPORTS } from './halley/transports/index.js';
export { TransportError } from './halley/transports/transport.js';
