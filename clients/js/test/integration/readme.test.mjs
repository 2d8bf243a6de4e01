// The README's Node example, run as written against a real server (only its URL changed to the test server's).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { exitWhenIdle, startServer } from './network.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
let server;

before(async () => { server = await startServer([]); });
after(async () => { await server?.stop(); exitWhenIdle(); });

test("the README's Node example runs and prints what it says", { timeout: 60_000 }, async () => {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const block = /```js\n(\/\/ example\.mjs\n[\s\S]*?)```/.exec(readme);
  assert.ok(block, 'the README has the // example.mjs block');
  assert.ok(block[1].includes("'http://localhost:8080/cometd'"));
  // Inside the package folder, so `halley-client` resolves to this package and `ws` to its devDependency.
  const file = path.join(here, `.readme-example-${process.pid}.mjs`);
  await writeFile(file, block[1].replace("'http://localhost:8080/cometd'", `'${server.url}'`));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 30_000 });
    const lines = stdout.trim().split('\n');
    assert.equal(lines[0], 'connected over websocket');
    // The event and the call's reply travel independently: either may print first.
    assert.deepEqual(lines.slice(1).sort(), ['/demo/a { n: 1 } null', 'pong']);
  } finally {
    await rm(file, { force: true });
  }
});
