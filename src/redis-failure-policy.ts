import type { Clock } from './clock.js';
import type { Decision } from './decision.js';
import { RateLimitError } from './errors.js';
import type { KeyedLimiter } from './keyed-limiter.js';
import type { AcquireOptions } from './limit-options.js';
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
  /** What `'deny'` answers as the wait, in milliseconds; also the least time between two probes of a node. */
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly onError: ((error: unknown) => void) | undefined;
  /** Names the node that serves a store key: health is kept per node. */
  readonly nodeOf: (storeKey: string) => string;
  /**
   * Called when a node answers again, with what the local limiter granted on its keys while
   * it was down, for the store to be charged with (then those local buckets are forgotten).
   */
  readonly onRecovered: (spent: ReadonlyMap<string, number>) => void;
}

/** Most keys whose local grants are remembered per node down, to charge the store with. */
const MAX_CHARGED_KEYS = 10_000;

/** A node that failed: what it failed with, and its probing. */
export interface DownNode {
  readonly node: string;
  error: unknown;
  /** A store key of this node, peeked to learn whether it answers. */
  probeKey: string;
  probing: boolean;
  /** When the next probe may go. */
  nextProbeMs: number;
  /** Tokens the local limiter granted per key while the node was down. */
  readonly spent: Map<string, number>;
}

/**
 * FailurePolicy is what a shared-store limiter does when its store fails, kept apart from
 * the store and its transport:
 * - health per node (a cluster's slot owner; a single Redis is one node): one failing
 *   node sends only its own keys to the policy, and keys on the other nodes stay exact;
 * - a probe to each failing node, one at a time, at most once per `timeoutMs`, until it
 *   answers; only then do its keys go back to the store;
 * - decisions in the store's place by the `onRedisError` policy; what a local limiter
 *   granted meanwhile is handed back on recovery to be charged to the store, so that
 *   going back and forth never lets a process admit more than the limit plus one capacity;
 * - errors of one key's data, reported but never counted against a node.
 * It never talks to the store itself; the limiter hands it a way to probe.
 */
export class FailurePolicy {
  readonly #policy: RedisErrorPolicy;
  readonly #capacity: number;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #onError: ((error: unknown) => void) | undefined;
  readonly #nodeOf: (storeKey: string) => string;
  readonly #onRecovered: (spent: ReadonlyMap<string, number>) => void;
  readonly #down = new Map<string, DownNode>();
  /** The last failure, the `cause` of a refusal by `'deny'`. */
  #lastError: unknown;
  /** Commands that failed or timed out, and keys whose data could not be read. */
  failures = 0;
  /** Requests decided by the policy instead of the store. */
  fallbacks = 0;

  constructor(options: FailurePolicyOptions) {
    this.#policy = options.policy;
    this.#capacity = options.capacity;
    this.#timeoutMs = options.timeoutMs;
    this.#clock = options.clock;
    this.#onError = options.onError;
    this.#nodeOf = options.nodeOf;
    this.#onRecovered = options.onRecovered;
  }

  /** Whether every node answered its last command. */
  get healthy(): boolean {
    return this.#down.size === 0;
  }

  /** The local limiter when the policy is one. */
  get local(): LocalKeyedLimiter | undefined {
    return typeof this.#policy === 'object' ? this.#policy : undefined;
  }

  /** The node serving `storeKey` when it is down, else undefined (at no cost while every node is up). */
  downNodeOf(storeKey: string): DownNode | undefined {
    return this.#down.size === 0 ? undefined : this.#down.get(this.#nodeOf(storeKey));
  }

  /** Records a failed command on `storeKey`: its node counts as down until a probe answers. */
  fail(storeKey: string, error: unknown): void {
    const node = this.#nodeOf(storeKey);
    const down = this.#down.get(node);
    if (down === undefined) this.#down.set(node, { node, error, probeKey: storeKey, probing: false, nextProbeMs: -Infinity, spent: new Map() });
    else down.error = error;
    this.report(error);
  }

