// A TCP proxy on a free loopback port in front of a test server that passes every HTTP connection through but
// breaks WebSocket upgrades, as a corporate proxy or firewall does: 'refuse' answers the upgrade 403, 'silent'
// answers 101 Switching Protocols and then never passes a byte either way. For the Node and browser tests.
import { createHash } from 'node:crypto';
import net from 'node:net';

const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * @param {{ base: string }} upstream a server of the harness
 * @param {'refuse' | 'silent'} mode
 * @returns {Promise<{ base: string, url: string, upgrades: () => number, stop: () => Promise<void> }>}
 */
export async function startWebSocketBreaker(upstream, mode) {
  const { hostname, port } = new URL(upstream.base);
  const sockets = new Set();
  let upgrades = 0;
  const server = net.createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return; // the request line and headers are not all here yet
      client.off('data', onData);
      const headers = head.subarray(0, end).toString('latin1');
      if (/^upgrade:\s*websocket/im.test(headers)) {
        upgrades += 1;
        breakUpgrade(client, headers, mode);
        return;
      }
      const onward = net.connect(Number(port), hostname, () => {
        onward.write(head);
        client.pipe(onward);
        onward.pipe(client);
      });
      sockets.add(onward);
      onward.once('close', () => { sockets.delete(onward); client.destroy(); });
      client.once('close', () => onward.destroy());
      onward.on('error', () => client.destroy());
    };
    client.on('data', onData);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    url: `${base}/cometd`,
    upgrades: () => upgrades,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function breakUpgrade(client, headers, mode) {
  if (mode === 'refuse') {
    client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  const key = /^sec-websocket-key:\s*(\S+)/im.exec(headers)?.[1] ?? '';
  const accept = createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
  // The upgrade succeeds; from here on nothing passes, and what the client sends is swallowed.
  client.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  client.resume();
}
