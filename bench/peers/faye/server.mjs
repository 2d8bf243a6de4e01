// Benchmark peer: a stock Faye 1.4.3 server, configured as its documentation shows.
// Usage: node server.mjs PORT   → Bayeux endpoint at http://127.0.0.1:PORT/faye (WebSocket, EventSource,
// long-polling, callback-polling), in-memory engine, 20 s long-poll timeout.
import http from 'node:http';
import faye from 'faye';

const port = Number.parseInt(process.argv[2] ?? '', 10);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error('usage: node server.mjs PORT');
  process.exit(2);
}

const bayeux = new faye.NodeAdapter({ mount: '/faye', timeout: 20 });
const server = http.createServer((request, response) => {
  // Everything Faye does not handle (it handles /faye and /faye/*) is a 404.
  response.writeHead(404, { 'Content-Type': 'text/plain' });
  response.end('not found\n');
});
bayeux.attach(server);

server.listen(port, '127.0.0.1', () => {
  console.log(`Now listening on: http://127.0.0.1:${port}`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
