// Test harness: starts one real Halley server process, and small helpers to wait on events.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
export const DEFAULT_DLL = path.join(repo, 'src', 'Halley.Server', 'bin', 'Release', 'net10.0', 'Halley.Server.dll');

const STARTUP_TIMEOUT_MS = 30_000;
const OUTPUT_CAP = 256 * 1024;

/**
 * Starts `dotnet <HALLEY_SERVER_DLL> --urls http://127.0.0.1:0 [args…]` and resolves once the server
 * printed "Now listening on: http://127.0.0.1:<port>".
 * @param {string[]} [args] extra command-line settings, e.g. `--Halley:MaxConnectionLifetime=00:00:02`
 * @returns {Promise<{url: string, base: string, output: () => string, stop: () => Promise<void>, kill: () => Promise<void>}>}
 */
export async function startServer(args = []) {
  const dll = process.env.HALLEY_SERVER_DLL || DEFAULT_DLL;
  if (!existsSync(dll)) {
    throw new Error(`Halley server not found at ${dll}: build it (dotnet build src/Halley.Server -c Release) or set HALLEY_SERVER_DLL`);
  }
  const child = spawn('dotnet', [dll, '--urls', 'http://127.0.0.1:0', ...args], {
    cwd: path.dirname(dll),
    env: { ...process.env, DOTNET_NOLOGO: '1', 'Logging__LogLevel__Microsoft.Hosting.Lifetime': 'Information' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk) => {
    output += chunk.toString('utf8');
    if (output.length > OUTPUT_CAP) output = output.slice(output.length - OUTPUT_CAP);
    if (process.env.HALLEY_INTEROP_VERBOSE) process.stderr.write(`[server] ${chunk}`);
  };
  // Keep draining both pipes for the whole life of the process, so it never blocks on a full pipe.
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // Never leave the server behind, even when this process ends without running the after hooks.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const onSignal = {};
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    onSignal[sig] = () => { killOnExit(); process.exit(128 + (sig === 'SIGHUP' ? 1 : sig === 'SIGINT' ? 2 : 15)); };
    process.once(sig, onSignal[sig]);
  }
  // Once the server is gone there is nothing to kill: a file that starts many servers does not pile up listeners.
  exited.then(() => {
    process.off('exit', killOnExit);
    for (const [sig, handler] of Object.entries(onSignal)) process.off(sig, handler);
  });

  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Halley server did not print "Now listening on:" within ${STARTUP_TIMEOUT_MS} ms. Output:\n${output}`));
    }, STARTUP_TIMEOUT_MS);
    const onData = () => {
      const m = /Now listening on:\s*(http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.once('error', (e) => { clearTimeout(timer); reject(new Error(`Could not start dotnet: ${e.message}`)); });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`Halley server exited (code ${code}, signal ${signal}) before listening. Output:\n${output}`));
    });
  });

  return {
    base,
    url: `${base}/cometd`,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(t);
    },
    /** Ends the server at once (SIGKILL), as a crash would: no connection is closed cleanly. */
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Waits for a promise, or for a predicate to become truthy, rejecting after `ms` with a clear message.
 * @template T
 * @param {Promise<T> | (() => T)} cond
 * @param {number} ms
 * @param {string} what what is awaited, for the error message
 * @returns {Promise<T>}
 */
export function waitFor(cond, ms, what) {
  return new Promise((resolve, reject) => {
    let poll;
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`Timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const done = (fn, v) => { clearTimeout(timer); clearInterval(poll); fn(v); };
    if (typeof cond === 'function') {
      const check = () => {
        try {
          const v = cond();
          if (v) done(resolve, v);
        } catch (e) {
          done(reject, e);
        }
      };
      poll = setInterval(check, 10);
      check();
    } else {
      Promise.resolve(cond).then((v) => done(resolve, v), (e) => done(reject, e));
    }
  });
}

let counter = 0;
/** A channel prefix unique within this process, so tests never see each other's messages. */
export function uniquePrefix(tag) {
  counter += 1;
  return `/it/${tag.replace(/[^a-z0-9]+/gi, '-')}-${counter}`;
}

/**
 * Safety net: if clients left timers running after a file's tests (for example because the
 * server died mid-test), end the process a few seconds after everything else is done.
 */
export function exitWhenIdle(ms = 5_000) {
  setTimeout(() => process.exit(), ms).unref();
}

/**
 * JSON for an assertion message. A client's failure reply can hold live objects (CometD puts its timer in
 * one), which plain JSON.stringify rejects as circular, hiding the real failure behind a TypeError.
 * @param {unknown} value
 * @returns {string}
 */
export function asJson(value) {
  const seen = new WeakSet();
  return JSON.stringify(value, (key, v) => {
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    return v;
  });
}

/**
 * Publishes through the server's HTTP API (`POST /api/publish`), as a backend would.
 * @param {{base: string}} server a server from startServer
 * @param {string} channel
 * @param {unknown} data
 * @returns {Promise<string|null>} the message's position, null when its channel keeps no history
 */
export async function publishViaApi(server, channel, data) {
  const response = await fetch(`${server.base}/api/publish`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ channel, data }),
  });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`POST /api/publish answered ${response.status}: ${body}`);
  return JSON.parse(body).position;
}
