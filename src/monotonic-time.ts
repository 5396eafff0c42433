import type { Clock } from './clock.js';
import { invalid } from './validate.js';

/** Largest clock reading accepted, either side of 0, in ms: 2^53, about 285,000 years. */
const MAX_READING_MS = 2 ** 53;

/**
 * MonotonicTime turns a Clock's readings into a time line that never goes back.
 * A reading earlier than the last one is rebased, as Go's `rate` does: time stands
 * still at that instant (no tokens are minted) and advances from the new reading on,
 * rather than stalling until the clock catches up. A reading that is not a finite number
 * within ±2^53 ms throws, and leaves the time line as it was. It also keeps an alarm:
 * the first reading at or past `alarmAtMs` calls `onAlarm` before it is returned.
 */
export class MonotonicTime {
  readonly clock: Clock;
  #offsetMs = 0;
  #lastMs = -MAX_READING_MS;
  #alarmAtMs = Infinity;
  /**
   * A reading on the time line at or past this takes the slow path: the earlier of the
   * alarm and the end of the supported range. One comparison in `now` for both.
   */
  #slowFromMs = MAX_READING_MS;
  /** Called with the time line's reading once it reaches `alarmAtMs`. */
  onAlarm: ((nowMs: number) => void) | undefined;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** The instant at which `onAlarm` is called; Infinity for none. */
  set alarmAtMs(atMs: number) {
    this.#alarmAtMs = atMs;
    this.#plan();
  }

  /** Returns the current time in milliseconds on the monotonic time line. */
  now(): number {
    const readingMs = this.clock.now();
    const nowMs = readingMs + this.#offsetMs;
    // The usual case only; the rest in #slow keeps this small enough for V8 to inline.
    if (typeof readingMs === 'number' && nowMs >= this.#lastMs && nowMs < this.#slowFromMs) return (this.#lastMs = nowMs);
    return this.#slow(readingMs);
  }

  /**
   * Handles a reading that is not a finite number in range (throws), one that went back
   * (time stands still there), and the alarm.
   */
  #slow(readingMs: unknown): number {
    if (typeof readingMs !== 'number' || !(Math.abs(readingMs) <= MAX_READING_MS)) {
      throw invalid('clock.now()', `a finite number of milliseconds within ±2^53`, readingMs, true);
    }
    let nowMs = readingMs + this.#offsetMs;
    if (nowMs < this.#lastMs) {
      this.#offsetMs += this.#lastMs - nowMs;
      nowMs = this.#lastMs;
      this.#plan();
    }
    this.#lastMs = nowMs;
    if (nowMs >= this.#alarmAtMs) this.onAlarm?.(nowMs);
    return nowMs;
  }

  #plan(): void {
    this.#slowFromMs = Math.min(this.#alarmAtMs, MAX_READING_MS + this.#offsetMs);
  }
}
