import { finiteNumber, invalid } from './validate.js';

/**
 * ReplayTime turns the times of replayed requests into instants on a time line starting
 * at 0 at the first one, the virtual clock's, which never goes back: a request up to
 * `toleranceMs` earlier than the latest is replayed at the latest instant, and one further
 * back is skipped (and counted).
 */
export class ReplayTime {
  readonly #toleranceMs: number;
  /** The first request's time: later ones are replayed relative to it, so the limiter's arithmetic stays on small numbers. */
  startMs = NaN;
  /** The latest instant replayed, relative to `startMs`. */
  latestMs = 0;
  /** Requests replayed at the latest instant, being earlier within the tolerance. */
  reordered = 0;
  /** Requests skipped, being earlier than the tolerance allows. */
  outOfOrder = 0;

  constructor(toleranceMs: number) {
    this.#toleranceMs = toleranceMs;
  }

  /**
   * Returns the instant at which to replay a request of `timeMs` with `key` and `cost`,
   * or -1 to skip it.
   * @throws {TypeError|RangeError} when `timeMs` is not a finite number, `key` not a string or `cost` not a finite number >= 0.
   */
  at(timeMs: number, key: string, cost: number): number {
    if (typeof timeMs !== 'number' || timeMs - timeMs !== 0) throw invalid('timeMs', 'a finite number', timeMs, true);
    if (typeof key !== 'string') throw invalid('key', 'a string', key);
    if (typeof cost !== 'number' || !(cost >= 0) || cost === Infinity) finiteNumber('cost', cost, 0);
    if (this.startMs !== this.startMs) this.startMs = timeMs;
    const atMs = timeMs - this.startMs;
    if (atMs >= this.latestMs) return (this.latestMs = atMs);
    if (this.latestMs - atMs > this.#toleranceMs) {
      this.outOfOrder++;
      return -1;
    }
    this.reordered++;
    return this.latestMs;
  }
}
