import FakeTimers from '@sinonjs/fake-timers';
import type { Clock } from '../../src/index.js';

/** A fake clock for a limiter, with a count of the timers armed right now. */
export interface FakeClock {
  readonly fake: FakeTimers.Clock;
  readonly clock: Clock;
  /** Timers armed through `clock` and not yet fired or cleared. */
  readonly armedTimers: () => number;
  /** Every delay passed to `clock.setTimeout`, in order. */
  readonly delaysMs: number[];
}

/**
 * Where the limiters' clocks start by default: not at 0, so that arithmetic on the time
 * (`level + now * rate`) is tested at instants where a sign or operator error shows.
 */
export const ORIGIN_MS = 1_000_000;

/**
 * Returns a Clock on `@sinonjs/fake-timers`' createClock(), starting at `startMs`; the
 * limiter reads `fake.now + ORIGIN_MS`, so expectations on `fake.now` stay relative.
 */
export function fakeClock(startMs = 0): FakeClock {
  const fake = FakeTimers.createClock(startMs);
  const armed = new Set<unknown>();
  const delaysMs: number[] = [];
  const clock: Clock = {
    now: () => fake.now + ORIGIN_MS,
    setTimeout: (callback, ms) => {
      delaysMs.push(ms);
      const handle = fake.setTimeout(() => {
        armed.delete(handle);
        callback();
      }, ms);
      armed.add(handle);
      return handle;
    },
    clearTimeout: (handle) => {
      armed.delete(handle);
      fake.clearTimeout(handle as FakeTimers.TimerId);
    },
  };
  return { fake, clock, armedTimers: () => armed.size, delaysMs };
}

/** A clock whose time is set by hand (`ms`, read as `ORIGIN_MS + ms`); its timers never fire. */
export function manualClock(startMs = 0): Clock & { ms: number } {
  return {
    ms: startMs,
    now() {
      return ORIGIN_MS + this.ms;
    },
    setTimeout: () => undefined,
    clearTimeout: () => undefined,
  };
}

/** Records the order in which promises settle. */
export function track(promise: Promise<unknown>, log: string[], name: string): Promise<void> {
  return promise.then(
    () => void log.push(`${name} granted`),
    (error: unknown) => void log.push(`${name} rejected: ${error instanceof Error ? error.name : String(error)}`),
  );
}
