// The npm package as a contract: its types check, it packs exactly its modules, it has no runtime dependency,
// it exports what index.d.ts declares, and it stays small.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));

/** Every module of the client: halley.js and halley/**.js, relative to the package root. */
async function modules() {
  const found = ['halley.js'];
  for (const entry of await readdir(path.join(root, 'halley'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.js')) found.push(path.relative(root, path.join(entry.parentPath ?? entry.path, entry.name)));
  }
  return found.sort();
}

test('tsc --noEmit: the JSDoc of every module and index.d.ts (with the README example) check', { timeout: 120_000 }, async () => {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = await run(process.execPath, [tsc, '--noEmit', '-p', root]).catch((e) => e);
  assert.equal(result.code ?? 0, 0, `tsc failed:\n${result.stdout}${result.stderr}`);
});

test('npm pack holds exactly the modules, the types, the README and package.json', { timeout: 60_000 }, async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
  const files = JSON.parse(stdout)[0].files.map((f) => f.path).sort();
  assert.deepEqual(files, [...(await modules()), 'README.md', 'index.d.ts', 'package.json'].sort());
});

test('no runtime dependency; the exports map points at the module and its types', () => {
  assert.equal(pkg.dependencies, undefined);
  assert.equal(pkg.type, 'module');
  assert.deepEqual(pkg.exports['.'], { types: './index.d.ts', default: './halley.js' });
  assert.equal(pkg.types, './index.d.ts');
});

test('the package exports by name exactly what index.d.ts declares', async () => {
  const exported = Object.keys(await import(pkg.name)).sort();
  const declarations = await readFile(path.join(root, 'index.d.ts'), 'utf8');
  const declared = [...declarations.matchAll(/^export (?:declare )?(?:class|function|const) (\w+)/gm)].map((m) => m[1]).sort();
  assert.deepEqual(exported, declared);
});

/** The modules reachable from halley.js by static imports: what every page loads (dynamic import()s excluded). */
async function staticGraph() {
  const seen = new Set();
  const visit = async (m) => {
    if (seen.has(m)) return;
    seen.add(m);
    const text = await readFile(path.join(root, m), 'utf8');
    for (const [, specifier] of text.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) {
      await visit(path.relative(root, path.resolve(path.dirname(path.join(root, m)), specifier)));
    }
  };
  await visit('halley.js');
  return [...seen].sort();
}

const gzipped = async (files) => gzipSync((await Promise.all(files.map((m) => readFile(path.join(root, m))))).reduce((a, b) => Buffer.concat([a, b])), { level: 9 }).length;

test('size budget: what a page loads, gzipped as served (comments included), under 19 kB; the modules of tab sharing, loaded on demand, under 9 kB', async () => {
  const loaded = await staticGraph();
  assert.ok(loaded.includes('halley/client.js') && !loaded.includes('halley/shared/tab.js'), loaded.join(', '));
  const size = await gzipped(loaded);
  assert.ok(size < 19 * 1024, `${size} bytes gzipped`);
  const onDemand = (await modules()).filter((m) => !loaded.includes(m));
  assert.ok(onDemand.includes('halley/shared/hub.js'), onDemand.join(', '));
  const shared = await gzipped(onDemand);
  assert.ok(shared < 9 * 1024, `${shared} bytes gzipped`);
});

test('the modules use no Node built-in and import only each other', async () => {
  for (const m of await modules()) {
    const text = await readFile(path.join(root, m), 'utf8');
    for (const [, specifier] of text.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) {
      assert.ok(specifier.startsWith('./') || specifier.startsWith('../'), `${m} imports ${specifier}`);
    }
  }
});
