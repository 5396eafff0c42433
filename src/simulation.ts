import { KeyedLimiter } from './keyed-limiter.js';
import type { AcquireOptions } from './limit-options.js';
import { VirtualClock } from './simulate-clock.js';
import { type CheckedSimulateOptions, type SimulateOptions, type SimulationPolicy, checkPolicy, checkSimulateOptions } from './simulate-options.js';
import { type SimulationReport, type TokenTrace, shareDistribution, sortedShares, waitSummary } from './simulate-report.js';
import { KeyTable } from './simulate-keys.js';
import { ReplayTime } from './simulate-time.js';

/** A key being traced: its index, and its `[step, tokens]` pairs, flat. */
interface Trace {
  readonly index: number;
  readonly points: number[];
}

/**
 * Simulation replays requests pushed one at a time through a real KeyedLimiter on a
 * VirtualClock, and counts what it decides: the engine under `simulate` and the CLI.
 * Nothing is allocated per request in `'try'` mode but the first sight of a key; memory
 * grows with the keys seen and the steps of time, never with the requests.
 * @example
 * ```ts
 * const simulation = new Simulation({ capacity: 5, refillPerSecond: 1 });
 * simulation.add(0, 'a');
 * const report = await simulation.finish();
 * ```
 */
export class Simulation {
  readonly #clock = new VirtualClock();
  readonly #limiter: KeyedLimiter;
  readonly #options: CheckedSimulateOptions;
  readonly #acquireOptions: AcquireOptions;
  readonly #maxKeys: number;
  readonly #keys = new KeyTable();
  readonly #time: ReplayTime;
  #stepEndMs: number;
  #step = 0;
  readonly #arrivals: number[] = [0];
  readonly #granted: number[] = [0];
  readonly #refused: number[] = [0];
  #grantedTotal = 0;
  #refusedTotal = 0;
  #peakSize = 0;
  readonly #traces: Trace[] = [];
  /** Fewest refusals of a traced key, or fewer: a key refused no more than this does not displace one. */
  #traceFloor = 0;
  /** 'wait' mode: promises not yet settled, the time their reactions see, and the waits. */
  #pending = 0;
  #settleMs = 0;
  /** The time last recorded by `#mark`. */
  #markedMs = Number.NaN;
  readonly #waits = new Map<number, number>();
  #waitTotalMs = 0;
  #waitMaxMs = 0;
  #finished = false;

  /**
   * Creates a replay of `policy`.
   * @throws {TypeError|RangeError} on a bad policy or option, as KeyedLimiter's constructor and `simulate` do.
   */
  constructor(policy: SimulationPolicy, options?: SimulateOptions) {
    const { capacity, refillPerSecond, maxKeys } = checkPolicy(policy);
    this.#options = checkSimulateOptions(options);
    this.#limiter = new KeyedLimiter({ capacity, refillPerSecond, maxKeys, clock: this.#clock });
    this.#maxKeys = maxKeys ?? 1_000_000;
    this.#acquireOptions = { maxWaitMs: this.#options.maxWaitMs };
    this.#stepEndMs = this.#options.seriesStepMs;
    this.#time = new ReplayTime(this.#options.toleranceMs);
  }

