import FakeTimers from '@sinonjs/fake-timers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Clock, KeyedLimiter } from '../src/index.js';
import { type SimulationEvent, type SimulationReport, Simulation, VirtualClock, recommend, simulate } from '../src/simulate.js';

interface Arrival {
  readonly gapMs: number;
  readonly key: string;
  readonly cost: number;
}

/** `count` requests of `key` at once, the first `gapMs` after the one before. */
function burst(key: string, count: number, gapMs = 0, cost = 1): Arrival[] {
  return Array.from({ length: count }, (_, index) => ({ gapMs: index === 0 ? gapMs : 0, key, cost }));
}

/** Turns gaps into events on an epoch-like time line, so that the replay must rebase. */
function eventsOf(arrivals: readonly Arrival[], startMs = 1_767_225_600_000): SimulationEvent[] {
  let timeMs = startMs;
  return arrivals.map(({ gapMs, key, cost }) => ({ timeMs: (timeMs += gapMs), key, cost }));
}

/** What a KeyedLimiter driven by hand decides in try mode: refusals per key and per second. */
function byHand(events: readonly SimulationEvent[], capacity: number, refillPerSecond: number, maxKeys?: number) {
  let nowMs = 0;
  const clock: Clock = { now: () => nowMs, setTimeout: () => undefined, clearTimeout: () => undefined };
  const limiter = new KeyedLimiter({ capacity, refillPerSecond, maxKeys, clock });
  const refusedByKey = new Map<string, number>();
  const refusedBySecond: number[] = [];
  let peakSize = 0;
  for (const { timeMs, key, cost } of events) {
    nowMs = timeMs - events[0]!.timeMs;
    const second = Math.floor(nowMs / 1000);
    while (refusedBySecond.length <= second) refusedBySecond.push(0);
    if (!limiter.tryAcquire(key, cost)) {
      refusedByKey.set(key, (refusedByKey.get(key) ?? 0) + 1);
      refusedBySecond[second]!++;
    }
    peakSize = Math.max(peakSize, limiter.size);
  }
  return { refusedByKey, refusedBySecond, peakSize, finalSize: limiter.size, evicted: limiter.stats().evicted };
}

function refusedByKey(report: SimulationReport): Map<string, number> {
  return new Map(report.topKeys.map(({ key, refused }) => [key, refused]));
}

const arrivals = fc.array(
  fc.record({ gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3_000 }), fc.double({ min: 0, max: 500, noNaN: true })), key: fc.constantFrom('a', 'b', 'c', 'd'), cost: fc.constantFrom(1, 1, 2, 0.5, 7) }),
  { maxLength: 150 },
);

