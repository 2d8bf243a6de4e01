// Types of Halley's JavaScript client (halley.js). Checked against the JSDoc of the sources by `tsc --noEmit`.

/** The client's connection state. */
export type HalleyState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

/** A Bayeux connection type the client speaks. */
export type TransportName = 'websocket' | 'eventsource' | 'long-polling' | 'callback-polling';

/** Every connection type the client speaks, in its default order of preference. */
export const TRANSPORTS: readonly ['websocket', 'eventsource', 'long-polling', 'callback-polling'];

/** A message delivered to a subscription's handler. */
export interface HalleyMessage {
  /** The concrete channel it was published on (a subscription to a pattern learns which one here). */
  channel: string;
  data: any;
  /** Its position (opaque), when its channel keeps history; null otherwise. */
  position: string | null;
}

/** How the tabs of one origin share one connection (the `share` option). */
export interface ShareOptions {
  /** Tabs share when they use the same name (on the same origin). Default: the Bayeux endpoint's URL. */
  name?: string;
  /**
   * 'worker': a SharedWorker holds the connection; 'locks': the tab holding a Web Lock does, telling the others
   * over a BroadcastChannel, and the next tab takes over when it closes. Default 'auto': a SharedWorker where
   * there is one and the client is served from the page's origin, else Web Locks.
   */
  mode?: 'auto' | 'worker' | 'locks';
  /** A LockManager instead of navigator.locks, for tests. */
  locks?: unknown;
  /** A BroadcastChannel constructor instead of the global one, for tests. */
  BroadcastChannel?: unknown;
  /** A SharedWorker constructor instead of the global one, for tests. */
  SharedWorker?: unknown;
}

/** Which part of a shared connection a client plays: null until it is known, or when it does not share. */
export type SharingRole = 'worker' | 'leader' | 'follower' | null;

export interface HalleyClientOptions {
  /** The transports to try, in order. Default: websocket, eventsource, long-polling, callback-polling. */
  transports?: TransportName[];
  /** One transport only (no fallback). */
  transport?: TransportName;
  /** Reconnect delays in ms: each retry waits a random time between min/2 and min(max, min·2^attempt). Default 500 and 30,000. */
  backoff?: { min?: number; max?: number };
  /** How long a transport has to open and answer a handshake and a first connect before the next one is tried, in ms. Default 5,000. */
  connectTimeout?: number;
  /** How long a reply may take (beyond the server's hold time for a connect), in ms. Default 10,000. */
  requestTimeout?: number;
  /** How long a transport that failed while a later one worked is left out, in ms; then a reconnect, or a poll, tries it again. Default 60,000. */
  retryWebSocketAfter?: number;
  /**
   * Stream-sense: how long a new eventsource stream has to deliver its first byte (the server writes one at once),
   * in ms. A stream that stays silent is held by a buffering proxy: the client opens it again padded
   * (`streamPadding`), then, if that stays silent too, moves to long-polling, in the same session, losing nothing.
   * Keep it below `connectTimeout`. Default 4,000.
   */
  streamSenseTimeout?: number;
  /** Bytes of filler the server writes after each write of a padded event stream, to fill a proxy's buffer. Default 8,192. */
  streamPadding?: number;
  /**
   * Use CometD's ack extension: the server keeps each batch until the next connect acknowledges it, so a message
   * in flight when a connection drops (its session surviving) is sent again. Messages then travel only in connect
   * replies (a round trip per batch over WebSocket), and eventsource is not used. Default false.
   */
  acknowledge?: boolean;
  /**
   * A connection token (a JWT the backend signed), or a function returning one (or a promise of one). It is sent in
   * each handshake's `ext.auth.token`; when the server says the token expires soon (`ext.auth.refresh` on a connect
   * reply) the function is called again and the fresh token goes in the next connect. Default none (anonymous).
   */
  auth?: string | (() => string | null | Promise<string | null>) | null;
  /** The WebSocket constructor: the global one by default; pass the `ws` package's on Node 20. */
  WebSocket?: unknown;
  /** The fetch function: the global one by default. */
  fetch?: typeof fetch;
  /** The DOM document (callback-polling's script elements, visibilitychange); the global one by default, null for none. */
  document?: unknown;
  /** Where online and pageshow are listened for: the global window by default, null for none. */
  window?: { addEventListener(type: string, listener: () => void): void; removeEventListener(type: string, listener: () => void): void } | null;
  /** Timers, for tests: setTimeout, clearTimeout and now. */
  timers?: { setTimeout?: (fn: () => void, ms: number) => unknown; clearTimeout?: (handle: any) => void; now?: () => number };
  /** The random source of the backoff's jitter, for tests. Default Math.random. */
  random?: () => number;
  /**
   * Share one connection between the tabs of this origin (true, or how): subscriptions are counted over the tabs,
   * and when the tab holding the connection closes another takes over, resuming from the last position any tab
   * saw. Where nothing can share (no SharedWorker, no Web Locks), the client connects on its own. Default false.
   */
  share?: boolean | ShareOptions;
}

/** A refusal from the server (`error` holds the Bayeux error, e.g. `403:/a:refused_by_extension`), or a timeout. */
export class HalleyError extends Error {
  constructor(message: string, details?: { error?: string; channel?: string; cause?: unknown });
  error: string | undefined;
  channel: string | undefined;
}

/** A transport's failure: a connection that could not be opened, or was lost. */
export class TransportError extends Error {
  constructor(message: string, details?: { cause?: unknown; status?: number });
  status: number | undefined;
}

/** A subscription of the application. */
export class Subscription {
  private constructor();
  /** The channel or pattern subscribed to. */
  readonly channel: string;
  /** False when, after the last resume, what was missed could not be replayed: reload the state. */
  readonly recovered: boolean;
  /** The last position received on this channel or pattern (opaque), null before any. */
  readonly position: string | null;
  /** False once unsubscribed, or when the client disconnected. */
  active: boolean;
  handler: (data: any, message: HalleyMessage) => void;
  /** Stops the handler at once, and unsubscribes on the server when no other local subscription needs it. */
  unsubscribe(): Promise<void>;
}

export class HalleyClient {
  constructor(url: string, options?: HalleyClientOptions);
  readonly state: HalleyState;
  /** The connection type in use, null when none. */
  readonly transport: string | null;
  /** The session's client id, null when there is none. */
  readonly clientId: string | null;
  /** With `share`: 'worker', 'leader' or 'follower' (null until known); undefined on a client that does not share. */
  readonly sharing?: SharingRole;
  on(event: 'state', handler: (state: HalleyState) => void): () => void;
  on(event: 'resubscribe', handler: (subscription: Subscription, recovered: boolean) => void): () => void;
  off(event: string, handler: Function): void;
  /** Connects, retrying with backoff; idempotent. */
  connect(): Promise<void>;
  /** Ends the session, removes every page listener and timer; idempotent. */
  disconnect(): Promise<void>;
  /** `options.position`: resume from a position kept earlier; `recovered` says whether what followed was replayed. */
  subscribe(channel: string, handler: (data: any, message: HalleyMessage) => void, options?: { position?: string }): Promise<Subscription>;
  publish(channel: string, data: unknown): Promise<{ position: string | null }>;
  call(channel: string, data: unknown): Promise<any>;
}

/** The delay before reconnect attempt `attempt` (0 for the first retry), in ms. */
export function backoffDelay(attempt: number, bounds: { min: number; max: number }, random?: () => number): number;

/** Whether `channel` matches `pattern` (a name, `/a/*` or `/a/**`). */
export function channelMatches(pattern: string, channel: string): boolean;
