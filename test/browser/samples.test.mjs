// The samples of `halley serve` (/samples/chat/, /samples/ticker/), served by Halley itself, in real Chromium: two
// chat pages see each other in who-is-here and exchange messages, a page that joins later gets the room's recent
// history; the ticker shows the simulated feed's quotes and its update rate; the start page links to both.
// Screenshots go to .test-output/screenshots/ (chat.png, ticker.png; start-page.test.mjs takes start-page.png).
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { exitWhenIdle, startServer } from '../interop/harness.mjs';
import { launchChromium } from './browser.mjs';

const WAIT_MS = 20_000;
const screenshots = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '.test-output', 'screenshots');

let server;
let browser;
const contexts = [];

before(async () => {
  // halley serve as users start it: the samples' defaults (the chat's history rule, the ticker's feed) included.
  server = await startServer([]);
  browser = await launchChromium();
  await mkdir(screenshots, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  exitWhenIdle();
});

/** Opens `urlPath` of the server in a fresh browser context (its own cookies: a separate visitor), page errors recorded. */
async function open(urlPath) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
  contexts.push(context);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  await page.goto(`${server.base}${urlPath}`);
  return { page, errors };
}

const ready = (page) => page.waitForFunction(() => document.body.dataset.ready === 'true', null, { timeout: WAIT_MS });
const texts = (page, selector) => page.$$eval(selector, (elements) => elements.map((e) => e.textContent));

/** Waits until the page's who-is-here list is exactly `names` (sorted). */
async function waitForMembers(page, names, timeout = WAIT_MS) {
  await page.waitForFunction(
    (expected) => JSON.stringify([...document.querySelectorAll('#members li')].map((e) => e.textContent)) === JSON.stringify(expected),
    names, { timeout },
  ).catch(async (e) => {
    e.message += `\nwho-is-here shows ${JSON.stringify(await texts(page, '#members li'))}, expected ${JSON.stringify(names)}`;
    throw e;
  });
}

/** Waits until a message with `text` is in the page's list. */
async function waitForMessage(page, text) {
  await page.waitForFunction(
    (t) => [...document.querySelectorAll('#messages li .text')].some((e) => e.textContent === t),
    text, { timeout: WAIT_MS },
  );
}

async function say(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

/** Runs `body`; a failure carries what the pages logged and the server's output. */
async function withDiagnostics(pages, body) {
  try {
    await body();
    for (const { errors } of pages) assert.deepEqual(errors, []);
  } catch (e) {
    e.message += `\n${pages.flatMap((p) => p.errors).join('\n')}\n--- server output (tail) ---\n${server.output().slice(-3000)}`;
    throw e;
  } finally {
    while (contexts.length > 0) await contexts.pop().close();
  }
}

test('two chat pages see each other, exchange messages, and a joiner gets the recent history', { timeout: 120_000 }, async () => {
  const room = `room-${process.pid}`;
  const alice = await open(`/samples/chat/?room=${room}&name=alice`);
  const bob = await open(`/samples/chat/?room=${room}&name=bob`);
  const pages = [alice, bob];
  await withDiagnostics(pages, async () => {
    await ready(alice.page);
    await ready(bob.page);
    assert.equal(await alice.page.textContent('#room'), room);
    await waitForMembers(alice.page, ['alice (you)', 'bob']);
    await waitForMembers(bob.page, ['alice', 'bob (you)']);

    await say(alice.page, 'hello from alice');
    await waitForMessage(bob.page, 'hello from alice');
    await say(bob.page, 'hi alice, bob here');
    await waitForMessage(alice.page, 'hi alice, bob here');
    await waitForMessage(bob.page, 'hi alice, bob here');
    assert.deepEqual(await texts(alice.page, '#messages li .name'), ['alice', 'bob']);

    // A third visitor arrives after the conversation: the room's history shows it, in order, marked as past,
    // and everyone sees the newcomer.
    const carol = await open(`/samples/chat/?room=${room}&name=carol`);
    pages.push(carol);
    await ready(carol.page);
    assert.deepEqual(await texts(carol.page, '#messages li.past .text'), ['hello from alice', 'hi alice, bob here']);
    await waitForMembers(carol.page, ['alice', 'bob', 'carol (you)']);
    await waitForMembers(alice.page, ['alice (you)', 'bob', 'carol']);
    await say(carol.page, 'carol joined late');
    await waitForMessage(alice.page, 'carol joined late');
    await waitForMessage(bob.page, 'carol joined late');
    // Each message once on every page, though the history and the live subscription overlap.
    assert.deepEqual(await texts(bob.page, '#messages li .text'), ['hello from alice', 'hi alice, bob here', 'carol joined late']);
    // The latecomer's page shows it all: the history (dimmed, above the divider), the live message, three here.
    await carol.page.screenshot({ path: path.join(screenshots, 'chat.png') });

    // Bob leaves: the others' lists drop him. His page says "leave" as it goes; were that lost, the page's expiry
    // (25 s without a word, checked every 10 s) would drop him too, hence the longer wait.
    await bob.page.close({ runBeforeUnload: true });
    await waitForMembers(alice.page, ['alice (you)', 'carol'], 45_000);
  });
});

test('the ticker page shows the simulated feed with up/down moves and its update rate', { timeout: 90_000 }, async () => {
  const ticker = await open('/samples/ticker/');
  await withDiagnostics([ticker], async () => {
    await ready(ticker.page);
    // The feed publishes 20 updates/s over 10 symbols (halley serve's defaults): within a few seconds every symbol
    // has a price and the rate reads above zero.
    await ticker.page.waitForFunction(
      () => Number(document.getElementById('count').textContent) >= 40 && Number(document.getElementById('rate').textContent) > 0
        && document.querySelectorAll('#quotes tbody tr').length === 10,
      null, { timeout: WAIT_MS },
    );
    const prices = await texts(ticker.page, '#quotes tbody td.price');
    assert.ok(prices.every((p) => /^\d+\.\d\d$/.test(p)), `prices ${JSON.stringify(prices)}`);
    const symbols = await texts(ticker.page, '#quotes tbody td.symbol');
    assert.deepEqual(symbols, [...symbols].sort(), 'rows are in symbol order');
    // Prices move: a row flashes up or down as its quote changes.
    await ticker.page.waitForFunction(() => document.querySelector('#quotes tr.up, #quotes tr.down') !== null, null, { timeout: WAIT_MS });
    const rate = Number(await ticker.page.textContent('#rate'));
    assert.ok(rate > 1 && rate < 100, `a rate near the feed's 20/s, read ${rate}`);
    assert.match(await ticker.page.textContent('#state'), /^connected over /);
    await ticker.page.screenshot({ path: path.join(screenshots, 'ticker.png') });
  });
});

test('the start page links to the samples', { timeout: 60_000 }, async () => {
  const start = await open('/');
  await withDiagnostics([start], async () => {
    await ready(start.page);
    await start.page.click('#samples a[href="/samples/ticker/"]');
    await start.page.waitForURL(`${server.base}/samples/ticker/`, { timeout: WAIT_MS });
    await ready(start.page);
    await start.page.goBack();
    await start.page.click('#samples a[href="/samples/chat/"]');
    await start.page.waitForURL(`${server.base}/samples/chat/`, { timeout: WAIT_MS });
    await ready(start.page);
    assert.equal(await start.page.textContent('#room'), 'lobby');
  });
});