describe('simulate', () => {
  describe("in 'try' mode", () => {
    it('refuses exactly what a KeyedLimiter driven by hand refuses, per key and per second', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.constantFrom(0, 0.3, 1, 2.5, 40), fc.constantFrom(undefined, 1, 2), arrivals, async (capacity, rate, maxKeys, gaps) => {
          const events = eventsOf(gaps);
          const report = await simulate(events, { capacity, refillPerSecond: rate, maxKeys }, { topKeys: 10 });
          const expected = byHand(events, capacity, rate, maxKeys);
          expect(refusedByKey(report)).toEqual(expected.refusedByKey);
          expect(report.series.refused).toEqual(events.length ? expected.refusedBySecond : [0]);
          expect(report.memory).toEqual({ peakSize: expected.peakSize, finalSize: expected.finalSize, evicted: expected.evicted });
          const refused = [...expected.refusedByKey.values()].reduce((sum, count) => sum + count, 0);
          expect(report.totals).toMatchObject({ events: events.length, refused, granted: events.length - refused, refusedKeys: expected.refusedByKey.size });
        }),
        { numRuns: 150 },
      );
    });

    it('counts totals, shares, the most refused keys and the time series', async () => {
      // a: 4 requests at once (capacity 2: 2 refused); b: 1 request; c: 2 requests a second apart.
      const events = eventsOf([...burst('a', 4), ...burst('b', 1, 500), ...burst('c', 1, 500, 3), ...burst('c', 1, 1000)]);
      const report = await simulate(events, { capacity: 2, refillPerSecond: 1 });
      expect(report.totals).toEqual({ events: 7, granted: 4, refused: 3, refusedShare: 3 / 7, keys: 3, refusedKeys: 2, refusedKeysShare: 2 / 3, reordered: 0, outOfOrder: 0 });
      expect(report.topKeys).toEqual([
        { key: 'a', events: 4, granted: 2, refused: 2, refusedShare: 0.5 },
        { key: 'c', events: 2, granted: 1, refused: 1, refusedShare: 0.5 },
      ]);
      expect(report.series).toEqual({ stepMs: 1000, arrivals: [5, 1, 1], granted: [3, 0, 1], refused: [2, 1, 0] });
      expect(report.refusedShareByKeyPercentile).toEqual([50, 90, 99, 99.9, 100].map((percentile) => ({ percentile, refusedShare: 0.5 })));
      // b refused nothing; a and c half their requests.
      expect(report.keysByRefusedShare.map(({ upToShare, keys }) => [upToShare, keys])).toEqual([[0, 1], [0.01, 0], [0.1, 0], [0.5, 2], [1, 0]]);
      expect(report).toMatchObject({ mode: 'try', maxWaitMs: Infinity, startMs: events[0]!.timeMs, durationMs: 2000, waits: undefined });
      expect(report.policy).toEqual({ capacity: 2, refillPerSecond: 1, maxKeys: 1_000_000 });
    });

    it('traces the tokens of the most refused keys: the fewest in each step', async () => {
      const events = eventsOf([...burst('a', 3), ...burst('a', 1, 1500), ...burst('ok', 1)]);
      const report = await simulate(events, { capacity: 2, refillPerSecond: 1 });
      // Traced from its first refusal (the third request, at 0 tokens); at 1.5 s it had 1.5, took 1.
      expect(report.traces).toEqual([{ key: 'a', points: [[0, 0], [1, 0.5]] }]);
    });

    it('keeps tracing the most refused keys when more keys are refused than it traces', async () => {
      const gaps = [...burst('x', 3), ...burst('y', 3), ...burst('z', 3), ...burst('heavy', 5)];
      const report = await simulate(eventsOf(gaps), { capacity: 1, refillPerSecond: 0 }, { topKeys: 2 });
      expect(report.topKeys.map(({ key, refused }) => [key, refused])).toEqual([['heavy', 4], ['x', 2]]);
      expect(report.traces.map(({ key }) => key)).toEqual(['heavy', 'x']);
      const none = await simulate(eventsOf(gaps), { capacity: 1, refillPerSecond: 0 }, { topKeys: 0 });
      expect([none.topKeys, none.traces]).toEqual([[], []]);
    });

    it('replays an event up to toleranceMs earlier than the latest at the latest time, and skips one further back', async () => {
      const events: SimulationEvent[] = [
        { timeMs: 10_000, key: 'a' },
        { timeMs: 20_000, key: 'a' },
        { timeMs: 15_000, key: 'a' }, // 5 s back: replayed at 20 s, and refused (capacity 1, 0.1 per second)
        { timeMs: 9_000, key: 'a' }, // 11 s back: skipped
      ];
      const report = await simulate(events, { capacity: 1, refillPerSecond: 0.1 });
      expect(report.totals).toMatchObject({ events: 3, granted: 2, refused: 1, reordered: 1, outOfOrder: 1 });
      const strict = await simulate(events, { capacity: 1, refillPerSecond: 0.1 }, { toleranceMs: 0 });
      expect(strict.totals).toMatchObject({ events: 2, reordered: 0, outOfOrder: 2 });
    });

    it('reports an empty input as zeros', async () => {
      const report = await simulate([], { capacity: 1, refillPerSecond: 1 });
      expect(report.totals).toEqual({ events: 0, granted: 0, refused: 0, refusedShare: 0, keys: 0, refusedKeys: 0, refusedKeysShare: 0, reordered: 0, outOfOrder: 0 });
      expect(report).toMatchObject({ startMs: NaN, durationMs: 0, topKeys: [], traces: [] });
      expect(report.refusedShareByKeyPercentile.every(({ refusedShare }) => refusedShare === 0)).toBe(true);
    });

    it('reads an async iterable, as a stream of parsed log lines is', async () => {
      async function* stream() {
        yield* eventsOf(burst('a', 2));
      }
      expect((await simulate(stream(), { capacity: 1, refillPerSecond: 1 })).totals.refused).toBe(1);
    });
  });

  describe("in 'wait' mode", () => {
    /** What a KeyedLimiter driven by hand on fake time does with acquire: outcome and wait of each request. */
    async function waitedByHand(events: readonly SimulationEvent[], capacity: number, refillPerSecond: number, maxWaitMs: number) {
      const fake = FakeTimers.createClock(0);
      const clock: Clock = { now: () => fake.now, setTimeout: (callback, ms) => fake.setTimeout(callback, ms), clearTimeout: (handle) => fake.clearTimeout(handle as number) };
      const limiter = new KeyedLimiter({ capacity, refillPerSecond, clock });
      const waits: number[] = [];
      let refused = 0;
      const settled: Promise<void>[] = [];
      for (const { timeMs, key, cost } of events) {
        await fake.tickAsync(timeMs - events[0]!.timeMs - fake.now);
        const arrivalMs = fake.now;
        settled.push(limiter.acquire(key, cost, { maxWaitMs }).then(() => void waits.push(fake.now - arrivalMs), () => void refused++));
      }
      await fake.runAllAsync();
      await Promise.all(settled);
      return { waits: waits.sort((a, b) => a - b), refused };
    }

    it('grants and refuses exactly what acquire with maxWaitMs does on fake time, with the same waits', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.constantFrom(0.5, 1, 4), fc.constantFrom(0, 1_500, Infinity), arrivals, async (capacity, rate, maxWaitMs, gaps) => {
          const events = eventsOf(gaps.map((arrival) => ({ ...arrival, gapMs: Math.round(arrival.gapMs), cost: Math.min(arrival.cost, capacity) })));
          const report = await simulate(events, { capacity, refillPerSecond: rate }, { mode: 'wait', maxWaitMs });
          const expected = await waitedByHand(events, capacity, rate, maxWaitMs);
          expect(report.totals).toMatchObject({ events: events.length, refused: expected.refused, granted: expected.waits.length });
          const rank = (percentile: number) => Math.ceil(expected.waits[Math.max(0, Math.ceil((percentile / 100) * expected.waits.length) - 1)] ?? 0);
          expect(report.waits).toMatchObject({ maxMs: expected.waits.at(-1) ?? 0, p50Ms: rank(50), p99Ms: rank(99), waited: expected.waits.filter((ms) => ms > 0).length });
          const meanMs = expected.waits.length ? expected.waits.reduce((sum, ms) => sum + ms, 0) / expected.waits.length : 0;
          expect(report.waits!.meanMs).toBeCloseTo(meanMs, 6);
        }),
        { numRuns: 60 },
      );
    });

    it('serves the requests still waiting at the end, counting their grants when their wait ends', async () => {
      const events = eventsOf(burst('a', 3));
      const report = await simulate(events, { capacity: 1, refillPerSecond: 1 }, { mode: 'wait', maxWaitMs: 1_000 });
      expect(report.totals).toMatchObject({ granted: 2, refused: 1 });
      expect(report.series).toEqual({ stepMs: 1000, arrivals: [3, 0], granted: [1, 1], refused: [1, 0] });
      expect(report.waits).toEqual({ waited: 1, p50Ms: 0, p99Ms: 1000, maxMs: 1000, meanMs: 500 });
      expect(report.durationMs).toBe(1000);
    });
  });

  describe('on bad input', () => {
    it.each([
      [{ capacity: 0, refillPerSecond: 1 }, undefined, RangeError, 'Expected `capacity` to be a finite number > 0 and <= 1000000000000, got `0` (number)'],
      [{ capacity: 1, refillPerSecond: 1, rate: 2 }, undefined, TypeError, 'Unknown option `rate` (known options: `capacity`, `refillPerSecond`, `maxKeys`)'],
      [null, undefined, TypeError, 'Expected `policy` to be an object, got `null` (object)'],
      [{ capacity: 1, refillPerSecond: 1 }, { mode: 'queue' }, TypeError, "Expected `mode` to be 'try' or 'wait', got `\"queue\"` (string)"],
      [{ capacity: 1, refillPerSecond: 1 }, { maxWait: 5 }, TypeError, 'Unknown option `maxWait` (did you mean `maxWaitMs`?)'],
      [{ capacity: 1, refillPerSecond: 1 }, { topKeys: 1.5 }, RangeError, 'Expected `topKeys` to be a whole number >= 0, got `1.5` (number)'],
      [{ capacity: 1, refillPerSecond: 1 }, { seriesStepMs: 0 }, RangeError, 'Expected `seriesStepMs` to be a finite number > 0, got `0` (number)'],
      [{ capacity: 1, refillPerSecond: 1 }, { toleranceMs: -1 }, RangeError, 'Expected `toleranceMs` to be a finite number >= 0, got `-1` (number)'],
      [{ capacity: 1, refillPerSecond: 1 }, 'fast', TypeError, 'Expected `options` to be an object, got `"fast"` (string)'],
    ])('rejects the policy %j with options %j', async (policy, options, type, message) => {
      await expect(simulate([], policy as never, options as never)).rejects.toThrow(new type(message));
    });

    it.each([
      [[{ timeMs: Number.NaN, key: 'a' }], RangeError, 'Expected `timeMs` to be a finite number, got `NaN` (number)'],
      [[{ timeMs: '5', key: 'a' }], TypeError, 'Expected `timeMs` to be a finite number, got `"5"` (string)'],
      [[{ timeMs: 0, key: 7 }], TypeError, 'Expected `key` to be a string, got `7` (number)'],
      [[{ timeMs: 0, key: 'a', cost: -1 }], RangeError, 'Expected `cost` to be a finite number >= 0, got `-1` (number)'],
      [[null], TypeError, 'Expected `event` to be an object with timeMs, key and cost, got `null` (object)'],
      [42, TypeError, 'Expected `events` to be an iterable or async iterable of events, got `42` (number)'],
    ])('rejects the events %j', async (events, type, message) => {
      await expect(simulate(events as never, { capacity: 1, refillPerSecond: 1 })).rejects.toThrow(new type(message));
    });

    it('finishes a Simulation only once', async () => {
      const simulation = new Simulation({ capacity: 1, refillPerSecond: 1 });
      await simulation.finish();
      await expect(simulation.finish()).rejects.toThrow('This simulation has finished already');
    });
  });
});

