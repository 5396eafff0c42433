/*
 * The token arithmetic, in one place. It never reads a clock: every function takes the
 * refill accrued so far, `accruedMilli`, which the caller gets from `LimitState.accruedAt`.
 *
 * A bucket's whole state is one number, its `levelMilli`, in milli-tokens (1/1000 of a
 * token): the bucket holds `min(fullMilli, levelMilli + accruedMilli)` milli-tokens, where
 * `accruedMilli` is `(nowMs - originMs) * refillPerSecond`. Milli-tokens make the refill
 * per millisecond equal to `refillPerSecond`, so integer rates, costs and clock readings
 * stay exact integers, and taking a cost is one subtraction that does not accumulate
 * rounding error (an inexact one is rounded towards fewer tokens). The origin moves
 * forward from time to time (LimitState), so the numbers stay small whatever the clock
 * reads: a `Date.now()`-sized reading times a high rate would otherwise leave too few
 * bits for the tokens.
 */

/** A number of milli-tokens (1/1000 of a token), the unit of every level inside the arithmetic; never crosses a public API. */
export type MilliTokens = number;

/** Milli-tokens per token. */
export const MILLI = 1000;

/**
 * Returns whether `tokensMilli` cover `needMilli`, within rounding; `scaleMilli` is the
 * magnitude of the refill arithmetic (`LimitState.scaleOf`).
 */
export function covers(tokensMilli: MilliTokens, needMilli: MilliTokens, scaleMilli: MilliTokens): boolean {
  return tokensMilli >= needMilli || tokensMilli >= needMilli - tolerance(needMilli, scaleMilli);
}

/**
 * Returns the rounding allowance, in milli-tokens, for comparing a bucket's tokens with
 * `needMilli`: a few ulps of the numbers involved. A caller who waits exactly `retryAfter`
 * ms adds it to a clock reading, and the sum rounds to the reading's own precision (at
 * 1.7e12 ms, a quarter of a microsecond): the refill at that reading can be a hair short
 * of the need. `scaleMilli` carries that rounding (half an ulp of the reading, times the
 * rate) and the arithmetic's own; this absorbs it and nothing more. Kept apart from
 * `covers`: V8 inlines functions this small whatever its inlining budget says, and a
 * denied decision runs both (measured: 78 against 85 ns per keyed decision with the two
 * written as one).
 */
export function tolerance(needMilli: MilliTokens, scaleMilli: MilliTokens): MilliTokens {
  return (scaleMilli + needMilli) * 2 ** -50;
}

/** Returns `levelMilli - needMilli`, rounded down when the subtraction is inexact so that no token is created. */
export function spend(levelMilli: MilliTokens, needMilli: MilliTokens): MilliTokens {
  const next = levelMilli - needMilli;
  return levelMilli - next < needMilli ? next - Math.abs(next) * 2 ** -51 : next;
}

/** Returns the milli-tokens a bucket at `levelMilli` holds, at most `fullMilli`. */
export function tokensAt(levelMilli: MilliTokens, accruedMilli: MilliTokens, fullMilli: MilliTokens): MilliTokens {
  return Math.min(fullMilli, levelMilli + accruedMilli);
}

/** Returns the level at which a bucket holds `tokensMilli` now. */
export function levelFor(tokensMilli: MilliTokens, accruedMilli: MilliTokens): MilliTokens {
  return tokensMilli - accruedMilli;
}

/**
 * Returns the level after taking `needMilli` (at most `fullMilli`) from a bucket at
 * `levelMilli`, or NaN when it does not hold them (within rounding: `originScaleMilli` as
 * in LimitState). A full bucket is taken from at full, so that refill beyond the capacity
 * is not counted.
 */
export function takeFrom(levelMilli: MilliTokens, needMilli: MilliTokens, accruedMilli: MilliTokens, fullMilli: MilliTokens, originScaleMilli: MilliTokens): MilliTokens {
  const tokens = levelMilli + accruedMilli;
  if (tokens >= fullMilli) return fullMilli - needMilli - accruedMilli;
  return covers(tokens, needMilli, Math.abs(accruedMilli) + originScaleMilli) ? spend(levelMilli, needMilli) : NaN;
}

/**
 * Returns the level of a waiting line's bucket after serving a caller of `needMilli`:
 * what the caller's ideal instant leaves (the level less the need: the refill since then
 * stays for the callers behind), but never more than `fullMilli - needMilli` at
 * `accruedMilli`, so that however late the timer (a stalled event loop, a clock that
 * jumped), the bucket never holds more than its capacity at any one instant, the grant
 * included: the bound `capacity + rate × T` holds in clock time. The price: with a
 * capacity equal to the cost there is nothing to absorb a late timer, and each timer's
 * lateness carries to the callers behind, as it would for a real bucket.
 */
export function serveFrom(levelMilli: MilliTokens, needMilli: MilliTokens, accruedMilli: MilliTokens, fullMilli: MilliTokens): MilliTokens {
  return Math.min(spend(levelMilli, needMilli), fullMilli - needMilli - accruedMilli);
}

/**
 * Returns the level after adding `deltaMilli` (negative for a charge) to a bucket at
 * `levelMilli`: never above `fullMilli`, unless it was already (a line's bucket keeps
 * refill it is owed).
 */
export function adjustBy(levelMilli: MilliTokens, deltaMilli: MilliTokens, accruedMilli: MilliTokens, fullMilli: MilliTokens): MilliTokens {
  return Math.min(levelMilli + deltaMilli, Math.max(levelMilli, fullMilli - accruedMilli));
}

/**
 * Returns the milliseconds until `tokensMilli` have grown to `needMilli` at
 * `refillPerSecond` (`scaleMilli` as for `covers`): 0 when they cover it (within rounding), Infinity when nothing refills.
 */
export function refillMs(tokensMilli: MilliTokens, needMilli: MilliTokens, scaleMilli: MilliTokens, refillPerSecond: number): number {
  return covers(tokensMilli, needMilli, scaleMilli) ? 0 : (needMilli - tokensMilli) / refillPerSecond;
}