  /** Reports an error that marks no node down: one key's data the store could not read. */
  report(error: unknown): void {
    this.failures++;
    this.#lastError = error;
    this.#onError?.(error);
  }

  /**
   * Probes `down`, one probe at a time, at most once per `timeoutMs`: `probe` is given a
   * store key of that node and calls back with its error (undefined when the node answered).
   */
  probe(down: DownNode, probe: (storeKey: string, done: (error: unknown) => void) => void): void {
    const nowMs = this.#clock.now();
    if (down.probing || nowMs < down.nextProbeMs) return;
    down.probing = true;
    down.nextProbeMs = nowMs + this.#timeoutMs;
    probe(down.probeKey, (error) => {
      down.probing = false;
      if (error !== undefined) return this.report(error);
      this.#down.delete(down.node);
      if (down.spent.size === 0) return;
      this.#onRecovered(down.spent);
      // Only a local limiter grants what is spent.
      for (const key of down.spent.keys()) (this.#policy as LocalKeyedLimiter).delete(key);
    });
  }

  /** Remembers that the local limiter granted `cost` on `key` while `down` was down. */
  #spend(down: DownNode | undefined, key: string, cost: number): void {
    if (down === undefined || cost === 0) return;
    const spent = down.spent.get(key);
    if (spent !== undefined) down.spent.set(key, spent + cost);
    else if (down.spent.size < MAX_CHARGED_KEYS) down.spent.set(key, cost);
  }

  /** What take and tryAcquire decide while the store cannot; `down` is the key's node when it is down. */
  take(key: string, cost: number, down: DownNode | undefined): Decision {
    const policy = this.#policy;
    const timeoutMs = this.#timeoutMs;
    this.fallbacks++;
    if (policy === 'allow') return { granted: true, remaining: this.#capacity, retryAfterMs: 0, resetAfterMs: 0, limit: this.#capacity };
    if (policy === 'deny') return { granted: false, remaining: 0, retryAfterMs: timeoutMs, resetAfterMs: timeoutMs, limit: this.#capacity };
    const decision = policy.take(key, cost);
    if (decision.granted) this.#spend(down, key, cost);
    return decision;
  }

  /** What acquire does while the store cannot decide: resolves when granted, rejects like acquire. */
  acquire(key: string, cost: number, options: AcquireOptions | undefined, down: DownNode | undefined): Promise<void> {
    const policy = this.#policy;
    this.fallbacks++;
    if (policy === 'allow') return Promise.resolve();
    if (policy === 'deny') {
      return Promise.reject(
        new RateLimitError(this.#timeoutMs, `Redis is unavailable: refused by onRedisError 'deny', retry after ${this.#timeoutMs} ms`, { cause: down?.error ?? this.#lastError }),
      );
    }
    return policy.acquire(key, cost, options).then(() => this.#spend(down, key, cost));
  }

  /** What retryAfter answers while the store cannot. */
  retryAfter(key: string, cost: number): number {
    const policy = this.#policy;
    this.fallbacks++;
    return policy === 'allow' ? 0 : policy === 'deny' ? this.#timeoutMs : policy.retryAfter(key, cost);
  }

  /** What available answers while the store cannot. */
  available(key: string): number {
    const policy = this.#policy;
    this.fallbacks++;
    return policy === 'allow' ? this.#capacity : policy === 'deny' ? 0 : policy.available(key);
  }

  /** Gives `amount` back to the local limiter, while the store cannot take it. */
  refund(key: string, amount: number, down: DownNode | undefined): void {
    this.fallbacks++;
    this.giveBack(key, amount, down);
  }

  /** Gives back to the local limiter what it granted in a decision that did not stand (not a request of its own). */
  giveBack(key: string, amount: number, down: DownNode | undefined): void {
    this.local?.refund(key, amount);
    if (down === undefined) return;
    const spent = down.spent.get(key);
    if (spent !== undefined) down.spent.set(key, Math.max(0, spent - amount));
  }
}
