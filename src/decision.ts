/**
 * Decision is the outcome of one `take`, with what HTTP rate-limit headers need, computed
 * at one instant.
 *
 * @example
 * ```ts
 * const decision = limiter.take(apiToken);
 * if (!decision.granted) console.log(`retry in ${decision.retryAfterMs} ms`);
 * ```
 */
export interface Decision {
  /** Whether the tokens were taken. */
  readonly granted: boolean;
  /** Tokens left in the bucket after this decision (fractional, exact); 0 while callers wait. */
  readonly remaining: number;
  /** Milliseconds until the same request could be granted: 0 when granted, Infinity when never. */
  readonly retryAfterMs: number;
  /** Milliseconds until the bucket is full again (all waiting callers served first). */
  readonly resetAfterMs: number;
  /** The bucket's capacity. */
  readonly limit: number;
}