describe('recommend', () => {
  it('returns the frontier of the smallest policies that refuse no more than the share of keys asked', async () => {
    // 20 clients asking once a second; one bursting 8 at once every 10 s.
    const events: SimulationEvent[] = [];
    for (let second = 0; second < 60; second++) {
      for (let client = 0; client < 20; client++) events.push({ timeMs: second * 1000 + client, key: `client-${client}` });
      if (second % 10 === 0) for (let burst = 0; burst < 8; burst++) events.push({ timeMs: second * 1000 + 500, key: 'burst' });
    }
    const result = await recommend(events, { maxRefusedKeysShare: 0, capacities: [1, 2, 5, 10], rates: [0.5, 1, 2] });
    expect(result.frontier.map(({ capacity, refillPerSecond }) => [capacity, refillPerSecond])).toEqual([[10, 1]]);
    expect(result.recommended).toMatchObject({ capacity: 10, refillPerSecond: 1, refused: 0, refusedKeys: 0, meetsTarget: true, keys: 21, events: events.length });
    expect(result.grid).toHaveLength(12);
    // Allowing one key in 21 to be refused, the bursting one: the burst no longer matters.
    const lenient = await recommend(events, { maxRefusedKeysShare: 1 / 21, capacities: [1, 2, 5, 10], rates: [0.5, 1, 2] });
    expect(lenient.recommended).toMatchObject({ capacity: 1, refillPerSecond: 1, refusedKeys: 1 });
    expect(lenient.frontier.map(({ capacity, refillPerSecond }) => [capacity, refillPerSecond])).toEqual([[1, 1]]);
  });

  it('agrees with simulate on each policy it tries', async () => {
    const events = eventsOf(fc.sample(arrivals, { numRuns: 1, seed: 7 })[0]!);
    const result = await recommend(events, { capacities: [1, 3], rates: [0, 2] });
    for (const summary of result.grid) {
      const report = await simulate(events, { capacity: summary.capacity, refillPerSecond: summary.refillPerSecond });
      expect(summary).toMatchObject({ refused: report.totals.refused, refusedKeys: report.totals.refusedKeys, peakSize: report.memory.peakSize });
    }
  });

  it('recommends nothing when no policy tried meets the target', async () => {
    const events = [0, 0, 0].map((timeMs) => ({ timeMs, key: 'a' }));
    const result = await recommend(events, { maxRefusedKeysShare: 0, maxRefusedShare: 0, capacities: [1], rates: [1] });
    expect([result.frontier, result.recommended]).toEqual([[], undefined]);
  });

  it.each([
    [{ maxRefusedKeysShare: 2 }, RangeError, 'Expected `maxRefusedKeysShare` to be a finite number >= 0 and <= 1, got `2` (number)'],
    [{ capacities: [] }, TypeError, 'Expected `capacities` to be a non-empty array of numbers, got `` (object)'],
    [{ rates: [1, -1] }, RangeError, 'Expected `rates[1]` to be a finite number >= 0, got `-1` (number)'],
    [{ refusedKeys: 0.1 }, TypeError, 'Unknown option `refusedKeys` (known options: `maxRefusedKeysShare`, `maxRefusedShare`, `capacities`, `rates`, `maxKeys`, `toleranceMs`)'],
  ])('rejects the options %j', async (options, type, message) => {
    await expect(recommend([], options as never)).rejects.toThrow(new type(message));
  });

  it('rejects options that are not an object', async () => {
    await expect(recommend([], 'strict' as never)).rejects.toThrow(new TypeError('Expected `options` to be an object, got `"strict"` (string)'));
  });
});

