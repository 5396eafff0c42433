import { KeyedLimiter } from './keyed-limiter.js';
import { checkKnownOptions } from './known-options.js';
import { VirtualClock } from './simulate-clock.js';
import { KeyTable } from './simulate-keys.js';
import type { SimulationEvent } from './simulate-options.js';
import { type Replayer, replay } from './simulate-run.js';
import { ReplayTime } from './simulate-time.js';
import { finiteNumber, invalid } from './validate.js';

/** Capacities `recommend` tries by default: 1 to 1,000 in steps of about 1-2-5. */
export const DEFAULT_CAPACITIES: readonly number[] = [1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 500, 1000];

/** Refill rates (tokens per second) `recommend` tries by default: one per 100 s to 100 per second. */
export const DEFAULT_RATES: readonly number[] = [0.01, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100];

/**
 * Options of `recommend`: the target, and the policies to try.
 * @example
 * ```ts
 * const options: RecommendOptions = { maxRefusedKeysShare: 0.001, capacities: [10, 20, 50], rates: [1, 2, 5] };
 * ```
 */
export interface RecommendOptions {
  /** Largest share of keys that may be refused at least once, from 0 to 1 (0.001 is 0.1%). @default 0.001 */
  readonly maxRefusedKeysShare?: number | undefined;
  /** Largest share of all requests that may be refused, from 0 to 1. @default 1 (no bound) */
  readonly maxRefusedShare?: number | undefined;
  /** Capacities to try, finite numbers > 0. @default DEFAULT_CAPACITIES */
  readonly capacities?: readonly number[] | undefined;
  /** Refill rates to try, tokens per second, finite numbers >= 0. @default DEFAULT_RATES */
  readonly rates?: readonly number[] | undefined;
  /** `maxKeys` of every limiter tried. @default 1_000_000 */
  readonly maxKeys?: number | undefined;
  /** As `simulate`'s option: how far back, in ms, an event may be and still be replayed. @default 10_000 */
  readonly toleranceMs?: number | undefined;
}

/**
 * What one policy tried by `recommend` did: the summary of its report.
 * @example
 * ```ts
 * const { capacity, refillPerSecond, refusedKeysShare } = recommendation.frontier[0]!;
 * ```
 */
export interface PolicySummary {
  readonly capacity: number;
  readonly refillPerSecond: number;
  readonly events: number;
  readonly refused: number;
  readonly refusedShare: number;
  readonly keys: number;
  /** Keys refused at least once. */
  readonly refusedKeys: number;
  readonly refusedKeysShare: number;
  /** Most buckets held at once. */
  readonly peakSize: number;
  /** Whether it meets the target. */
  readonly meetsTarget: boolean;
}

/**
 * The result of `recommend`: every policy tried, the frontier of the smallest that meet
 * the target, and the one of them recommended.
 * @example
 * ```ts
 * const { recommended } = await recommend(events, { maxRefusedKeysShare: 0.001 });
 * if (recommended) new KeyedLimiter({ capacity: recommended.capacity, refillPerSecond: recommended.refillPerSecond });
 * ```
 */
export interface Recommendation {
  readonly target: { readonly maxRefusedKeysShare: number; readonly maxRefusedShare: number };
  /**
   * The policies that meet the target with no other tried policy meeting it with a
   * capacity and a rate both no larger: the trade-offs between bursts and steady rate,
   * by capacity ascending (so rate descending).
   */
  readonly frontier: readonly PolicySummary[];
  /**
   * The frontier policy that lets a key take the fewest tokens in its first minute from
   * full (`capacity + 60 * refillPerSecond`): the tightest fit; undefined when none meets the target.
   */
  readonly recommended: PolicySummary | undefined;
  /** Every policy tried, by capacity then rate. */
  readonly grid: readonly PolicySummary[];
}

/** Returns the tried values of `name`: a non-empty array of finite numbers checked by `check`, sorted ascending and without repeats. */
function grid(name: string, values: unknown, above: boolean): number[] {
  if (!Array.isArray(values) || values.length === 0) throw invalid(name, 'a non-empty array of numbers', values);
  return [...new Set(values.map((value, index) => finiteNumber(`${name}[${index}]`, value, 0, Infinity, above)))].sort((a, b) => a - b);
}

/** Returns a share from 0 to 1, else throws naming `name`. */
function share(name: string, value: unknown): number {
  return finiteNumber(name, value, 0, 1);
}

/**
 * Recommender replays requests through one KeyedLimiter per policy of a grid at once, on
 * one virtual clock, so that a stream is read once whatever the grid's size.
 */
export class Recommender implements Replayer {
  readonly #clock = new VirtualClock();
  readonly #time: ReplayTime;
  readonly #keys = new KeyTable();
  readonly #target: Recommendation['target'];
  readonly #limiters: KeyedLimiter[] = [];
  readonly #refused: number[];
  readonly #refusedKeys: number[];
  readonly #peakSize: number[];
  /** Whether key k was refused by policy p, at `k * policies + p`. */
  #refusedFlags = new Uint8Array(0);
  #events = 0;

