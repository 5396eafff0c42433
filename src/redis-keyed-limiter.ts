import { type Clock, checkClock } from './clock.js';
import type { Decision } from './decision.js';
import { RateLimitError } from './errors.js';
import { KeyedLimiter } from './keyed-limiter.js';
import { TAKE_ALL } from './take-all.js';
import { checkKnownOptions } from './known-options.js';
import { admit, checkLimitOptions, checkOnDeny } from './check-options.js';
import type { AcquireOptions, Denial, LimiterStats } from './limit-options.js';
import { type RedisDriver, redisDriver } from './redis-client.js';
import type { RedisKeyedLimiterOptions, RedisLimiterStats } from './redis-keyed-limiter-options.js';
import { type RedisLimitEntry, type RedisMultiDecision, takeAll } from './redis-take-all.js';
import { RedisDataError } from './redis-data-error.js';
import { registerInternals } from './redis-limiter-internals.js';
import { FailurePolicy, checkErrorPolicy } from './redis-failure-policy.js';
import { DECIDE, type Operation, Outcome, type Reply, readReply, waitMs } from './redis-script.js';
import { RedisTransport, type ScriptCall } from './redis-transport.js';
import { sleep } from './sleep.js';
import { finiteNumber, invalid, stringKey } from './validate.js';

/**
 * RedisKeyedLimiter keeps one token bucket per key in Redis, shared by every process and
 * server that uses the same Redis and prefix: one exact limit across all of them, with the
 * semantics of KeyedLimiter. Every decision is one Lua script on one Redis key, in one
 * round trip, judged on the Redis server's clock, so app servers whose clocks disagree
 * still make the same decisions. A bucket is stored only while it is not full: its key
 * expires the moment it would be full again. `acquire` reserves its place in Redis and
 * sleeps once, with no polling; callers are served in the order their reservations reach
 * Redis. When a Redis node fails or is slow, `onRedisError` decides for the keys it
 * serves (in a cluster, the other masters' keys stay on Redis), and the node is used again
 * as soon as it answers. Every method returns a promise and never throws synchronously.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { RedisKeyedLimiter } from 'fairbucket/redis';
 *
 * const perUser = new RedisKeyedLimiter({ redis: new Redis(), capacity: 10, refillPerSecond: 1 });
 * if (!(await perUser.tryAcquire(userId))) return tooManyRequests(await perUser.retryAfter(userId));
 * ```
 */
export class RedisKeyedLimiter {
  readonly #transport: RedisTransport;
  readonly #failures: FailurePolicy;
  readonly #prefix: string;
  readonly #capacity: number;
  readonly #refillPerSecond: number;
  /** capacity and refillPerSecond as the script reads them. */
  readonly #capacityArg: string;
  readonly #refillPerSecondArg: string;
  readonly #clock: Clock;
  readonly #onDeny: ((denial: Denial) => void) | undefined;
  #granted = 0;
  #denied = 0;
  #waited = 0;
  #waitedMsTotal = 0;
  /** Callers of this process waiting out their reservation now. */
  #queued = 0;