describe('VirtualClock', () => {
  it('fires timers in order of due time, then of arming, skipping cancelled ones, never moving time back', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.nowMs = 100;
    for (const [name, ms] of [['c', 30], ['a', 10], ['d', 30], ['b', 20], ['x', 5], ['e', 40], ['f', 50]] as const) {
      const handle = clock.setTimeout(() => fired.push(`${name}@${clock.now()}`), ms);
      if (name === 'x') clock.clearTimeout(handle);
    }
    expect(clock.nextDueMs).toBe(110);
    expect(clock.fireNext(105)).toBe(false);
    while (clock.fireNext(135));
    expect(fired).toEqual(['a@110', 'b@120', 'c@130', 'd@130']);
    clock.nowMs = 200;
    while (clock.fireNext(Infinity));
    expect(fired.slice(4)).toEqual(['e@200', 'f@200']);
    expect(clock.nextDueMs).toBe(Infinity);
  });
});

describe('VirtualClock, as a heap', () => {
  it('fires any set of timers in order of due time, then of arming', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 40 }), (delays) => {
        const clock = new VirtualClock();
        const fired: [number, number][] = [];
        delays.forEach((ms, order) => clock.setTimeout(() => fired.push([clock.now(), order]), ms));
        while (clock.fireNext(Infinity));
        expect(fired).toEqual(delays.map((ms, order) => [ms, order] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]));
      }),
    );
  });
});

