import { MILLI, type MilliTokens } from './refill.js';

/**
 * Accrued refill past which the origin moves forward (milli-tokens), at least: 2^36 keeps
 * every level exact to about 1e-5 milli-tokens, so a year of decisions at a million tokens
 * per second loses less than a token to rounding.
 */
const REBASE_MILLI = 2 ** 36;

/**
 * LimitState is what every bucket of one limiter shares: the capacity and rate, the
 * origin of the refill arithmetic, and the pause of all keys. One object, read by the
 * engine and the wait scheduler alike, so that no copy can fall out of step.
 */
export class LimitState {
  capacity: number;
  refillPerSecond: number;
  /** The capacity in milli-tokens. */
  fullMilli: MilliTokens;
  /** The instant from which refill is counted (see refill.ts); moved forward by `rebase`. */
  originMs: number;
  /** Past this instant the accrued refill is large enough that the origin should move. */
  rebaseAtMs = Infinity;
  /** Half an ulp of a clock reading near the origin, times the rate, scaled for `tolerance` (milli-tokens). */
  originScaleMilli = 0;
  /** Nothing but reservations is granted, on any key, before this instant (pauseFor). */
  pausedUntilMs = -Infinity;

  constructor(capacity: number, refillPerSecond: number, originMs: number) {
    this.capacity = capacity;
    this.refillPerSecond = refillPerSecond;
    this.fullMilli = capacity * MILLI;
    this.originMs = originMs;
    this.#plan();
  }

  /** Returns the refill accrued from the origin to `nowMs`, in milli-tokens. */
  accruedAt(nowMs: number): MilliTokens {
    return (nowMs - this.originMs) * this.refillPerSecond;
  }

  /** Returns the magnitude of the refill arithmetic at `accruedMilli`, for `covers` (see refill.ts). */
  scaleOf(accruedMilli: MilliTokens): MilliTokens {
    return Math.abs(accruedMilli) + this.originScaleMilli;
  }

  /** Moves the origin to `nowMs` with a new capacity and rate; levels must be rebased by the caller. */
  reset(capacity: number, refillPerSecond: number, nowMs: number): void {
    this.capacity = capacity;
    this.refillPerSecond = refillPerSecond;
    this.fullMilli = capacity * MILLI;
    this.originMs = nowMs;
    this.#plan();
  }

  #plan(): void {
    // |reading| * 2^-52 is at least one ulp of it: two roundings of the caller's own sum.
    // tolerance() multiplies by 2^-50, hence the 2^-2 here.
    this.originScaleMilli = Math.abs(this.originMs * this.refillPerSecond) * 2 ** -2;
    this.rebaseAtMs = this.originMs + Math.max(REBASE_MILLI, 4 * this.fullMilli) / this.refillPerSecond;
  }
}