  /**
   * Creates a limiter on Redis; it sends nothing until the first request.
   * @throws {TypeError} when `redis` is not a client it can drive (the message lists those it can), an option has the wrong type, or an option's name is unknown.
   * @throws {RangeError} when `capacity` is not > 0, `refillPerSecond` is negative, a number is NaN or infinite, or `timeoutMs` is not a whole number >= 1.
   */
  constructor(options: RedisKeyedLimiterOptions) {
    const [capacity, refillPerSecond] = checkLimitOptions(options);
    checkKnownOptions(options, ['redis', 'prefix', 'capacity', 'refillPerSecond', 'timeoutMs', 'onRedisError', 'onError', 'onDeny', 'clock']);
    const driver = redisDriver(options.redis);
    const { prefix = 'fairbucket:', timeoutMs = 500, onError } = options;
    if (typeof prefix !== 'string') throw invalid('prefix', 'a string', prefix);
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw invalid('timeoutMs', 'a whole number >= 1', timeoutMs, true);
    if (onError !== undefined && typeof onError !== 'function') throw invalid('onError', 'a function', onError);
    const onRedisError = checkErrorPolicy(options.onRedisError);
    this.#prefix = prefix;
    this.#capacity = capacity;
    this.#refillPerSecond = refillPerSecond;
    this.#capacityArg = String(capacity);
    this.#refillPerSecondArg = String(refillPerSecond);
    const clock = checkClock(options.clock);
    this.#clock = clock;
    const failures = new FailurePolicy({
      policy: onRedisError ?? new KeyedLimiter({ capacity, refillPerSecond, clock }),
      capacity,
      timeoutMs,
      clock,
      onError,
      nodeOf: driver.nodeOf,
      onRecovered: (spent) => {
        for (const [key, cost] of spent) this.#transport.run(this.#call('charge', key, String(cost)), (error) => error !== undefined && failures.report(error));
      },
    });
    this.#failures = failures;
    this.#transport = new RedisTransport(driver, timeoutMs, clock, (error, redisKey) => failures.fail(redisKey, error));
    this.#onDeny = checkOnDeny(options.onDeny);
    registerInternals(this, {
      client: options.redis,
      driver,
      transport: this.#transport,
      failures,
      prefix,
      capacity,
      refillPerSecond,
      limitArgs: [this.#capacityArg, this.#refillPerSecondArg],
      isDown: (redisKey) => this.#isDown(redisKey),
      count: (key, cost, granted, retryAfterMs) => (granted ? void this.#granted++ : this.#deny(key, cost, retryAfterMs)),
    });
  }

  /** Most tokens each bucket holds. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Tokens added to each bucket per second. */
  get refillPerSecond(): number {
    return this.#refillPerSecond;
  }

  /** The string put before each key to name its Redis key. */
  get prefix(): string {
    return this.#prefix;
  }

  /** Whether every Redis node answered its last command; while one does not, `onRedisError` decides for its keys. */
  get healthy(): boolean {
    return this.#failures.healthy;
  }

  /**
   * Takes `cost` tokens from `key`'s bucket if they are there and no reservation is owed
   * on that key; one round trip.
   * @param key - the bucket's key, any string; its Redis key is `prefix + key`.
   * @param cost - tokens to take, a finite number >= 0. @default 1
   * @returns whether the tokens were taken; false when `cost` exceeds the capacity (with
   * no round trip).
   * @throws {TypeError|RangeError} (as a rejection) when `key` is not a string or `cost` not a finite number >= 0.
   */
  async tryAcquire(key: string, cost = 1): Promise<boolean> {
    stringKey(key);
    finiteNumber('cost', cost, 0);
    if (cost > this.#capacity) {
      this.#deny(key, cost, Infinity);
      return false;
    }
    const reply = await this.#request('take', key, cost);
    if (reply === undefined) return this.#decideInstead(key, cost).granted;
    if (reply[0] !== Outcome.Refused) {
      this.#granted++;
      return true;
    }
    this.#deny(key, cost, this.#waitMs(reply[1], cost));
    return false;
  }

  /**
   * Takes `cost` tokens like `tryAcquire` and reports the decision with what rate-limit
   * headers need; one round trip (above the capacity too, to report the bucket).
   * @param key - the bucket's key, any string.
   * @param cost - tokens to take, a finite number >= 0. @default 1
   * @throws {TypeError|RangeError} (as a rejection) when `key` is not a string or `cost` not a finite number >= 0.
   * @example
   * ```ts
   * const { granted, remaining, retryAfterMs } = await limiter.take(apiToken);
   * ```
   */
  async take(key: string, cost = 1): Promise<Decision> {
    stringKey(key);
    finiteNumber('cost', cost, 0);
    // Above the capacity it can never be granted; a peek still reports the bucket.
    const overCapacity = cost > this.#capacity;
    const reply = await this.#request(overCapacity ? 'peek' : 'take', key, cost);
    if (reply === undefined) return this.#decideInstead(key, cost);
    const [outcome, tokens] = reply;
    const granted = outcome !== Outcome.Refused;
    const retryAfterMs = granted ? 0 : overCapacity ? Infinity : this.#waitMs(tokens, cost);
    if (granted) this.#granted++;
    else this.#deny(key, cost, retryAfterMs);
    return { granted, remaining: Math.max(0, tokens), retryAfterMs, resetAfterMs: this.#waitMs(tokens, this.#capacity), limit: this.#capacity };
  }

  /**
   * Takes `cost` tokens from `key`'s bucket, waiting first if they are not there: the
   * script reserves this caller's place in Redis (the bucket goes into debt, never by
   * more than `maxWaitMs` allows) and replies with the exact wait; this caller then sleeps
   * once. Callers on every process are served in the order their reservations reached
   * Redis. An abort while waiting gives the reservation back.
   * @param key - the bucket's key, any string.
   * @param cost - tokens to take, a finite number >= 0 and <= capacity. @default 1
   * @returns a promise that resolves when the tokens are taken. It rejects with a
   * RateLimitError (taking nothing) when the wait would exceed `maxWaitMs` or can never
   * end; with `signal.reason` when aborted; with a RangeError when `cost` exceeds the
   * capacity; with a TypeError or RangeError on bad input. While Redis fails,
   * `onRedisError` decides: `'allow'` resolves, `'deny'` rejects with a RateLimitError
   * whose `cause` is the failure, a KeyedLimiter waits in it.
   */
  async acquire(key: string, cost = 1, options?: AcquireOptions): Promise<void> {
    stringKey(key);
    const admitted = admit(cost, options, this.#capacity);
    if (typeof admitted !== 'number') throw admitted.refusal;
    const signal = options?.signal;
    const maxWaitMs = options?.maxWaitMs ?? Infinity;
    const reply = await this.#request('reserve', key, cost, maxWaitMs === Infinity ? '-1' : String(maxWaitMs), signal);
    if (reply === undefined) return this.#acquireInstead(key, cost, options);
    const [outcome, tokens] = reply;
    if (outcome === Outcome.Refused) {
      const waitMs = this.#waitMs(tokens, cost);
      this.#deny(key, cost, waitMs);
      throw new RateLimitError(waitMs);
    }
    this.#granted++;
    if (outcome === Outcome.Granted) return;
    // The debt this reservation left is exactly what refills during its wait.
    const waitMs = (-tokens * 1000) / this.#refillPerSecond;
    this.#queued++;
    try {
      await sleep(this.#clock, waitMs, signal);
    } catch (reason) {
      // Sent before the rejection is seen, so this client's next command already sees it.
      this.#transport.giveBack(this.#call('reserve', key, String(cost)));
      throw reason;
    } finally {
      this.#queued--;
    }
    this.#waited++;
    this.#waitedMsTotal += waitMs;
  }

  /**
   * Returns the milliseconds until `tryAcquire(key, cost)` would succeed, behind every
   * reservation owed on `key`: 0 means now, Infinity means never. Changes nothing.
   * @throws {TypeError|RangeError} (as a rejection) on a bad key or cost.
   */
  async retryAfter(key: string, cost = 1): Promise<number> {
    stringKey(key);
    finiteNumber('cost', cost, 0);
    if (cost > this.#capacity) return Infinity;
    const reply = await this.#request('peek', key, cost);
    return reply ? this.#waitMs(reply[1], cost) : this.#failures.retryAfter(key, cost);
  }

  /**
   * Returns the tokens a `tryAcquire(key)` could take right now (fractional); 0 while
   * reservations are owed on `key`. Changes nothing.
   * @throws {TypeError} (as a rejection) when `key` is not a string.
   */
  async available(key: string): Promise<number> {
    stringKey(key);
    const reply = await this.#request('peek', key, 0);
    return reply ? Math.max(0, reply[1]) : this.#failures.available(key);
  }

  /**
   * Gives back `amount` tokens to `key`'s bucket, taken but not used, never above the
   * capacity. While Redis fails, gives them to a KeyedLimiter policy instead.
   * @throws {TypeError|RangeError} (as a rejection) on a bad key, or when `amount` is not a finite number >= 0.
   */
  async refund(key: string, amount: number): Promise<void> {
    stringKey(key);
    finiteNumber('amount', amount, 0);
    const reply = await this.#request('refund', key, amount);
    if (!reply) this.#failures.refund(key, amount, this.#failures.downNodeOf(this.#prefix + key));
  }

  /**
   * Forgets `key`'s bucket (it starts again full) in Redis, and in a KeyedLimiter policy.
   * @returns whether Redis held a bucket for `key` (a full one is not held).
   * @throws {TypeError} (as a rejection) when `key` is not a string; rejects with the
   * failure when Redis fails or does not answer within `timeoutMs`.
   */
  async delete(key: string): Promise<boolean> {
    stringKey(key);
    this.#failures.local?.delete(key);
    const redisKey = this.#prefix + key;
    const reply = await new Promise((resolve, reject) =>
      this.#transport.command(['DEL', redisKey], redisKey, (error, value) => (error === undefined ? resolve(value) : reject(error))),
    );
    return Number(reply) === 1;
  }

  /** Returns the counters of this process's requests since the limiter was created. */
  /** The clock this limiter waits on (Redis's own clock decides). */
  get clock(): Clock {
    return this.#clock;
  }

  /**
   * Decides several buckets of limiters on this client in one script call, for
   * `fairbucket/outbound`'s `acquireAll` and `tryAcquireAll`; `takeAll` is the same.
   */
  [TAKE_ALL](entries: readonly RedisLimitEntry[]): Promise<RedisMultiDecision> {
    return takeAll(entries);
  }

  stats(): RedisLimiterStats {
    return {
      granted: this.#granted,
      denied: this.#denied,
      waited: this.#waited,
      waitedMsTotal: this.#waitedMsTotal,
      queued: this.#queued,
      failures: this.#failures.failures,
      fallbacks: this.#failures.fallbacks,
    };
  }

  #waitMs(tokens: number, cost: number): number {
    return waitMs(tokens, cost, this.#capacity, this.#refillPerSecond);
  }

  #deny(key: string, cost: number, retryAfterMs: number): void {
    this.#denied++;
    this.#onDeny?.({ key, cost, retryAfterMs });
  }

  /** What take and tryAcquire decide when Redis cannot. */
  #decideInstead(key: string, cost: number): Decision {
    const decision = this.#failures.take(key, cost, this.#failures.downNodeOf(this.#prefix + key));
    if (decision.granted) this.#granted++;
    else this.#deny(key, cost, decision.retryAfterMs);
    return decision;
  }

  /** What acquire does when Redis cannot decide. */
  #acquireInstead(key: string, cost: number, options: AcquireOptions | undefined): Promise<void> {
    return this.#failures.acquire(key, cost, options, this.#failures.downNodeOf(this.#prefix + key)).then(
      () => void this.#granted++,
      (reason: unknown) => {
        if (reason instanceof RateLimitError) this.#deny(key, cost, reason.retryAfterMs);
        throw reason;
      },
    );
  }

  /** The script call `operation` of `cost` tokens on `key`'s bucket. */
  #call(operation: Operation, key: string, cost: string, maxWaitMs?: string): ScriptCall {
    const argv = [this.#capacityArg, this.#refillPerSecondArg, cost];
    if (maxWaitMs !== undefined) argv.push(maxWaitMs);
    return { script: DECIDE, keys: [this.#prefix + key], operation, argv };
  }

  /** Whether the node of `redisKey` is down; when it is, a probe goes to it (paced by the policy). */
  #isDown(redisKey: string): boolean {
    const down = this.#failures.downNodeOf(redisKey);
    if (down === undefined) return false;
    const peek = (probeKey: string): ScriptCall => ({ script: DECIDE, keys: [probeKey], operation: 'peek', argv: [this.#capacityArg, this.#refillPerSecondArg, '0'] });
    this.#failures.probe(down, (probeKey, done) =>
      this.#transport.run(peek(probeKey), (error, reply) => {
        if (error !== undefined) return done(error);
        try {
          readReply(reply, probeKey);
          done(undefined);
        } catch (unreadable) {
          done(unreadable instanceof RedisDataError ? undefined : unreadable);
        }
      }),
    );
    return true;
  }

  /**
   * Runs the script for one request. Resolves with its reply, or with undefined when the
   * policy must decide: the key's node is down (then a probe may go to it), failed or did
   * not answer in time (then it is down), or the key holds no bucket (reported, and
   * nothing is down). Rejects only with `signal.reason`. A grant whose reply comes after
   * its caller was answered otherwise (late, or aborted) is given back by the transport.
   */
  #request(operation: Operation, key: string, cost: number, maxWaitMs?: string, signal?: AbortSignal): Promise<Reply | undefined> | undefined {
    const failures = this.#failures;
    const redisKey = this.#prefix + key;
    if (this.#isDown(redisKey)) return undefined;
    return new Promise<Reply | undefined>((resolve, reject) => {
      const onAbort = () => {
        inFlight.abandon();
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const inFlight = this.#transport.run(this.#call(operation, key, String(cost), maxWaitMs), (error, reply) => {
        signal?.removeEventListener('abort', onAbort);
        try {
          if (error === undefined) return resolve(readReply(reply, redisKey));
        } catch (unreadable) {
          error = unreadable;
        }
        if (error instanceof RedisDataError) failures.report(error);
        else failures.fail(redisKey, error);
        resolve(undefined);
      });
    });
  }
}
