// A real nginx in front of a test server, for the Node and browser tests: on a free loopback port, as the current
// user, with its own prefix and temp directories, `daemon off`, its error log in a file, killed by stop(). Its
// server block is the first ```nginx block of docs/deployment.md with only the addresses changed, then the lines
// a test names (as test/Halley.FunctionalTests/Proxy/Nginx.cs does for the .NET tests).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/**
 * Buffering on, X-Accel-Buffering (Halley's "no") ignored, and the upstream read as HTTP/1.0: nginx then holds a
 * stream in full buffers (with an HTTP/1.1 upstream it passes each chunk at once even when buffering), even its
 * response head.
 */
export function bufferingIgnoringTheHeader(config) {
  return replace(replace(config, 'proxy_buffering off;', 'proxy_buffering on;\n        proxy_ignore_headers X-Accel-Buffering;'),
    'proxy_http_version 1.1;', 'proxy_http_version 1.0;');
}

/**
 * As bufferingIgnoringTheHeader, with buffers larger than a padded stream's first write (the open event and 8 KiB
 * of padding): padding does not push a stream through it, long-polling still works.
 */
export function bufferingPastPadding(config) {
  return replace(bufferingIgnoringTheHeader(config), 'proxy_cache off;',
    'proxy_cache off;\n        proxy_buffer_size 64k;\n        proxy_buffers 8 64k;\n        proxy_busy_buffers_size 128k;');
}

/**
 * Passes the Host header with its port: a page on nginx's origin (127.0.0.1:<port>) sends that Origin, which the
 * server checks against its Host; the documented `$host` drops the port (fine on 80 and 443, not on a test port).
 */
export function keepingThePort(config) {
  return replace(config, 'proxy_set_header Host $host;', 'proxy_set_header Host $http_host;');
}

function replace(config, from, to) {
  if (!config.includes(from)) throw new Error(`the nginx config has no "${from}"`);
  return config.replace(from, to);
}

function findNginx() {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((d) => path.join(d, 'nginx')).find((p) => existsSync(p)) ?? null;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts nginx in front of `upstream` (a server of the harness), its documented config changed by `edit`.
 * @returns {Promise<{ base: string, url: string, errorLog: () => Promise<string>, stop: () => Promise<void> }>}
 */
export async function startNginx(upstream, edit = (c) => c) {
  const binary = findNginx();
  if (!binary) throw new Error('nginx is not installed (test.sh installs it: apt-get install -y nginx)');
  const doc = await readFile(path.join(repo, 'docs', 'deployment.md'), 'utf8');
  const block = /```nginx\n([\s\S]*?)```/.exec(doc);
  if (!block) throw new Error('docs/deployment.md has no ```nginx block');
  const { hostname, port: upstreamPort } = new URL(upstream.base);
  const port = await freePort();
  let config = replace(block[1], 'server 127.0.0.1:8080;', `server ${hostname}:${upstreamPort};`);
  config = edit(replace(config, 'listen 80;', `listen 127.0.0.1:${port};`));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'halley-nginx-'));
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  await writeFile(path.join(dir, 'nginx.conf'), `${root ? 'user root;\n' : ''}daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
${config}
}
`);
  // Its own process group: killing the group ends the master and its worker together.
  const child = spawn(binary, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], { stdio: 'ignore', detached: true });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const killOnExit = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);
  const errorLog = () => readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
  const stop = async () => {
    process.off('exit', killOnExit);
    const running = child.exitCode === null && child.signalCode === null;
    killOnExit();
    if (running) await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = await errorLog();
      await stop();
      throw new Error(`nginx did not start listening on ${port}: ${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const base = `http://127.0.0.1:${port}`;
  return { base, url: `${base}/cometd`, errorLog, stop };
}