  /** @throws {TypeError|RangeError} on a bad option. */
  constructor(options: RecommendOptions = {}) {
    if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
    checkKnownOptions(options, ['maxRefusedKeysShare', 'maxRefusedShare', 'capacities', 'rates', 'maxKeys', 'toleranceMs']);
    const { maxRefusedKeysShare = 0.001, maxRefusedShare = 1, capacities = DEFAULT_CAPACITIES, rates = DEFAULT_RATES, maxKeys, toleranceMs = 10_000 } = options;
    this.#target = { maxRefusedKeysShare: share('maxRefusedKeysShare', maxRefusedKeysShare), maxRefusedShare: share('maxRefusedShare', maxRefusedShare) };
    this.#time = new ReplayTime(toleranceMs === Infinity ? Infinity : finiteNumber('toleranceMs', toleranceMs, 0));
    for (const capacity of grid('capacities', capacities, true)) {
      for (const refillPerSecond of grid('rates', rates, false)) this.#limiters.push(new KeyedLimiter({ capacity, refillPerSecond, maxKeys, clock: this.#clock }));
    }
    this.#refused = this.#limiters.map(() => 0);
    this.#refusedKeys = this.#limiters.map(() => 0);
    this.#peakSize = this.#limiters.map(() => 0);
  }

  /** Replays one request on every policy; returns false when it was skipped as out of order. */
  add(timeMs: number, key: string, cost = 1): boolean {
    const atMs = this.#time.at(timeMs, key, cost);
    if (atMs < 0) return false;
    this.#clock.nowMs = atMs;
    this.#events++;
    const index = this.#keys.indexOf(key);
    // The limiter keeps the key table's own copy of the key (see ownString).
    const held = this.#keys.name(index);
    const limiters = this.#limiters;
    const policies = limiters.length;
    if ((index + 1) * policies > this.#refusedFlags.length) this.#growFlags();
    for (let policy = 0; policy < policies; policy++) {
      const limiter = limiters[policy]!;
      if (!limiter.tryAcquire(held, cost)) {
        this.#refused[policy]!++;
        if (this.#refusedFlags[index * policies + policy] === 0) {
          this.#refusedFlags[index * policies + policy] = 1;
          this.#refusedKeys[policy]!++;
        }
      }
      const size = limiter.size;
      if (size > this.#peakSize[policy]!) this.#peakSize[policy] = size;
    }
    return true;
  }

  /** Nothing to settle: every policy is replayed in `'try'` mode. */
  async settle(): Promise<void> {}

  /** Returns the recommendation from the requests replayed so far. */
  finish(): Recommendation {
    const keys = this.#keys.size;
    const events = this.#events;
    const { maxRefusedKeysShare, maxRefusedShare } = this.#target;
    const all = this.#limiters.map((limiter, policy): PolicySummary => {
      const refused = this.#refused[policy]!;
      const refusedKeys = this.#refusedKeys[policy]!;
      const refusedShare = events ? refused / events : 0;
      const refusedKeysShare = keys ? refusedKeys / keys : 0;
      const { capacity, refillPerSecond } = limiter;
      const meetsTarget = refusedKeysShare <= maxRefusedKeysShare && refusedShare <= maxRefusedShare;
      return { capacity, refillPerSecond, events, refused, refusedShare, keys, refusedKeys, refusedKeysShare, peakSize: this.#peakSize[policy]!, meetsTarget };
    });
    const meeting = all.filter((summary) => summary.meetsTarget);
    const frontier = meeting.filter(
      (summary) => !meeting.some((other) => other !== summary && other.capacity <= summary.capacity && other.refillPerSecond <= summary.refillPerSecond),
    );
    const minuteTokens = (summary: PolicySummary): number => summary.capacity + 60 * summary.refillPerSecond;
    const recommended = frontier.reduce<PolicySummary | undefined>((best, summary) => (best && minuteTokens(best) <= minuteTokens(summary) ? best : summary), undefined);
    return { target: this.#target, frontier, recommended, grid: all };
  }

  #growFlags(): void {
    const next = new Uint8Array(Math.max(1024, this.#keys.events.length) * this.#limiters.length);
    next.set(this.#refusedFlags);
    this.#refusedFlags = next;
  }
}

/**
 * Replays `events` through a KeyedLimiter for each policy of a grid of capacities and
 * refill rates (`'try'` mode, all at once, one pass over the events) and returns the
 * frontier of the smallest policies under which at most `maxRefusedKeysShare` of the keys
 * are ever refused (and at most `maxRefusedShare` of the requests), each with its summary.
 * @param events - requests in time order, from an iterable or an async iterable.
 * @param options - the target and the grid: `maxRefusedKeysShare`, `maxRefusedShare`, `capacities`, `rates`, `maxKeys`, `toleranceMs`.
 * @throws {TypeError|RangeError} on a bad option or event.
 * @example
 * ```ts
 * import { recommend } from 'fairbucket/simulate';
 * const events = Array.from({ length: 100 }, (_, index) => ({ timeMs: index * 100, key: `client-${index % 5}` }));
 * const { recommended } = await recommend(events, { maxRefusedKeysShare: 0 });
 * recommended?.capacity; // 1: each client asks every 500 ms
 * ```
 */
export async function recommend(events: Iterable<SimulationEvent> | AsyncIterable<SimulationEvent>, options?: RecommendOptions): Promise<Recommendation> {
  const recommender = new Recommender(options);
  await replay(events, recommender);
  return recommender.finish();
}
