import type { FailurePolicy } from './redis-failure-policy.js';
import type { RedisDriver } from './redis-client.js';
import type { RedisTransport } from './redis-transport.js';

/** What the decisions over several limiters (redis-take-all.ts) use of one; not public API. */
export interface LimiterInternals {
  /** The client as it was passed. */
  readonly client: unknown;
  readonly driver: RedisDriver;
  readonly transport: RedisTransport;
  readonly failures: FailurePolicy;
  readonly prefix: string;
  readonly capacity: number;
  readonly refillPerSecond: number;
  /** capacity and refillPerSecond as the scripts read them. */
  readonly limitArgs: readonly [capacity: string, refillPerSecond: string];
  /** Whether the node of `redisKey` is down (then a probe goes to it). */
  isDown(redisKey: string): boolean;
  /** Counts a decision of this limiter made with others (and tells onDeny of a refusal). */
  count(key: string, cost: number, granted: boolean, retryAfterMs: number): void;
}

const internals = new WeakMap<object, LimiterInternals>();

/** Records what the decisions over several limiters use of `limiter` (its constructor calls it). */
export function registerInternals(limiter: object, limiterInternals: LimiterInternals): void {
  internals.set(limiter, limiterInternals);
}

/** Returns what the decisions over several limiters use of `limiter`, or undefined when it is none. */
export function internalsOf(limiter: unknown): LimiterInternals | undefined {
  return typeof limiter === 'object' && limiter !== null ? internals.get(limiter) : undefined;
}
