export { type Clock, defaultClock } from './clock.js';
export type { Decision } from './decision.js';
export { RateLimitError } from './errors.js';
export { KeyedLimiter, type KeyedLimiterOptions, type KeyedLimiterStats } from './keyed-limiter.js';
export type { AcquireOptions, Denial, LimiterStats, LimitOptions, Reservation } from './limit-options.js';
export { TokenBucket, type TokenBucketOptions } from './token-bucket.js';
