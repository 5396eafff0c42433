import { checkKnownOptions } from './known-options.js';
import { finiteNumber, invalid } from './validate.js';

/**
 * One request to replay: when it arrived, whose it was, and what it costs.
 * @example
 * ```ts
 * const event: SimulationEvent = { timeMs: Date.parse('2026-01-05T10:00:00Z'), key: '203.0.113.7', cost: 1 };
 * ```
 */
export interface SimulationEvent {
  /** When the request arrived, in milliseconds on any time line (epoch milliseconds from a log, say); only differences matter. */
  readonly timeMs: number;
  /** The limiter's key of the request: a client address, an API token. */
  readonly key: string;
  /** Tokens the request costs, a finite number >= 0. @default 1 */
  readonly cost?: number | undefined;
}

/**
 * The limits to try: the options of the KeyedLimiter that replays the events.
 * @example
 * ```ts
 * const policy: SimulationPolicy = { capacity: 20, refillPerSecond: 2 };
 * ```
 */
export interface SimulationPolicy {
  /** Most tokens each key's bucket holds, a finite number > 0. */
  readonly capacity: number;
  /** Tokens added to each bucket per second, a finite number >= 0. */
  readonly refillPerSecond: number;
  /** Most buckets held at once, as KeyedLimiter's option. @default 1_000_000 */
  readonly maxKeys?: number | undefined;
}

/**
 * How to replay: refusing or queueing, and what the report keeps.
 * @example
 * ```ts
 * const options: SimulateOptions = { mode: 'wait', maxWaitMs: 2_000, topKeys: 5 };
 * ```
 */
export interface SimulateOptions {
  /**
   * `'try'` replays each request as `tryAcquire` (a refused request is answered 429);
   * `'wait'` as `acquire` with `maxWaitMs` (a request waits its turn, and is refused
   * only when its wait would exceed `maxWaitMs`).
   * @default 'try'
   */
  readonly mode?: 'try' | 'wait' | undefined;
  /** In `'wait'` mode, the longest wait accepted, in milliseconds, a finite number >= 0 or Infinity. @default Infinity */
  readonly maxWaitMs?: number | undefined;
  /** How many of the most refused keys the report lists and traces, a whole number >= 0. @default 10 */
  readonly topKeys?: number | undefined;
  /** Width of one step of the report's time series, in milliseconds, a finite number > 0. @default 1000 */
  readonly seriesStepMs?: number | undefined;
  /**
   * How far back in time an event may be, in milliseconds behind the latest one, and
   * still be replayed (at the latest time, as a server that logs concurrent requests in
   * a slightly different order saw them). An event further back is skipped and counted
   * in `totals.outOfOrder`. A finite number >= 0 or Infinity.
   * @default 10_000
   */
  readonly toleranceMs?: number | undefined;
}

/** SimulateOptions with every default filled in and checked. */
export interface CheckedSimulateOptions {
  readonly mode: 'try' | 'wait';
  readonly maxWaitMs: number;
  readonly topKeys: number;
  readonly seriesStepMs: number;
  readonly toleranceMs: number;
}

/** Returns a finite number >= 0 or Infinity, else throws naming `name`. */
function durationMs(name: string, value: unknown): number {
  return value === Infinity ? Infinity : finiteNumber(name, value, 0);
}

/** Checks `options` of `simulate` and fills in the defaults; throws a TypeError or RangeError on bad input. */
export function checkSimulateOptions(options: SimulateOptions | undefined): CheckedSimulateOptions {
  if (options === undefined) return { mode: 'try', maxWaitMs: Infinity, topKeys: 10, seriesStepMs: 1000, toleranceMs: 10_000 };
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
  checkKnownOptions(options, ['mode', 'maxWaitMs', 'topKeys', 'seriesStepMs', 'toleranceMs']);
  const { mode = 'try', maxWaitMs = Infinity, topKeys = 10, seriesStepMs = 1000, toleranceMs = 10_000 } = options;
  if (mode !== 'try' && mode !== 'wait') throw invalid('mode', "'try' or 'wait'", mode);
  if (!Number.isInteger(topKeys) || topKeys < 0) throw invalid('topKeys', 'a whole number >= 0', topKeys, true);
  return {
    mode,
    maxWaitMs: durationMs('maxWaitMs', maxWaitMs),
    topKeys,
    seriesStepMs: finiteNumber('seriesStepMs', seriesStepMs, 0, Infinity, true),
    toleranceMs: durationMs('toleranceMs', toleranceMs),
  };
}

/** Checks a policy's type and names (KeyedLimiter checks its numbers); throws on bad input. */
export function checkPolicy(policy: SimulationPolicy): SimulationPolicy {
  if (typeof policy !== 'object' || policy === null) throw invalid('policy', 'an object', policy);
  checkKnownOptions(policy, ['capacity', 'refillPerSecond', 'maxKeys']);
  return policy;
}
