// What every transport shares: the sink it reports to, and the error it fails with.

/**
 * @typedef {object} TransportSink what a transport reports to the client
 * @property {(messages: any[]) => void} onMessages Bayeux messages that arrived (replies and events, in order)
 * @property {(error: Error) => void} onLost the connection is gone (closed, failed or went silent)
 */

/**
 * @typedef {object} TransportEnv what the client gives its transports
 * @property {string} url the Bayeux endpoint, http(s)://…/cometd
 * @property {any} [WebSocket] a WebSocket constructor
 * @property {typeof fetch} [fetch]
 * @property {any} [document] the DOM document, for callback-polling's script elements
 * @property {Map<string, string>} [cookies] a cookie store, where the platform keeps none (Node)
 * @property {number} [streamSenseTimeout] ms a new event stream has to deliver its first byte (eventsource)
 * @property {number} [streamPadding] bytes of ?pad= asked for when a stream stayed silent (eventsource)
 * @property {(fn: () => void, ms: number) => any} [setTimeout] the client's timers (fakes in tests)
 * @property {(handle: any) => void} [clearTimeout]
 */

/** A transport's failure: the connection could not be opened, or was lost. */
export class TransportError extends Error {
  /**
   * @param {string} message
   * @param {{ cause?: unknown, status?: number, buffered?: boolean }} [details]
   */
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'TransportError';
    /** The HTTP status, when a response came. */
    this.status = details.status;
    /** Set when a stream stayed silent even padded (stream-sense): a proxy buffers it, polling is needed. */
    this.buffered = details.buffered === true;
  }
}
