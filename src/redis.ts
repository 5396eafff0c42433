/**
 * `fairbucket/redis`: one limit shared by every process through Redis, with your own
 * client (ioredis, node-redis, or any `sendCommand(args)`); no runtime dependency.
 */
export { RedisKeyedLimiter } from './redis-keyed-limiter.js';
export type { RedisKeyedLimiterOptions, RedisLimiterStats } from './redis-keyed-limiter-options.js';
export type { LocalKeyedLimiter, RedisErrorPolicy } from './redis-failure-policy.js';
export type { RedisClientLike } from './redis-client.js';
export { RedisTimeoutError } from './redis-timeout-error.js';
export { RedisDataError } from './redis-data-error.js';
export { RateLimitError } from './errors.js';
export type { AcquireOptions, Denial } from './limit-options.js';
export type { Decision } from './decision.js';
export type { Clock } from './clock.js';
export { type RedisLimitEntry, type RedisMultiDecision, takeAll, tryAcquireAll } from './redis-take-all.js';