describe('simulate at scale', () => {
  it('keeps counting past its first thousand keys, and lets wait mode settle along a long plain iterable', async () => {
    const events = Array.from({ length: 9_000 }, (_, index) => ({ timeMs: Math.floor(index / 3), key: `k${index % 3_000}` }));
    const tried = await simulate(events, { capacity: 2, refillPerSecond: 1 });
    const expected = byHand(events, 2, 1);
    expect(tried.totals).toMatchObject({ keys: 3_000, refused: [...expected.refusedByKey.values()].reduce((a, b) => a + b, 0), refusedKeys: expected.refusedByKey.size });
    const waited = await simulate(events, { capacity: 2, refillPerSecond: 1 }, { mode: 'wait', maxWaitMs: 500 });
    expect(waited.totals.granted + waited.totals.refused).toBe(9_000);
  });

  it('lists a most refused key that it could not trace, without a trace', async () => {
    // x and y are traced at their first refusal; z, refused as often but with more requests, ranks first untraced.
    const events: SimulationEvent[] = [
      { timeMs: 0, key: 'x' },
      { timeMs: 0, key: 'x' },
      { timeMs: 0, key: 'y' },
      { timeMs: 0, key: 'y' },
      { timeMs: 0, key: 'z' },
      { timeMs: 0, key: 'z', cost: 5 },
      { timeMs: 0, key: 'z', cost: 0 },
    ];
    const report = await simulate(events, { capacity: 1, refillPerSecond: 0 }, { topKeys: 2 });
    expect(report.topKeys.map(({ key }) => key)).toEqual(['z', 'x']);
    expect(report.traces.map(({ key }) => key)).toEqual(['x']);
  });

  it('recommends from nothing, and skips what is out of order', async () => {
    const empty = await recommend([], { capacities: [1], rates: [1] });
    expect(empty.grid[0]).toMatchObject({ events: 0, refusedShare: 0, refusedKeysShare: 0, meetsTarget: true });
    const late = await recommend([{ timeMs: 60_000, key: 'a' }, { timeMs: 0, key: 'a' }], { capacities: [1], rates: [1], toleranceMs: Infinity });
    expect(late.grid[0]).toMatchObject({ events: 2, refused: 1 });
    const skipped = await recommend([{ timeMs: 60_000, key: 'a' }, { timeMs: 0, key: 'a' }], { capacities: [1], rates: [1] });
    expect(skipped.grid[0]).toMatchObject({ events: 1, refused: 0 });
  });
});

describe("simulate's end in 'wait' mode", () => {
  it('serves thousands of requests still waiting on one key when the events end', async () => {
    const events = Array.from({ length: 3_000 }, () => ({ timeMs: 0, key: 'a' }));
    const report = await simulate(events, { capacity: 1, refillPerSecond: 1 }, { mode: 'wait' });
    expect(report.totals).toMatchObject({ granted: 3_000, refused: 0 });
    expect(report.waits).toMatchObject({ waited: 2_999, maxMs: 2_999_000 });
    expect(report.durationMs).toBe(2_999_000);
  });
});
