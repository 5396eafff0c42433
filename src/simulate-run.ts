import type { SimulateOptions, SimulationEvent, SimulationPolicy } from './simulate-options.js';
import type { SimulationReport } from './simulate-report.js';
import { Simulation } from './simulation.js';
import { invalid } from './validate.js';

/** Something that takes replayed requests one at a time: a Simulation or a Recommender. */
export interface Replayer {
  add(timeMs: number, key: string, cost?: number): boolean;
  settle(): Promise<void>;
}

/** Requests between two chances for `'wait'` mode's promises to settle, when the events come from a plain iterable. */
const SETTLE_EVERY = 4096;

/**
 * Feeds every event of `events` to `replayer`, in order.
 * @throws {TypeError} when `events` is not iterable or an event not an object; as `add` on a bad event.
 */
export async function replay(events: Iterable<SimulationEvent> | AsyncIterable<SimulationEvent>, replayer: Replayer): Promise<void> {
  if (typeof events !== 'object' || events === null || !(Symbol.iterator in events || Symbol.asyncIterator in events)) {
    throw invalid('events', 'an iterable or async iterable of events', events);
  }
  const add = (event: SimulationEvent): void => {
    if (typeof event !== 'object' || event === null) throw invalid('event', 'an object with timeMs, key and cost', event);
    replayer.add(event.timeMs, event.key, event.cost ?? 1);
  };
  if (Symbol.asyncIterator in events) {
    for await (const event of events) add(event);
    return;
  }
  let count = 0;
  for (const event of events) {
    add(event);
    if (++count % SETTLE_EVERY === 0) await replayer.settle();
  }
}

/**
 * Replays `events` through a real KeyedLimiter with `policy`, on a virtual clock, and
 * reports what it would have done: each decision is exactly the one the limiter makes for
 * the same arrivals. A day of traffic replays in seconds; memory grows with the keys seen
 * (a few counters each) and the steps of time, not with the events.
 * @param events - requests in time order (see `toleranceMs`), from an iterable or an async iterable (a stream).
 * @param policy - the limits to try: `capacity`, `refillPerSecond`, `maxKeys`.
 * @param options - `mode` (`'try'` or `'wait'`), `maxWaitMs`, `topKeys`, `seriesStepMs`, `toleranceMs`.
 * @returns the report: totals, the most refused keys, refusal by percentile of keys, waits, memory, a time series.
 * @throws {TypeError|RangeError} on a bad policy, option or event (a time that is not a finite number, a key that is not a string, a bad cost).
 * @example
 * ```ts
 * import { simulate } from 'fairbucket/simulate';
 * const events = [{ timeMs: 0, key: 'a' }, { timeMs: 10, key: 'a' }, { timeMs: 20, key: 'a' }];
 * const report = await simulate(events, { capacity: 2, refillPerSecond: 1 });
 * report.totals.refused; // 1
 * ```
 */
export async function simulate(
  events: Iterable<SimulationEvent> | AsyncIterable<SimulationEvent>,
  policy: SimulationPolicy,
  options?: SimulateOptions,
): Promise<SimulationReport> {
  const simulation = new Simulation(policy, options);
  await replay(events, simulation);
  return simulation.finish();
}
