/** Returns the default message for a wait of `retryAfterMs`: whole milliseconds, rounded up, or "never". */
function defaultMessage(retryAfterMs: number): string {
  return retryAfterMs === Infinity ? 'Rate limit exceeded: the request can never be granted' : `Rate limit exceeded: retry after ${Math.ceil(retryAfterMs)} ms`;
}

/**
 * RateLimitError is the rejection of an `acquire` that cannot be served in
 * time: the wait would pass `maxWaitMs`, the limit can never be met again
 * (`refillPerSecond: 0` once spent), or a KeyedLimiter has no room for a new key.
 *
 * @example
 * ```ts
 * try {
 *   await bucket.acquire(1, { maxWaitMs: 100 });
 * } catch (error) {
 *   if (error instanceof RateLimitError) console.log(`retry in ${error.retryAfterMs} ms`);
 * }
 * ```
 */
export class RateLimitError extends Error {
  /** Milliseconds until the same request could be served; `Infinity` when it never can. */
  readonly retryAfterMs: number;

  /**
   * @param retryAfterMs - milliseconds until the same request could be served; Infinity when never.
   * @param message - the text; by default it states `retryAfterMs` rounded up to whole
   * milliseconds ("retry after 20515 ms"), or "never" for Infinity.
   * @param options - `cause`: the error behind a refusal (a failed Redis command, for one).
   */
  constructor(retryAfterMs: number, message = defaultMessage(retryAfterMs), options?: ErrorOptions) {
    super(message, options);
    this.name = 'RateLimitError';
    this.retryAfterMs = retryAfterMs;
  }

  /**
   * Recognises a RateLimitError by its name and data rather than by class identity, so
   * that `instanceof` holds across entry points, the ESM and CJS builds, and realms.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof Error && value.name === 'RateLimitError' && typeof (value as RateLimitError).retryAfterMs === 'number';
  }
}
