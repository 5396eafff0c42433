import type { Party } from './enlist.js';
import type { MilliTokens } from './refill.js';

/** One place in a bucket's line: a caller waiting in `acquire` or `acquireAll`, or a reservation. */
export interface Entry {
  readonly needMilli: MilliTokens;
  /** The committed instant of a reservation; Infinity for a waiting caller. */
  readonly atMs: number;
  /** When the caller joined the line, for the wait statistics. */
  readonly sinceMs: number;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  /** The caller of `acquireAll` this place belongs to, if any. */
  readonly party: Party | undefined;
  onAbort: (() => void) | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
  /** Whether the entry has been charged (and left the line). */
  done: boolean;
}

/**
 * Lane is the waiting state of one bucket that has callers queued, or a pause of its own:
 * the bucket's level (milli-tokens, see refill.ts) and its first-in first-out line. Buckets
 * without either have no Lane, so waiting costs nothing to the keys that do not wait.
 */
export class Lane {
  readonly key: string;
  levelMilli: MilliTokens = 0;
  head: Entry | undefined;
  tail: Entry | undefined;
  /** Milli-tokens wanted by everyone in line. */
  queuedMilli: MilliTokens = 0;
  /** Reservations in line. */
  committed = 0;
  /** Nothing but reservations is granted from this bucket before this instant (`pauseFor(ms, key)`). */
  pausedUntilMs = -Infinity;
  /** When the lane next needs serving; Infinity while its head waits for the other lines of its `acquireAll`. */
  dueMs = 0;
  /** Position in the scheduler's heap; -1 when not in it. */
  index = -1;

  constructor(key: string, levelMilli: MilliTokens) {
    this.key = key;
    this.levelMilli = levelMilli;
  }
}
