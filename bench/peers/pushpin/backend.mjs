// GRIP backend for the Pushpin peer (Node, no dependencies). Pushpin proxies every client request here:
//   GET /ws?channel=x      (WebSocket-over-HTTP, route option over_http) → accept, subscribe the socket to x
//   GET /stream?channel=x  (plain HTTP) → Grip-Hold: stream, Grip-Channel: x (newline-delimited payloads)
//   POST /publish?channel=x → forwards the body to Pushpin's publish API (control port) as one item with both
//                             formats, ws-message and http-stream, so the same URLs as the Kestrel floor peer work.
// Usage: node backend.mjs BACKEND_PORT CONTROL_PORT
import http from 'node:http';

const port = Number.parseInt(process.argv[2] ?? '', 10);
const controlPort = Number.parseInt(process.argv[3] ?? '', 10);
if (!Number.isInteger(port) || !Number.isInteger(controlPort)) {
  console.error('usage: node backend.mjs BACKEND_PORT CONTROL_PORT');
  process.exit(2);
}

const controlAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

// WebSocket-over-HTTP events: "TYPE[ hexlen]\r\n[content\r\n]".
function parseEvents(body) {
  const events = [];
  let offset = 0;
  for (let guard = 0; guard < 100_000 && offset < body.length; guard++) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const line = body.subarray(offset, lineEnd).toString('latin1');
    offset = lineEnd + 2;
    const space = line.indexOf(' ');
    const type = space < 0 ? line : line.slice(0, space);
    let content = Buffer.alloc(0);
    if (space >= 0) {
      const length = Number.parseInt(line.slice(space + 1), 16);
      content = body.subarray(offset, offset + length);
      offset += length + 2;
    }
    events.push({ type, content });
  }
  return events;
}

function event(type, content) {
  if (content === undefined) return `${type}\r\n`;
  const bytes = Buffer.from(content, 'utf8');
  return `${type} ${bytes.length.toString(16)}\r\n${content}\r\n`;
}

async function handleWebSocketEvents(request, response, channel) {
  const events = parseEvents(await readBody(request));
  let out = '';
  for (const { type } of events) {
    if (type === 'OPEN') {
      out += event('OPEN');
      out += event('TEXT', 'c:' + JSON.stringify({ type: 'subscribe', channel }));
    } else if (type === 'CLOSE') {
      out += event('CLOSE', '');
    } else if (type === 'PING') {
      out += event('PONG');
    }
    // TEXT/BINARY from clients: nothing to say.
  }
  response.writeHead(200, {
    'Content-Type': 'application/websocket-events',
    'Sec-WebSocket-Extensions': 'grip',
  });
  response.end(out);
}

function publish(channel, payload) {
  const text = payload.toString('utf8');
  const body = JSON.stringify({
    items: [{ channel, formats: { 'ws-message': { content: text }, 'http-stream': { content: text + '\n' } } }],
  });
  return new Promise((resolve, reject) => {
    const forward = http.request(
      {
        host: '127.0.0.1',
        port: controlPort,
        path: '/publish/',
        method: 'POST',
        agent: controlAgent,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (answer) => {
        answer.resume();
        answer.on('end', () => resolve(answer.statusCode ?? 502));
      },
    );
    forward.on('error', reject);
    forward.end(body);
  });
}

const server = http.createServer(async (request, response) => {
  try {
    const url = new URL(request.url ?? '/', 'http://backend');
    const channel = url.searchParams.get('channel');
    if (url.pathname === '/ws' && (request.headers['content-type'] ?? '').startsWith('application/websocket-events') && channel) {
      await handleWebSocketEvents(request, response, channel);
    } else if (url.pathname === '/stream' && request.method === 'GET' && channel) {
      response.writeHead(200, { 'Content-Type': 'text/plain', 'Grip-Hold': 'stream', 'Grip-Channel': channel });
      response.end();
    } else if (url.pathname === '/publish' && request.method === 'POST' && channel) {
      const status = await publish(channel, await readBody(request));
      response.writeHead(status >= 200 && status < 300 ? 200 : 502);
      response.end();
    } else {
      response.writeHead(404);
      response.end();
    }
  } catch (error) {
    response.writeHead(500);
    response.end(String(error));
  }
});

server.listen(port, '127.0.0.1');

// Started by start.sh, which then execs pushpin: end with our parent (one shared timer, not per connection).
// process.ppid is read once at start-up, so ask whether that process still exists.
const parent = process.ppid;
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    process.exit(0);
  }
}, 1000).unref();
