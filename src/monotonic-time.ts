import type { Clock } from './clock.js';
import { invalid } from './validate.js';

/**
 * MonotonicTime turns a Clock's readings into a time line that never goes back.
 * A reading earlier than the last one is rebased, as Go's `rate` does: time stands
 * still at that instant (no tokens are minted) and advances from the new reading on,
 * rather than stalling until the clock catches up.
 */
export class MonotonicTime {
  readonly clock: Clock;
  #offsetMs = 0;
  #lastMs = -Infinity;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Returns the current time in milliseconds on the monotonic time line. */
  now(): number {
    const readingMs = this.clock.now();
    const nowMs = readingMs + this.#offsetMs;
    // The usual case only; the rest in #rebase keeps this small enough for V8 to inline.
    if (typeof readingMs === 'number' && nowMs >= this.#lastMs) return (this.#lastMs = nowMs);
    return this.#rebase(readingMs);
  }

  /** Handles a reading that went back (time stands still there) or is not a number (throws). */
  #rebase(readingMs: unknown): number {
    if (typeof readingMs !== 'number' || readingMs !== readingMs) throw invalid('clock.now()', 'a number', readingMs, true);
    this.#offsetMs += this.#lastMs - (readingMs + this.#offsetMs);
    return this.#lastMs;
  }
}
