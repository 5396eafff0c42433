/*
 * The token arithmetic, in one place. It never reads a clock: every function takes `nowMs`.
 *
 * A bucket's whole state is one number, its `level`, in milli-tokens (1/1000 of a token):
 * the bucket holds `min(capacity, level + nowMs * refillPerSecond)` milli-tokens at `nowMs`.
 * Milli-tokens make the refill per millisecond equal to `refillPerSecond`, so integer rates,
 * costs and clock readings stay exact integers, and taking a cost is one subtraction that
 * does not accumulate rounding error (an inexact one is rounded towards fewer tokens).
 */

/** Milli-tokens per token. */
export const MILLI = 1000;

/**
 * Returns how far before an instant a reading still counts as reaching it, in ms: one
 * nanosecond (the resolution of fake-timers' `performance.now()`) plus a few ulps of the
 * reading, so that waiting exactly `retryAfter` ms never leaves 0.9999999 tokens.
 */
export function toleranceMs(nowMs: number): number {
  return 1e-6 + Math.abs(nowMs) * 2 ** -50;
}

/** Returns whether `tokens` milli-tokens cover `need` at `nowMs` (within the tolerance). */
export function covers(tokens: number, need: number, nowMs: number, refillPerSecond: number): boolean {
  return tokens >= need || tokens >= need - toleranceMs(nowMs) * refillPerSecond;
}

/** Returns `level - need`, rounded down when the subtraction is inexact so that no token is created. */
export function spend(level: number, need: number): number {
  const next = level - need;
  return level - next < need ? next - Math.abs(next) * 2 ** -51 : next;
}

/**
 * Returns the milliseconds until `deficit` milli-tokens have been refilled: 0 when there
 * is no deficit (within the tolerance) and Infinity when nothing refills.
 */
export function refillMs(deficit: number, nowMs: number, refillPerSecond: number): number {
  return deficit <= toleranceMs(nowMs) * refillPerSecond ? 0 : deficit / refillPerSecond;
}
