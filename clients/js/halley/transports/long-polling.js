// long-polling: every batch is a POST of a JSON array; the answer holds the replies, then queued events.
import { HttpTransport, parseBatch } from './http.js';

export class LongPollingTransport extends HttpTransport {
  /** @type {string} */
  name = 'long-polling';

  /**
   * Sends a batch; its answer is handed to the sink. Rejects when the request fails.
   * @param {any[]} messages
   */
  async send(messages) {
    const body = await this.http.text(this.env.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json;charset=UTF-8' },
      body: JSON.stringify(messages),
    });
    this.sink.onMessages(parseBatch(body));
  }
}
