// The ticker sample: every quote of the simulated feed (/samples/ticker/{symbol}), with up/down flashes and the
// live update rate. Public client API only: one wildcard subscription.
import { HalleyClient } from '/halley.js';

const WINDOW_MS = 5_000;
const $ = (id) => document.getElementById(id);
/** @type {Map<string, { row: HTMLTableRowElement, updates: number }>} */
const rows = new Map();
/** Arrival times of the updates, oldest first; those before `first` are out of the window. */
let arrivals = [];
let first = 0;
const openedAt = performance.now();
let count = 0;

const client = new HalleyClient('/cometd');
client.on('state', (state) => {
  $('state').textContent = client.transport && state === 'connected' ? `connected over ${client.transport}` : state;
  $('state').dataset.state = state;
});
await client.connect();
await client.subscribe('/samples/ticker/*', onQuote);
setInterval(showRate, 500);
document.body.dataset.ready = 'true';

/** @param {any} quote */
function onQuote(quote) {
  if (!quote || typeof quote.symbol !== 'string' || typeof quote.price !== 'number') return;
  count += 1;
  arrivals.push(performance.now());
  let entry = rows.get(quote.symbol);
  if (!entry) entry = addRow(quote.symbol);
  entry.updates += 1;
  const cells = entry.row.cells;
  cells[1].textContent = quote.price.toFixed(2);
  setSigned(cells[2], quote.change, quote.change.toFixed(2));
  setSigned(cells[3], quote.changePercent, `${quote.changePercent.toFixed(2)} %`);
  cells[4].textContent = String(entry.updates);
  // Restart the flash: removing the class, reading layout, adding it again replays the CSS animation.
  entry.row.classList.remove('up', 'down');
  void entry.row.offsetWidth;
  if (quote.change !== 0) entry.row.classList.add(quote.change > 0 ? 'up' : 'down');
  $('count').textContent = String(count);
}

/** @param {string} symbol */
function addRow(symbol) {
  const row = document.createElement('tr');
  row.dataset.symbol = symbol;
  for (const className of ['symbol', 'num price', 'num', 'num', 'num']) {
    const cell = document.createElement('td');
    cell.className = className;
    row.append(cell);
  }
  row.cells[0].textContent = symbol;
  const entry = { row, updates: 0 };
  rows.set(symbol, entry);
  // Kept in symbol order, whatever order the first quotes come in.
  const tbody = $('quotes').tBodies[0];
  const next = [...tbody.rows].find((r) => (r.dataset.symbol ?? '') > symbol);
  tbody.insertBefore(row, next ?? null);
  $('symbols').textContent = String(rows.size);
  $('empty').hidden = true;
  return entry;
}

/**
 * @param {HTMLTableCellElement} cell
 * @param {number} value
 * @param {string} text
 */
function setSigned(cell, value, text) {
  cell.textContent = value > 0 ? `+${text}` : text;
  cell.classList.toggle('pos', value > 0);
  cell.classList.toggle('neg', value < 0);
}

function showRate() {
  const now = performance.now();
  while (first < arrivals.length && now - arrivals[first] > WINDOW_MS) first += 1;
  // Dropped in one go, not one shift() per update: the feed may send thousands a second.
  arrivals = arrivals.slice(first);
  first = 0;
  // Over the page's life until it is WINDOW_MS old, so the first seconds do not read low.
  const seconds = Math.min(WINDOW_MS, Math.max(now - openedAt, 1)) / 1000;
  $('rate').textContent = (arrivals.length / seconds).toFixed(1);
}
