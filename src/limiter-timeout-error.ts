/**
 * LimiterTimeoutError is what an HTTP guard's `onError` hears when the limiter's `take`
 * did not settle within `timeoutMs`; the request is then answered as for any other error.
 * @example
 * ```ts
 * rateLimit({ limiter, timeoutMs: 200, onError: (error) => (error instanceof LimiterTimeoutError ? 'allow' : undefined) });
 * ```
 */
export class LimiterTimeoutError extends Error {
  /** The limit that was passed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`The rate limiter did not decide within ${timeoutMs} ms`);
    this.name = 'LimiterTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}
