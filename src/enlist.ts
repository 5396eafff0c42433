/*
 * The protocol by which `acquireAll` (fairbucket/outbound, built apart from the core)
 * waits in the lines of several limiters at once: structural, so that it holds across
 * entry points, builds and realms.
 */

/**
 * The key of a limiter's method that takes a place in its line for an `acquireAll`
 * caller: `limiter[ENLIST](key, cost, party, reject)` returns a Part. A registered symbol,
 * the same in every entry point and build.
 */
export const ENLIST: unique symbol = Symbol.for('fairbucket.enlist') as never;

/**
 * A caller of `acquireAll` waiting in several lines at once: each of its places asks it,
 * once at the head of its line with its tokens there, whether every place is.
 */
export interface Party {
  /**
   * Called when the place holding `entry` has its tokens at the head of its line; returns
   * whether every place was ready, in which case every place has been charged.
   */
  ready(entry: unknown): boolean;
}

/** One place of an `acquireAll` caller in one limiter's line. */
export interface Part {
  /** The line entry of this place, as `Party.ready` receives it. */
  readonly entry: unknown;
  /** Milliseconds the place was planned to wait when it was taken (behind the line, after any pause). */
  readonly waitMs: number;
  /** Returns whether the place could be charged now: at the head of its line, not paused, its tokens there. */
  isReady(): boolean;
  /** Charges the place (which `isReady` says may be), without serving the line behind it. */
  commit(): void;
  /** Serves the line: the place's own turn may come, or, once it is charged, the callers behind it. */
  settle(): void;
  /** Gives the place back uncharged, if it is still in line. */
  cancel(): void;
  /** Counts a refusal of the caller in this limiter's statistics and tells its `onDeny`. */
  deny(retryAfterMs: number): void;
}

/** A limiter that can take a place in its line for an `acquireAll` caller. */
export interface Enlisting {
  [ENLIST](key: string | undefined, cost: number, party: Party, reject: (reason: unknown) => void): Part;
}

