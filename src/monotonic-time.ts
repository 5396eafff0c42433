import type { Clock } from './clock.js';
import { invalid } from './validate.js';

/** Largest clock reading accepted, either side of 0, in ms: 2^53, about 285,000 years. */
const MAX_READING_MS = 2 ** 53;

/**
 * MonotonicTime turns a Clock's readings into a time line that never goes back.
 * A reading earlier than the last one is rebased, as Go's `rate` does: time stands
 * still at that instant (no tokens are minted) and advances from the new reading on,
 * rather than stalling until the clock catches up. A reading that is not a finite number
 * within ±2^53 ms throws, and leaves the time line as it was.
 */
export class MonotonicTime {
  readonly clock: Clock;
  #offsetMs = 0;
  #lastMs = -MAX_READING_MS;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Returns the current time in milliseconds on the monotonic time line. */
  now(): number {
    const readingMs = this.clock.now();
    const nowMs = readingMs + this.#offsetMs;
    // The usual case only; the rest in #rebase keeps this small enough for V8 to inline.
    if (typeof readingMs === 'number' && nowMs >= this.#lastMs && readingMs <= MAX_READING_MS) return (this.#lastMs = nowMs);
    return this.#rebase(readingMs);
  }

  /** Handles a reading that went back (time stands still there) or is not a finite number in range (throws). */
  #rebase(readingMs: unknown): number {
    if (typeof readingMs !== 'number' || !(Math.abs(readingMs) <= MAX_READING_MS)) {
      throw invalid('clock.now()', `a finite number of milliseconds within ±2^53`, readingMs, true);
    }
    this.#offsetMs += this.#lastMs - (readingMs + this.#offsetMs);
    return this.#lastMs;
  }
}
