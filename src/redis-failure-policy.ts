import type { Clock } from './clock.js';
import type { Decision } from './decision.js';
import { RateLimitError } from './errors.js';
import type { KeyedLimiter } from './keyed-limiter.js';
import type { AcquireOptions } from './options.js';
import { invalid } from './validate.js';

/**
 * The methods of a KeyedLimiter a RedisKeyedLimiter falls back on (structural, so that a
 * KeyedLimiter from any build of this package fits).
 * @example
 * ```ts
 * const fallback: LocalKeyedLimiter = new KeyedLimiter({ capacity: 10, refillPerSecond: 1 });
 * ```
 */
export type LocalKeyedLimiter = Pick<KeyedLimiter, 'tryAcquire' | 'take' | 'acquire' | 'retryAfter' | 'available' | 'refund' | 'delete'>;

/**
 * What a RedisKeyedLimiter does while Redis fails or does not answer within `timeoutMs`:
 * - `'allow'`: every request is granted (fail open);
 * - `'deny'`: every request is refused, with `retryAfterMs` = `timeoutMs` (fail closed);
 * - a local KeyedLimiter: decides in its place, so each process keeps the limit on its own.
 * @example
 * ```ts
 * const onRedisError: RedisErrorPolicy = new KeyedLimiter({ capacity: 10, refillPerSecond: 1 });
 * ```
 */
export type RedisErrorPolicy = 'allow' | 'deny' | LocalKeyedLimiter;

/** Returns `policy` when it is one, else throws a TypeError naming `onRedisError`. */
export function checkErrorPolicy(policy: unknown): RedisErrorPolicy | undefined {
  if (policy === undefined || policy === 'allow' || policy === 'deny' || typeof (policy as Partial<LocalKeyedLimiter> | null)?.tryAcquire === 'function') {
    return policy as RedisErrorPolicy | undefined;
  }
  throw invalid('onRedisError', "'allow', 'deny' or a KeyedLimiter", policy);
}

/** How FailurePolicy is set up. */
export interface FailurePolicyOptions {
  readonly policy: RedisErrorPolicy;
  readonly capacity: number;
  /** What `'deny'` answers as the wait, in milliseconds; also the least time between two probes. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly onError: ((error: unknown) => void) | undefined;
}

/**
 * FailurePolicy is what a shared-store limiter does when its store fails, kept apart from
 * the store: it tracks whether the store answers, paces the probes that find out when it
 * answers again, and decides requests in the store's place by the `onRedisError` policy.
 * It never talks to the store itself; the limiter hands it a way to probe.
 */
export class FailurePolicy {
  readonly #policy: RedisErrorPolicy;
  readonly #capacity: number;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #onError: ((error: unknown) => void) | undefined;
  /** Whether the last command answered; while not, requests go to the policy and a probe goes. */
  #healthy = true;
  #lastError: unknown;
  #probing = false;
  /** When the next probe may go; set by each failure. */
  #nextProbeMs = 0;
  /** Commands that failed or timed out. */
  failures = 0;
  /** Requests decided by the policy instead of the store. */
  fallbacks = 0;

  constructor(options: FailurePolicyOptions) {
    this.#policy = options.policy;
    this.#capacity = options.capacity;
    this.#timeoutMs = options.timeoutMs;
    this.#clock = options.clock;
    this.#onError = options.onError;
  }

  /** Whether the store answered the last command. */
  get healthy(): boolean {
    return this.#healthy;
  }

  /** The local limiter when the policy is one. */
  get local(): LocalKeyedLimiter | undefined {
    return typeof this.#policy === 'object' ? this.#policy : undefined;
  }

  /** Records a failed command: the store counts as down until a probe answers. */
  fail(error: unknown): void {
    this.failures++;
    this.#healthy = false;
    this.#lastError = error;
    this.#nextProbeMs = -Infinity;
    this.#onError?.(error);
  }

  /**
   * Sends one probe at a time, at most once per `timeoutMs`, through `probe`, which calls
   * back with its error (undefined when the store answered).
   */
  probe(probe: (done: (error: unknown) => void) => void): void {
    const nowMs = this.#clock.now();
    if (this.#probing || nowMs < this.#nextProbeMs) return;
    this.#probing = true;
    this.#nextProbeMs = nowMs + this.#timeoutMs;
    probe((error) => {
      this.#probing = false;
      if (error === undefined) {
        this.#healthy = true;
        return;
      }
      this.failures++;
      this.#lastError = error;
      this.#onError?.(error);
    });
  }

  /** What take and tryAcquire decide while the store cannot. */
  take(key: string, cost: number): Decision {
    const policy = this.#policy;
    const timeoutMs = this.#timeoutMs;
    if (policy === 'allow') return { granted: true, remaining: this.#capacity, retryAfterMs: 0, resetAfterMs: 0, limit: this.#capacity };
    if (policy === 'deny') return { granted: false, remaining: 0, retryAfterMs: timeoutMs, resetAfterMs: timeoutMs, limit: this.#capacity };
    return policy.take(key, cost);
  }

  /** What acquire does while the store cannot decide: resolves when granted, rejects like acquire. */
  acquire(key: string, cost: number, options: AcquireOptions | undefined): Promise<void> {
    const policy = this.#policy;
    if (policy === 'allow') return Promise.resolve();
    if (policy === 'deny') {
      return Promise.reject(
        new RateLimitError(this.#timeoutMs, `Redis is unavailable: refused by onRedisError 'deny', retry after ${this.#timeoutMs} ms`, { cause: this.#lastError }),
      );
    }
    return policy.acquire(key, cost, options);
  }

  /** What retryAfter answers while the store cannot. */
  retryAfter(key: string, cost: number): number {
    const policy = this.#policy;
    return policy === 'allow' ? 0 : policy === 'deny' ? this.#timeoutMs : policy.retryAfter(key, cost);
  }

  /** What available answers while the store cannot. */
  available(key: string): number {
    const policy = this.#policy;
    return policy === 'allow' ? this.#capacity : policy === 'deny' ? 0 : policy.available(key);
  }
}
