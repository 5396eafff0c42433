import type { BucketStore } from './bucket-store.js';
import { type Clock, checkClock } from './clock.js';
import type { Decision } from './decision.js';
import { RateLimitError } from './errors.js';
import { admit, checkCost, granted, tooLong } from './check-options.js';
import type { Part, Party } from './enlist.js';
import { type Entry, Lane } from './lane.js';
import { LimitState } from './limit-state.js';
import type { AcquireOptions, Denial, Reservation } from './limit-options.js';
import { MonotonicTime } from './monotonic-time.js';
import { MILLI, type MilliTokens, adjustBy, tokensAt } from './refill.js';
import { aboveCapacity } from './validate.js';
import { WaitScheduler } from './wait-scheduler.js';

/**
 * LimiterEngine holds every semantic of the in-memory limiters once: deciding at one
 * instant, planning and serving waiters, reservations, settlement, pauses, live
 * reconfiguration, statistics and `onDeny`. TokenBucket (one SingleBucket) and
 * KeyedLimiter (a BucketSlab) are thin faces over it that choose the store and check keys.
 */
export class LimiterEngine {
  readonly time: MonotonicTime;
  readonly state: LimitState;
  readonly #store: BucketStore;
  readonly #scheduler: WaitScheduler;
  readonly #onDeny: ((denial: Denial) => void) | undefined;
  readonly #keyed: boolean;
  /** Buckets with a line of waiters (or a pause of their own); they own their level meanwhile. */
  readonly #lanes = new Map<string, Lane>();
  /**
   * Largest need taken without a second look: the capacity, or -1 from a pause or a
   * reconfiguration until `#takeRare` lifts it. One comparison on the hot path for both.
   */
  #takeLimit = -1;
  #granted = 0;
  #denied = 0;