  /**
   * Replays one request arriving at `timeMs`.
   * @returns false when the request was skipped, being more than `toleranceMs` earlier than the latest one.
   * @throws {TypeError|RangeError} when `timeMs` is not a finite number, `key` not a string or `cost` not a finite number >= 0.
   */
  add(timeMs: number, key: string, cost = 1): boolean {
    const atMs = this.#time.at(timeMs, key, cost);
    if (atMs < 0) return false;
    if (atMs >= this.#stepEndMs) this.#stepTo(atMs);
    const index = this.#keys.indexOf(key);
    // The limiter keeps the key table's own copy of the key (see ownString).
    const held = this.#keys.name(index);
    this.#keys.events[index]!++;
    this.#arrivals[this.#step]!++;
    if (this.#options.mode === 'try') {
      this.#clock.nowMs = atMs;
      if (this.#limiter.tryAcquire(held, cost)) {
        this.#grantedTotal++;
        this.#granted[this.#step]!++;
      } else this.#refuse(index, this.#step);
    } else this.#acquire(index, held, cost, atMs);
    if (this.#keys.traced[index]! >= 0) this.#trace(index, held);
    const size = this.#limiter.size;
    if (size > this.#peakSize) this.#peakSize = size;
    return true;
  }

  /**
   * Lets the promises of `'wait'` mode settle; call it now and then while adding many
   * requests in one go, so that their reactions do not pile up. Nothing to do in `'try'` mode.
   */
  async settle(): Promise<void> {
    if (this.#pending > 0) await null;
  }

  /**
   * Ends the replay (in `'wait'` mode, serving every request still waiting, on virtual
   * time) and returns the report. Call it once.
   */
  async finish(): Promise<SimulationReport> {
    if (this.#finished) throw new Error('This simulation has finished already');
    this.#finished = true;
    // Serving a waiter arms the timer for the next at once, so one pass fires them all;
    // the promises' reactions then run at the await.
    // (A request left waiting with no timer armed could never be served: stop rather than spin.)
    for (let stalled = 0; this.#pending > 0 && stalled < 2; ) {
      const [pending, armed] = [this.#pending, this.#clock.nextDueMs < Infinity];
      while (this.#clock.nextDueMs < Infinity) this.#fire(Infinity);
      await null;
      stalled = armed || this.#pending !== pending ? 0 : stalled + 1;
    }
    return this.#report();
  }

  /** Moves the series on to the step holding `atMs`. */
  #stepTo(atMs: number): void {
    const stepMs = this.#options.seriesStepMs;
    const step = Math.floor(atMs / stepMs);
    this.#grow(step);
    this.#step = step;
    this.#stepEndMs = (step + 1) * stepMs;
  }

  /** Makes the series long enough to count in `step`. */
  #grow(step: number): void {
    while (this.#arrivals.length <= step) {
      this.#arrivals.push(0);
      this.#granted.push(0);
      this.#refused.push(0);
    }
  }

  #refuse(index: number, step: number): void {
    this.#refusedTotal++;
    this.#refused[step]!++;
    this.#keys.refused[index]!++;
    if (this.#keys.traced[index]! < 0) this.#watch(index);
  }

  /**
   * 'wait' mode: starts an `acquire` at `atMs`, first firing the timers due by then. A
   * request that `tryAcquire` grants is one `acquire` would grant at once (both take only
   * from a bucket nobody waits on), so only the others make a promise (measured: 1.5 M
   * requests a second replayed with a promise each).
   */
  #acquire(index: number, key: string, cost: number, atMs: number): void {
    while (this.#clock.nextDueMs <= atMs) this.#fire(atMs);
    this.#clock.nowMs = atMs;
    if (this.#limiter.tryAcquire(key, cost)) return this.#served(atMs, atMs);
    this.#mark();
    this.#pending++;
    this.#limiter.acquire(key, cost, this.#acquireOptions).then(
      () => {
        this.#pending--;
        this.#served(atMs, this.#settleMs);
      },
      () => {
        this.#pending--;
        this.#refuse(index, Math.floor(this.#settleMs / this.#options.seriesStepMs));
      },
    );
  }

  /** Fires the next timer due by `untilMs`, at its time. */
  #fire(untilMs: number): void {
    this.#clock.nowMs = Math.max(this.#clock.nowMs, this.#clock.nextDueMs);
    this.#mark();
    this.#clock.fireNext(untilMs);
  }

  /**
   * Makes the reactions of promises settled from now on read the clock's time. They run
   * later, as microtasks: a microtask queued behind the reactions of earlier times, before
   * any of this time's, records it, so a reaction reads the time at which its promise
   * settled however late it runs. Called before anything that may settle a promise.
   */
  #mark(): void {
    const atMs = this.#clock.nowMs;
    if (atMs === this.#markedMs) return;
    this.#markedMs = atMs;
    if (this.#pending === 0) this.#settleMs = atMs;
    else queueMicrotask(() => (this.#settleMs = atMs));
  }

  /** Counts a request granted at `grantedMs`, having arrived at `arrivalMs`. */
  #served(arrivalMs: number, grantedMs: number): void {
    this.#grantedTotal++;
    const step = Math.floor(grantedMs / this.#options.seriesStepMs);
    this.#grow(step);
    this.#granted[step]!++;
    const waitMs = grantedMs - arrivalMs;
    const rounded = Math.ceil(waitMs);
    this.#waits.set(rounded, (this.#waits.get(rounded) ?? 0) + 1);
    this.#waitTotalMs += waitMs;
    if (waitMs > this.#waitMaxMs) this.#waitMaxMs = waitMs;
  }

  /** Starts tracing the tokens of key `index`, refused, if it is among the most refused so far. */
  #watch(index: number): void {
    const traces = this.#traces;
    const { refused, traced } = this.#keys;
    if (traces.length < this.#options.topKeys) {
      traced[index] = traces.push({ index, points: [] }) - 1;
      return;
    }
    if (refused[index]! <= this.#traceFloor || traces.length === 0) return;
    let least = 0;
    // The least refused goes, and of those the last seen, as the report's ties rank it last.
    for (let slot = 1; slot < traces.length; slot++) {
      const [candidate, current] = [traces[slot]!.index, traces[least]!.index];
      if (refused[candidate]! < refused[current]! || (refused[candidate] === refused[current] && candidate > current)) least = slot;
    }
    this.#traceFloor = refused[traces[least]!.index]!;
    if (refused[index]! <= this.#traceFloor) return;
    traced[traces[least]!.index] = -1;
    traces[least] = { index, points: [] };
    traced[index] = least;
  }

  /** Records the tokens of traced key `index` after its request: the fewest in each step. */
  #trace(index: number, key: string): void {
    const points = this.#traces[this.#keys.traced[index]!]!.points;
    const tokens = this.#limiter.available(key);
    const last = points.length - 2;
    if (last >= 0 && points[last] === this.#step) points[last + 1] = Math.min(points[last + 1]!, tokens);
    else points.push(this.#step, tokens);
  }

  #report(): SimulationReport {
    const keys = this.#keys;
    const shares = sortedShares(keys.events, keys.refused, keys.size);
    const events = this.#grantedTotal + this.#refusedTotal;
    const refusedKeyCount = keys.refusedKeys();
    const topKeys = keys.mostRefused(this.#options.topKeys);
    const traces: TokenTrace[] = [];
    for (const top of topKeys) {
      const slot = keys.traced[keys.indexOf(top.key)]!;
      if (slot < 0) continue;
      const flat = this.#traces[slot]!.points;
      const points: [number, number][] = [];
      for (let at = 0; at < flat.length; at += 2) points.push([flat[at]!, flat[at + 1]!]);
      traces.push({ key: top.key, points });
    }
    const { capacity, refillPerSecond } = this.#limiter;
    const lastMs = this.#clock.nowMs;
    return {
      policy: { capacity, refillPerSecond, maxKeys: this.#maxKeys },
      mode: this.#options.mode,
      maxWaitMs: this.#options.mode === 'wait' ? this.#options.maxWaitMs : Infinity,
      startMs: this.#time.startMs,
      durationMs: events ? lastMs : 0,
      totals: {
        events,
        granted: this.#grantedTotal,
        refused: this.#refusedTotal,
        refusedShare: events ? this.#refusedTotal / events : 0,
        keys: keys.size,
        refusedKeys: refusedKeyCount,
        refusedKeysShare: keys.size ? refusedKeyCount / keys.size : 0,
        reordered: this.#time.reordered,
        outOfOrder: this.#time.outOfOrder,
      },
      topKeys,
      ...shareDistribution(shares),
      waits: this.#options.mode === 'wait' ? waitSummary(this.#waits, this.#grantedTotal, this.#waitTotalMs, this.#waitMaxMs) : undefined,
      memory: { peakSize: this.#peakSize, finalSize: this.#limiter.size, evicted: this.#limiter.stats().evicted },
      series: { stepMs: this.#options.seriesStepMs, arrivals: this.#arrivals, granted: this.#granted, refused: this.#refused },
      traces,
    };
  }

}
