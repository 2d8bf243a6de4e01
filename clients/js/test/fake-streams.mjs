// The fake server of fakes.mjs with Faye's eventsource streams, and a proxy in front of them that may buffer:
// what a stream carries is then held until the stream ends, as nginx does with buffering on and its
// X-Accel-Buffering header ignored. The stream-sense unit tests drive it on fake time.
import { FakeServer } from './fakes.mjs';

const encoder = new TextEncoder();

export class StreamingFakeServer extends FakeServer {
  /** 'ok'; 'buffered': no byte of a stream passes until it ends; 'buffered-unless-padded': so, unless ?pad= */
  eventsource = 'ok';
  /** @type {{ url: URL, padded: boolean, carrier: any }[]} every stream opened, in order */
  streams = [];

  /** fetch, serving GET <endpoint>/<clientId> with Accept: text/event-stream as the real server does. */
  get fetch() {
    const polling = super.fetch;
    return async (url, init = {}) => {
      if (init.headers?.accept !== 'text/event-stream') return polling(url, init);
      if (this.http !== 'ok') throw new TypeError('fetch failed');
      const u = new URL(url);
      const session = this.sessions.get(decodeURIComponent(u.pathname.split('/').pop()));
      if (!session) return new Response('Unknown client id', { status: 404 });
      const padded = u.searchParams.has('pad');
      const held = this.eventsource === 'buffered' || (this.eventsource === 'buffered-unless-padded' && !padded);
      let controller;
      const body = new ReadableStream({ start(c) { controller = c; } });
      const holding = [];
      const carrier = {
        readyState: 1,
        write(text) {
          if (held) holding.push(text);
          else controller.enqueue(encoder.encode(text));
        },
        push(batch) { this.write(`data: ${JSON.stringify(batch)}\n\n`); },
        /** The server ends the stream (another took the session over): the proxy passes on what it held. */
        release() {
          if (this.readyState !== 1) return;
          this.readyState = 3;
          for (const text of holding.splice(0)) controller.enqueue(encoder.encode(text));
          controller.close();
        },
        /** The connection breaks: what the proxy held is lost. */
        fail() {
          if (this.readyState !== 1) return;
          this.readyState = 3;
          controller.error(new TypeError('the stream broke'));
        },
      };
      init.signal?.addEventListener('abort', () => carrier.fail(), { once: true });
      this.streams.push({ url: u, padded, carrier });
      // A new stream takes the session over, and whatever waits in its queue.
      session.carrier?.release?.();
      session.carrier = carrier;
      carrier.write(':open\n\n');
      if (session.queue.length > 0) carrier.push(session.queue.splice(0));
      return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
    };
  }

  /** Breaks every open stream. */
  failStreams() {
    for (const { carrier } of this.streams) carrier.fail();
  }

  /**
   * As the real server: an eventsource connect is answered at once (advised to wait before the next) and leaves the
   * stream in place; a polling connect releases it.
   */
  handle(batch, carrier) {
    const streams = new Map();
    for (const message of batch) {
      const session = message.channel === '/meta/connect' ? this.sessions.get(message.clientId) : undefined;
      if (session?.carrier?.release) streams.set(message.id, [session, session.carrier, message.connectionType]);
    }
    const asHandled = batch.map((m) => (m.channel === '/meta/connect' && m.connectionType === 'eventsource' ? { ...m, advice: { timeout: 0 } } : m));
    const result = super.handle(asHandled, carrier);
    for (const reply of result.replies) {
      const stream = streams.get(reply.id);
      if (reply.channel !== '/meta/connect') continue;
      if (batch.find((m) => m.id === reply.id)?.connectionType === 'eventsource') reply.advice = { reconnect: 'retry', interval: 30_000, timeout: 0 };
      if (!stream) continue;
      const [session, previous, type] = stream;
      if (type === 'eventsource') session.carrier = previous;
      else previous.release();
    }
    return result;
  }
}
