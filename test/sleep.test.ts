import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../src/index.js';
import { sleep } from '../src/sleep.js';
import { ORIGIN_MS, fakeClock } from './support/fake-clock.js';

describe('sleep', () => {
  it('resolves after the time given, in whole milliseconds rounded up', async () => {
    const { fake, clock, delaysMs } = fakeClock();
    let done = false;
    void sleep(clock, 2.5).then(() => (done = true));
    await fake.tickAsync(2);
    expect(done).toBe(false);
    await fake.tickAsync(1);
    expect(done).toBe(true);
    expect(delaysMs).toEqual([3]);
  });

  it('never wakes early, even on a clock whose timers fire a millisecond early', async () => {
    const { fake, clock: exact } = fakeClock();
    const hasty: Clock = { ...exact, setTimeout: (callback, ms) => exact.setTimeout(callback, Math.max(1, ms - 1)) };
    let wokeAtMs: number | undefined;
    void sleep(hasty, 10).then(() => (wokeAtMs = fake.now));
    await fake.tickAsync(20);
    expect(wokeAtMs).toBe(10);
  });

  it('re-arms past the longest delay setTimeout accepts', async () => {
    const { fake, clock, delaysMs } = fakeClock();
    let wokeAtMs: number | undefined;
    void sleep(clock, 2 ** 31 + 5).then(() => (wokeAtMs = fake.now));
    await fake.tickAsync(2 ** 31 + 10);
    expect(delaysMs).toEqual([2 ** 31 - 1, 6]);
    expect(wokeAtMs).toBe(2 ** 31 + 5);
    expect(clock.now()).toBe(ORIGIN_MS + 2 ** 31 + 10);
  });

  it('rejects with signal.reason, leaving no timer and no listener, when aborted before or during', async () => {
    const { fake, clock, armedTimers } = fakeClock();
    await expect(sleep(clock, 10, AbortSignal.abort(new Error('before')))).rejects.toThrow('before');
    expect(armedTimers()).toBe(0);
    const controller = new AbortController();
    const sleeping = sleep(clock, 10, controller.signal);
    await fake.tickAsync(5);
    controller.abort(new Error('during'));
    await expect(sleeping).rejects.toThrow('during');
    expect([armedTimers(), getEventListeners(controller.signal, 'abort').length]).toEqual([0, 0]);
  });

  it('removes its listener when it wakes', async () => {
    const { fake, clock } = fakeClock();
    const { signal } = new AbortController();
    const sleeping = sleep(clock, 10, signal);
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    await fake.tickAsync(10);
    await sleeping;
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
