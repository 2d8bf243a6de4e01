// CometD's CallbackPollingTransport (JSONP over GET ?message=…&jsonp=…). The stock transport
// needs a DOM (window.document) that Node does not have; callback-polling.mjs supplies the one
// browser step it needs, a script load, and keeps the rest of CometD's transport.
import assert from 'node:assert/strict';
import { scenario, standardScenarios, useServer } from './scenarios.mjs';

const server = useServer();
standardScenarios('cometd', 'callback-polling', server);

scenario('callback-polling answers are JavaScript that calls the named callback', server, async (ctx) => {
  const c = await ctx.open('cometd', 'callback-polling', 'jsonp');
  const { exchanges } = c.cometd.findTransport('callback-polling');
  assert.ok(exchanges.length >= 2, 'expected the handshake and the first /meta/connect');
  for (const e of exchanges) {
    const callback = new URL(e.url).searchParams.get('jsonp');
    assert.equal(e.status, 200, `${e.url}: HTTP ${e.status}`);
    // Browsers refuse to run a script served with a non-script type under nosniff.
    assert.match(e.contentType ?? '', /^(text|application)\/(javascript|x-javascript|ecmascript)\b/, `${e.url}: Content-Type ${e.contentType}`);
    assert.ok(e.body.includes(`${callback}(`), `${e.url}: body does not call ${callback}: ${e.body.slice(0, 200)}`);
  }
  c.assertTransportUsed();
});