  /**
   * `store` makes the bucket store over the limiter's LimitState, whose origin is the
   * clock's first reading (`nowMs`). `keyed` says whether `onDeny` hears the key.
   */
  constructor(store: (state: LimitState, nowMs: number) => BucketStore, capacity: number, refillPerSecond: number, clock: unknown, onDeny: ((denial: Denial) => void) | undefined, keyed: boolean) {
    this.time = new MonotonicTime(checkClock(clock));
    const nowMs = this.time.now();
    this.state = new LimitState(capacity, refillPerSecond, nowMs);
    this.#store = store(this.state, nowMs);
    this.#onDeny = onDeny;
    this.#keyed = keyed;
    this.#scheduler = new WaitScheduler(this.time, this.state, (lane) => {
      this.#lanes.delete(lane.key);
      this.#store.setLevel(lane.key, lane.levelMilli);
    });
    // The origin moves on the first reading past rebaseAtMs, whoever reads the clock: the
    // check costs nothing more in `now` (see ARCHITECTURE.md).
    this.time.onAlarm = (atMs) => this.#rebase(atMs);
    this.time.alarmAtMs = this.state.rebaseAtMs;
  }

  /** The clock the limiter reads and arms its timer on. */
  get clock(): Clock {
    return this.time.clock;
  }

  /** Buckets held: in the store, and those with a line. */
  get size(): number {
    return this.#store.size + this.#lanes.size;
  }

  get queued(): number {
    return this.#scheduler.queued;
  }

  get evicted(): number {
    return this.#store.evicted;
  }

  /** Reads the clock once for a decision (which moves the origin of the arithmetic when due). */
  now(): number {
    return this.time.now();
  }

  tryAcquire(key: string, cost: unknown): boolean {
    const need = checkCost(cost);
    if (this.#take(key, need, this.time.now())) {
      this.#granted++;
      return true;
    }
    this.#denied++;
    if (this.#onDeny) this.#tellDenied(key, cost as number, need, undefined);
    return false;
  }

  acquire(key: string, cost: unknown, options: AcquireOptions | undefined): Promise<void> {
    const need = admit(cost, options, this.state.capacity);
    if (typeof need !== 'number') return Promise.reject(need.refusal);
    const maxWaitMs = options?.maxWaitMs ?? Infinity;
    const nowMs = this.now();
    const lane = this.#laneOf(key, nowMs);
    // Behind callers already waiting, nothing is taken at once (#take would say so too, slower).
    if (!lane && this.#take(key, need, nowMs)) {
      this.#granted++;
      return granted;
    }
    const tokens = lane ? 0 : this.#tokens(key, nowMs);
    // Joining a line that ends, with any wait accepted, nothing can refuse: skip planning the wait.
    const refusal =
      lane && maxWaitMs === Infinity && this.#scheduler.endsInTime(lane, need, nowMs)
        ? undefined
        : (tooLong(this.#scheduler.waitMs(lane, tokens, need, nowMs), maxWaitMs) ?? (lane ? undefined : this.#refuseNewKey(key, nowMs)));
    if (refusal) {
      this.#deny(key, cost as number, need, refusal.retryAfterMs);
      return Promise.reject(refusal);
    }
    return this.#scheduler.enqueue(lane ?? this.#open(key, tokens, nowMs), need, options?.signal, nowMs);
  }

  retryAfter(key: string, cost: unknown): number {
    const need = checkCost(cost);
    return this.#waitMs(key, need, this.now());
  }

  available(key: string): number {
    return this.#available(key, this.now());
  }

  /** Takes like `tryAcquire` and reports the decision, all at one clock reading. */
  decide(key: string, cost: unknown): Decision {
    const need = checkCost(cost);
    const nowMs = this.now();
    const full = this.state.fullMilli;
    const granted = this.#take(key, need, nowMs);
    let retryAfterMs = 0;
    if (granted) this.#granted++;
    else {
      retryAfterMs = this.#waitMs(key, need, nowMs);
      this.#deny(key, cost as number, need, retryAfterMs);
    }
    return { granted, remaining: this.#available(key, nowMs), retryAfterMs, resetAfterMs: this.#waitMs(key, full, nowMs), limit: this.state.capacity };
  }

  reserve(key: string, cost: unknown): Reservation {
    const need = checkCost(cost);
    if (need > this.state.fullMilli) throw aboveCapacity(cost, this.state.capacity);
    const nowMs = this.now();
    let entry: Entry | undefined;
    let lane = this.#laneOf(key, nowMs);
    let delayMs = 0;
    if (!this.#take(key, need, nowMs)) {
      const tokens = lane ? 0 : this.#tokens(key, nowMs);
      delayMs = this.#scheduler.waitMs(lane, tokens, need, nowMs);
      const refusal = delayMs === Infinity ? new RateLimitError(Infinity) : lane ? undefined : this.#refuseNewKey(key, nowMs);
      if (refusal) {
        this.#deny(key, cost as number, need, refusal.retryAfterMs);
        throw refusal;
      }
      lane ??= this.#open(key, tokens, nowMs);
      entry = this.#scheduler.reserve(lane, need, nowMs + delayMs, nowMs);
    }
    this.#granted++;
    let cancelled = false;
    return {
      delayMs,
      cancel: () => {
        if (cancelled || this.time.now() > nowMs + delayMs) return false;
        cancelled = true;
        if (!entry || !this.#scheduler.cancel(lane!, entry)) this.adjust(key, need);
        return true;
      },
    };
  }

  /** Adds `deltaMilli` (negative for a charge) to `key`'s bucket, never above the capacity. */
  adjust(key: string, deltaMilli: MilliTokens): void {
    const nowMs = this.now();
    const lane = this.#lanes.get(key);
    if (lane) return this.#scheduler.adjust(lane, deltaMilli, nowMs);
    const level = this.#store.levelOf(key);
    // A refund to a key not held leaves it full: nothing to hold.
    if (level === undefined && deltaMilli >= 0) return;
    const state = this.state;
    const accrued = state.accruedAt(nowMs);
    const next = adjustBy(level ?? state.fullMilli - accrued, deltaMilli, accrued, state.fullMilli);
    if (level !== undefined || this.#store.makeRoom(this.#lanes.size, accrued)) this.#store.setLevel(key, next);
  }

  /** Grants nothing before `nowMs + ms`: on `key` only, or on every key when undefined. A shorter pause never shortens one in force. */
  pauseFor(ms: number, key: string | undefined): void {
    const nowMs = this.now();
    if (key === undefined) {
      this.state.pausedUntilMs = Math.max(this.state.pausedUntilMs, nowMs + ms);
      this.#takeLimit = -1;
      return this.#scheduler.replan(nowMs);
    }
    const lane = this.#lanes.get(key) ?? this.#open(key, this.#tokens(key, nowMs), nowMs);
    lane.pausedUntilMs = Math.max(lane.pausedUntilMs, nowMs + ms);
    this.#scheduler.serve(lane, nowMs);
  }

  /** Ends the pause of `key` now, or every pause (of all keys and of each) when undefined. */
  resume(key: string | undefined): void {
    const nowMs = this.now();
    if (key !== undefined) {
      const lane = this.#lanes.get(key);
      if (lane) {
        lane.pausedUntilMs = -Infinity;
        this.#scheduler.serve(lane, nowMs);
      }
      return;
    }
    this.state.pausedUntilMs = -Infinity;
    for (const lane of this.#lanes.values()) lane.pausedUntilMs = -Infinity;
    this.#scheduler.replan(nowMs);
  }

  /** Changes the capacity and rate of every bucket, keeping the tokens each holds now (at most the new capacity). */
  reconfigure(capacity: number, refillPerSecond: number): void {
    const nowMs = this.now();
    const state = this.state;
    const accrued = state.accruedAt(nowMs);
    const oldFull = state.fullMilli;
    const full = capacity * MILLI;
    this.#store.rebase((level) => Math.min(oldFull, level + accrued, full));
    // A line's level may have grown past the old capacity (a pause, a head held by an
    // acquireAll caller): a real bucket held at most that.
    for (const lane of this.#lanes.values()) lane.levelMilli = Math.min(lane.levelMilli + accrued, oldFull, full);
    state.reset(capacity, refillPerSecond, nowMs);
    this.time.alarmAtMs = state.rebaseAtMs;
    this.#store.configure();
    this.#takeLimit = -1;
    this.#scheduler.replan(nowMs);
  }

  stats(): { granted: number; denied: number; waited: number; waitedMsTotal: number; queued: number } {
    const scheduler = this.#scheduler;
    return {
      granted: this.#granted + scheduler.waited + scheduler.servedAtOnce,
      denied: this.#denied,
      waited: scheduler.waited,
      waitedMsTotal: scheduler.waitedMsTotal,
      queued: scheduler.queued,
    };
  }

  /** Forgets `key`'s bucket and its own pause; callers waiting on it are served from a full bucket at once, as far as its tokens go. */
  forget(key: string): boolean {
    const held = this.#store.drop(key);
    const lane = this.#lanes.get(key);
    if (lane) this.#refill(lane);
    return held || lane !== undefined;
  }

  /** Forgets every bucket, as `forget` does each. */
  forgetAll(): void {
    this.#store.clear();
    // Serving one line may serve another (an acquireAll caller's): skip a line released meanwhile.
    for (const lane of [...this.#lanes.values()]) if (this.#lanes.get(lane.key) === lane) this.#refill(lane);
  }

  abortAll(reason: unknown): void {
    this.#scheduler.abortAll(reason);
  }

  /**
   * Takes a place for `cost` tokens at the end of `key`'s line for an `acquireAll` caller:
   * it is charged only when `party.ready` finds every place of the caller ready.
   * @throws what `acquire` rejects with before waiting (bad cost, above the capacity, no room for a new key).
   */
  enlist(key: string, cost: unknown, party: Party, reject: (reason: unknown) => void): Part {
    const need = admit(cost, undefined, this.state.capacity);
    if (typeof need !== 'number') throw need.refusal;
    const nowMs = this.now();
    let lane = this.#laneOf(key, nowMs);
    const tokens = lane ? 0 : this.#tokens(key, nowMs);
    const waitMs = this.#scheduler.waitMs(lane, tokens, need, nowMs);
    if (!lane) {
      const refusal = this.#refuseNewKey(key, nowMs);
      if (refusal) {
        this.#deny(key, cost as number, need, refusal.retryAfterMs);
        throw refusal;
      }
      lane = this.#open(key, tokens, nowMs);
    }
    const deny = (retryAfterMs: number): void => this.#deny(key, cost as number, need, retryAfterMs);
    return this.#scheduler.enlist(lane, need, party, reject, { nowMs, waitMs, now: () => this.now(), deny });
  }

  /**
   * Takes `need` milli-tokens from `key`'s bucket at `nowMs` if they are there, nobody
   * waits on it and no pause is on. Kept small, with the rare paths in `#takeRare`: V8
   * inlines a hot path only within a budget of bytecode (see ARCHITECTURE.md).
   */
  #take(key: string, need: MilliTokens, nowMs: number): boolean {
    const state = this.state;
    const store = this.#store;
    const accrued = (nowMs - state.originMs) * state.refillPerSecond;
    store.sweep(accrued);
    return (need <= this.#takeLimit ? store.take(key, need, accrued) : undefined) ?? this.#takeRare(key, need, nowMs);
  }

  /** `#take` for a key that holds no bucket in the store, or a need above the take limit (a pause, a reconfiguration, a cost above the capacity). */
  #takeRare(key: string, need: MilliTokens, nowMs: number): boolean {
    const state = this.state;
    if (nowMs < state.pausedUntilMs || (this.#lanes.size !== 0 && this.#laneOf(key, nowMs) !== undefined)) return false;
    const full = (this.#takeLimit = state.fullMilli);
    const accrued = state.accruedAt(nowMs);
    const store = this.#store;
    if (store.levelOf(key) !== undefined) {
      if (need <= full) return store.take(key, need, accrued)!;
      // A cost above the capacity is refused, but the key was used.
      store.touch(key);
      return false;
    }
    if (need > full || !store.makeRoom(this.#lanes.size, accrued)) return false;
    store.setLevel(key, full - need - accrued);
    return true;
  }

  /**
   * Returns `key`'s line, served first when it is due (its timer may not have run yet: a
   * late timer, or fake time moved without running timers), so that every decision sees
   * the line as it is at `nowMs`; undefined when the key has none (any longer).
   */
  #laneOf(key: string, nowMs: number): Lane | undefined {
    const lane = this.#lanes.get(key);
    if (lane === undefined || lane.dueMs > nowMs) return lane;
    this.#scheduler.serve(lane, nowMs);
    return this.#lanes.get(key);
  }

  #deny(key: string, cost: number, need: MilliTokens, retryAfterMs?: number): void {
    this.#denied++;
    if (this.#onDeny) this.#tellDenied(key, cost, need, retryAfterMs);
  }

  /** Tells `onDeny` of a refusal, with the wait it would take (`retryAfterMs` when the caller knows it). */
  #tellDenied(key: string, cost: number, need: MilliTokens, retryAfterMs: number | undefined): void {
    const wait = retryAfterMs ?? this.#waitMs(key, need, this.time.now());
    this.#onDeny!({ key: this.#keyed ? key : undefined, cost, retryAfterMs: wait });
  }

  /**
   * Returns the refusal for a new key that cannot be held (every bucket held has waiters),
   * valid until the next grant, the earliest a bucket could free up; else undefined.
   */
  #refuseNewKey(key: string, nowMs: number): RateLimitError | undefined {
    if (this.#store.levelOf(key) !== undefined || this.#store.makeRoom(this.#lanes.size, this.state.accruedAt(nowMs))) return undefined;
    return new RateLimitError(this.#scheduler.nextGrantMs(nowMs), 'Rate limit exceeded: every bucket held (maxKeys) has waiters');
  }

  /** Starts `key`'s line, moving its level (`tokens` now, at most the capacity) out of the store. */
  #open(key: string, tokens: MilliTokens, nowMs: number): Lane {
    this.#store.drop(key);
    const lane = new Lane(key, tokens - this.state.accruedAt(nowMs));
    this.#lanes.set(key, lane);
    return lane;
  }

  /** Refills `lane` to full and ends its own pause, as for a key forgotten, and serves it. */
  #refill(lane: Lane): void {
    const nowMs = this.now();
    lane.levelMilli = this.state.fullMilli - this.state.accruedAt(nowMs);
    lane.pausedUntilMs = -Infinity;
    this.#scheduler.serve(lane, nowMs);
  }

  /** Moves the origin of the arithmetic to `nowMs`, keeping every bucket's tokens. */
  #rebase(nowMs: number): void {
    const state = this.state;
    const accrued = state.accruedAt(nowMs);
    this.#store.rebase((level) => level + accrued);
    for (const lane of this.#lanes.values()) lane.levelMilli += accrued;
    state.reset(state.capacity, state.refillPerSecond, nowMs);
    this.time.alarmAtMs = state.rebaseAtMs;
  }

  #available(key: string, nowMs: number): number {
    const lane = this.#laneOf(key, nowMs);
    return lane || nowMs < this.state.pausedUntilMs ? 0 : Math.max(0, this.#tokens(key, nowMs)) / MILLI;
  }

  /**
   * Milliseconds until `need` milli-tokens are there for a new caller on `key`, behind
   * every waiter and any pause: Infinity for a need above the capacity.
   */
  #waitMs(key: string, need: MilliTokens, nowMs: number): number {
    if (need > this.state.fullMilli) return Infinity;
    const lane = this.#laneOf(key, nowMs);
    return this.#scheduler.waitMs(lane, lane ? 0 : this.#tokens(key, nowMs), need, nowMs);
  }

  /** Milli-tokens in `key`'s bucket at `nowMs` (a new bucket is full), at most the capacity; the key must have no line. */
  #tokens(key: string, nowMs: number): MilliTokens {
    const level = this.#store.levelOf(key);
    const state = this.state;
    return level === undefined ? state.fullMilli : tokensAt(level, state.accruedAt(nowMs), state.fullMilli);
  }
}
