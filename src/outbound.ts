/*
 * Outbound helpers (`fairbucket/outbound`): wrap a function or fetch with a limiter, and
 * take several limits at once. A separate entry point that works with any limiter having
 * the methods it calls, so it does not weigh on the core.
 */
export { acquireAll, type AcquireAllOptions } from './acquire-all.js';
export type { Budget, BudgetBucket, BudgetKeyed, PausableBucket, PausableKeyed, PerRequest, SettledCosts } from './fetch-budget.js';
export type { BucketReserver, KeyedReserver, Limit } from './limit.js';
export { limitFetch, type LimitFetchOptions } from './limit-fetch.js';
export { parseRetryAfter } from './retry-after.js';
export { type BucketLimiter, type KeyedAcquirer, throttle, type ThrottleOptions } from './throttle.js';
export { type BucketTaker, type KeyedTaker, tryAcquireAll, type TryLimit } from './try-acquire-all.js';
