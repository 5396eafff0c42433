/**
 * Totals of a replay.
 * @example
 * ```ts
 * const { refusedShare, refusedKeysShare } = (await simulate(events, policy)).totals;
 * ```
 */
export interface SimulationTotals {
  /** Events replayed (out-of-order ones skipped are not counted). */
  readonly events: number;
  readonly granted: number;
  readonly refused: number;
  /** `refused / events`; 0 when nothing was replayed. */
  readonly refusedShare: number;
  /** Distinct keys seen. */
  readonly keys: number;
  /** Keys refused at least once. */
  readonly refusedKeys: number;
  /** `refusedKeys / keys`; 0 when there are no keys. */
  readonly refusedKeysShare: number;
  /** Events earlier than the latest one but within `toleranceMs`, replayed at the latest time. */
  readonly reordered: number;
  /** Events more than `toleranceMs` earlier than the latest one, skipped. */
  readonly outOfOrder: number;
}

/**
 * One key's counts in a replay.
 * @example
 * ```ts
 * const worst: KeyCounts | undefined = report.topKeys[0];
 * ```
 */
export interface KeyCounts {
  readonly key: string;
  readonly events: number;
  readonly granted: number;
  readonly refused: number;
  /** `refused / events`. */
  readonly refusedShare: number;
}

/**
 * Waits of the granted requests in `'wait'` mode, in milliseconds (0 for a request
 * served at once); percentiles are nearest-rank over waits rounded up to the millisecond.
 * @example
 * ```ts
 * const { p99Ms } = report.waits ?? { p99Ms: 0 };
 * ```
 */
export interface SimulationWaits {
  /** Granted requests that had to wait (more than 0 ms). */
  readonly waited: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/**
 * Counts per step of time since the first event, each array one entry per step of `stepMs`.
 * @example
 * ```ts
 * const busiest = Math.max(...report.series.arrivals);
 * ```
 */
export interface SimulationSeries {
  readonly stepMs: number;
  /** Requests arriving in each step. */
  readonly arrivals: readonly number[];
  /** Requests granted in each step (in `'wait'` mode, when their wait ended). */
  readonly granted: readonly number[];
  /** Requests refused in each step. */
  readonly refused: readonly number[];
}

/**
 * The tokens of one of the most refused keys over time: after each of its requests, the
 * fewest tokens it had in each step of the series, from when it entered the most refused.
 * @example
 * ```ts
 * for (const { key, points } of report.traces) console.log(key, points.length);
 * ```
 */
export interface TokenTrace {
  readonly key: string;
  /** `[step, tokens]` pairs, steps as in `series`, in time order. */
  readonly points: readonly (readonly [step: number, tokens: number])[];
}

/**
 * What a replay did: the policy's effect on each request, key and step of time.
 * @example
 * ```ts
 * const report: SimulationReport = await simulate(events, { capacity: 10, refillPerSecond: 1 });
 * console.log(`${report.totals.refused} of ${report.totals.events} refused`);
 * ```
 */
export interface SimulationReport {
  readonly policy: { readonly capacity: number; readonly refillPerSecond: number; readonly maxKeys: number };
  readonly mode: 'try' | 'wait';
  /** The `maxWaitMs` of `'wait'` mode; Infinity in `'try'` mode. */
  readonly maxWaitMs: number;
  /** The time of the first event, on the events' time line; NaN with no events. */
  readonly startMs: number;
  /** Milliseconds from the first event to the last (to the last grant in `'wait'` mode). */
  readonly durationMs: number;
  readonly totals: SimulationTotals;
  /** The most refused keys, most refused first (ties: the most requests first), at most `topKeys`. */
  readonly topKeys: readonly KeyCounts[];
  /** The share of its requests refused, by percentile of keys (nearest rank): p50, p90, p99, p99.9 and max (100). */
  readonly refusedShareByKeyPercentile: readonly { readonly percentile: number; readonly refusedShare: number }[];
  /** How many keys had each share of their requests refused: 0, up to 1%, 10%, 50% and 100%. */
  readonly keysByRefusedShare: readonly { readonly upToShare: number; readonly keys: number }[];
  /** Waits, in `'wait'` mode; undefined in `'try'` mode. */
  readonly waits: SimulationWaits | undefined;
  /** Buckets held by the limiter: the most at any time, at the end, and dropped. */
  readonly memory: { readonly peakSize: number; readonly finalSize: number; readonly evicted: number };
  readonly series: SimulationSeries;
  readonly traces: readonly TokenTrace[];
}

/** Percentiles of keys that a report gives the refused share at. */
export const KEY_PERCENTILES = [50, 90, 99, 99.9, 100] as const;

/** Upper bounds of the refused-share classes of `keysByRefusedShare`. */
export const SHARE_CLASSES = [0, 0.01, 0.1, 0.5, 1] as const;

/** Returns the nearest-rank `percentile` of `sorted` (ascending, not empty). */
export function nearestRank(sorted: ArrayLike<number>, percentile: number): number {
  return sorted[Math.max(0, Math.ceil((percentile / 100) * sorted.length) - 1)]!;
}

/** Returns the refused share of every key, from its events and refusals, ascending. */
export function sortedShares(events: ArrayLike<number>, refused: ArrayLike<number>, keys: number): Float64Array {
  const shares = new Float64Array(keys);
  for (let index = 0; index < keys; index++) shares[index] = refused[index]! / events[index]!;
  return shares.sort();
}

/** Returns the `refusedShareByKeyPercentile` and `keysByRefusedShare` of a report from the sorted shares. */
export function shareDistribution(shares: Float64Array): Pick<SimulationReport, 'refusedShareByKeyPercentile' | 'keysByRefusedShare'> {
  const counts = SHARE_CLASSES.map(() => 0);
  for (const share of shares) counts[SHARE_CLASSES.findIndex((bound) => share <= bound)]!++;
  return {
    refusedShareByKeyPercentile: KEY_PERCENTILES.map((percentile) => ({ percentile, refusedShare: shares.length ? nearestRank(shares, percentile) : 0 })),
    keysByRefusedShare: SHARE_CLASSES.map((upToShare, index) => ({ upToShare, keys: counts[index]! })),
  };
}

/** Returns the waits of a report from a histogram of waits rounded up to whole milliseconds (wait: count). */
export function waitSummary(histogram: ReadonlyMap<number, number>, granted: number, totalMs: number, maxMs: number): SimulationWaits {
  const waits = [...histogram.keys()].sort((a, b) => a - b);
  const rank = (percentile: number): number => {
    const wanted = Math.ceil((percentile / 100) * granted);
    let seen = 0;
    for (const ms of waits) {
      seen += histogram.get(ms)!;
      if (seen >= wanted) return ms;
    }
    return 0;
  };
  const waited = granted - (histogram.get(0) ?? 0);
  return { waited, p50Ms: rank(50), p99Ms: rank(99), maxMs, meanMs: granted ? totalMs / granted : 0 };
}
