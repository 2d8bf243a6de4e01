import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../halley/backoff.js';
import { channelMatches } from '../halley/channels.js';

const bounds = { min: 500, max: 30_000 };

test('the first retry waits between half the minimum and the minimum', () => {
  assert.equal(backoffDelay(0, bounds, () => 0), 250);
  assert.equal(backoffDelay(0, bounds, () => 0.999999), 500);
});

test('the window doubles per attempt up to the cap', () => {
  assert.equal(backoffDelay(1, bounds, () => 0.999999), 1_000);
  assert.equal(backoffDelay(3, bounds, () => 0.999999), 4_000);
  assert.equal(backoffDelay(20, bounds, () => 0.999999), 30_000);
});

test('at attempt 10,000 the delays are finite, never zero and spread over the whole capped window', () => {
  const delays = Array.from({ length: 2_000 }, () => backoffDelay(10_000, bounds));
  for (const d of delays) {
    assert.ok(Number.isFinite(d), `finite: ${d}`);
    assert.ok(d >= 250 && d <= 30_000, `within [250, 30000]: ${d}`);
  }
  const min = Math.min(...delays);
  const max = Math.max(...delays);
  assert.ok(max - min > 0.9 * (30_000 - 250), `spread at the cap: ${min}..${max}`);
  // Not clustered at the cap: a fifth of them in each fifth of the window, roughly.
  const fifths = [0, 0, 0, 0, 0];
  for (const d of delays) fifths[Math.min(4, Math.floor(((d - 250) / (30_000 - 250)) * 5))] += 1;
  for (const n of fifths) assert.ok(n > 250, `each fifth of the window gets a share: ${fifths}`);
  assert.equal(backoffDelay(10_000, bounds, () => 0), 250, 'a random source returning 0 still waits');
});

test('degenerate bounds and random sources never give zero', () => {
  assert.ok(backoffDelay(0, { min: 0, max: 0 }, () => 0) >= 1);
  assert.ok(backoffDelay(-5, bounds, () => -1) >= 250);
  assert.ok(backoffDelay(Number.MAX_SAFE_INTEGER, bounds, () => 2) <= 30_000);
});

test('channel patterns match as the server matches them', () => {
  assert.ok(channelMatches('/a/b', '/a/b'));
  assert.ok(channelMatches('/a/*', '/a/b'));
  assert.ok(!channelMatches('/a/*', '/a/b/c'));
  assert.ok(!channelMatches('/a/*', '/a'));
  assert.ok(channelMatches('/a/**', '/a/b/c'));
  assert.ok(!channelMatches('/a/**', '/a'));
  assert.ok(!channelMatches('/a/**', '/ab/c'));
  assert.ok(!channelMatches('/a/*', '/ab'));
});
