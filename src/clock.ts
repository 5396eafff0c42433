import { invalid } from './validate.js';

/** Longest delay `setTimeout` accepts (about 24.8 days); a longer wait re-arms from there. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Clock is the source of time and timers for a limiter. Inject one to run a limiter on
 * fake time (for example `@sinonjs/fake-timers`); leave it out to use the real one.
 *
 * @example
 * ```ts
 * import FakeTimers from '@sinonjs/fake-timers';
 * const fake = FakeTimers.createClock();
 * const clock: Clock = {
 *   now: () => fake.now,
 *   setTimeout: (callback, ms) => fake.setTimeout(callback, ms),
 *   clearTimeout: (handle) => fake.clearTimeout(handle as number),
 * };
 * ```
 */
export interface Clock {
  /** Returns the current time in milliseconds; should never go backwards (a limiter rebases if it does). */
  now(): number;
  /** Calls `callback` once after `ms` milliseconds (a whole number from 1 to 2^31-1) and returns a handle. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer returned by `setTimeout`. */
  clearTimeout(handle: unknown): void;
}

/**
 * defaultClock reads the global `performance.now()` and uses the global `setTimeout` and
 * `clearTimeout`, looked up at each call, so that `FakeTimers.install()` after
 * import still takes effect. Its timers keep a Node process alive while someone waits.
 * @example
 * ```ts
 * const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 1, clock: defaultClock }); // the same as leaving clock out
 * ```
 */
export const defaultClock: Clock = {
  // Bare global names, not `globalThis.x`: still looked up at each call, but through the
  // global scope's fast path (a `globalThis.performance` read costs a few ns per call).
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Returns `clock` when it has the three methods of a Clock, else throws a TypeError. */
export function checkClock(clock: unknown): Clock {
  if (clock === undefined) return defaultClock;
  if (typeof clock !== 'object' || clock === null) throw invalid('clock', 'an object with now, setTimeout and clearTimeout', clock);
  for (const method of ['now', 'setTimeout', 'clearTimeout'] as const) {
    const value = (clock as Record<string, unknown>)[method];
    if (typeof value !== 'function') throw invalid(`clock.${method}`, 'a function', value);
  }
  return clock as Clock;
}
