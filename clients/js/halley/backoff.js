// Reconnect delays: exponential growth with full jitter, bounded on both sides.

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry): uniform between half the minimum and
 * the exponential cap `min(max, min * 2^attempt)`. Full jitter spreads clients that lost the same server over
 * the whole window, so they do not come back together; the lower bound keeps a failing server from being
 * hammered by a zero-delay loop, even when the random source returns 0. At the cap the window is still
 * [min/2, max], so the spread never collapses.
 * @param {number} attempt how many retries failed before this one (0, 1, 2, …)
 * @param {{ min: number, max: number }} bounds milliseconds
 * @param {() => number} [random] a source in [0, 1), Math.random by default
 * @returns {number} milliseconds, at least 1
 */
export function backoffDelay(attempt, bounds, random = Math.random) {
  const min = Math.max(1, bounds.min);
  const max = Math.max(min, bounds.max);
  // 2^31 is far past any cap; clamping the exponent keeps the arithmetic finite at attempt 10,000.
  const cap = Math.min(max, min * 2 ** Math.min(Math.max(0, attempt), 31));
  const floor = Math.max(1, min / 2);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.max(1, Math.round(floor + r * (cap - floor)));
}
