import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyedLimiter, TokenBucket } from '../src/index.js';
import { fakeClock, manualClock } from './support/fake-clock.js';
import { mulberry32 } from './support/random.js';
import { ReferenceBucket, ReferenceKeyed } from './reference-model.js';
import { worstExcess } from './support/worst-excess.js';



describe('properties against a naive reference model', () => {
  it('TokenBucket.tryAcquire decides exactly as the textbook bucket (integer inputs)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 5_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 60 })), { maxLength: 200 }),
        (capacity, refillPerSecond, steps) => {
          const clock = manualClock();
          const bucket = new TokenBucket({ capacity, refillPerSecond, clock });
          const model = new ReferenceBucket(capacity * 1000, refillPerSecond, 0);
          for (const [advanceMs, cost] of steps) {
            clock.ms += advanceMs;
            expect(bucket.tryAcquire(cost)).toBe(model.tryTake(cost * 1000, clock.ms));
            expect(bucket.available).toBe(model.tokens / 1000);
          }
        },
      ),
    );
  });

  it('TokenBucket never admits more than capacity + rate × window, at awkward rates and random instants', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 20, noNaN: true }),
        fc.constantFrom(3, 7, 1000 / 86_400, 0.3, 13.7),
        fc.array(fc.tuple(fc.double({ min: 0, max: 500, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 300 }),
        (capacity, refillPerSecond, steps) => {
          const clock = manualClock(1_000_000.5);
          const bucket = new TokenBucket({ capacity, refillPerSecond, clock });
          const grants: { atMs: number; cost: number }[] = [];
          for (const [advanceMs, fraction] of steps) {
            clock.ms += advanceMs;
            const cost = fraction * capacity;
            if (bucket.tryAcquire(cost)) grants.push({ atMs: clock.ms, cost });
          }
          expect(worstExcess(grants, capacity, refillPerSecond)).toBeLessThanOrEqual(1e-9 * capacity);
        },
      ),
    );
  });

  it('acquire serves strictly first-in first-out, whatever the costs and aborts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.boolean(), fc.integer({ min: 0, max: 400 })), { minLength: 1, maxLength: 40 }),
        async (callers) => {
          const { clock, fake, armedTimers } = fakeClock();
          const bucket = new TokenBucket({ capacity: 4, refillPerSecond: 10, initialTokens: 0, clock });
          const granted: number[] = [];
          const settled: number[] = [];
          const controllers: AbortController[] = [];
          callers.forEach(([cost, aborts], index) => {
            const controller = new AbortController();
            controllers.push(controller);
            bucket.acquire(cost, { signal: controller.signal }).then(
              () => {
                granted.push(index);
                settled.push(index);
              },
              () => settled.push(index),
            );
            if (aborts) void fake.tickAsync(0);
          });
          for (const [index, [, aborts, atMs]] of callers.entries()) {
            if (aborts) fake.setTimeout(() => controllers[index]!.abort(), atMs);
          }
          await fake.runAllAsync();
          expect(settled.length).toBe(callers.length);
          expect(granted).toEqual([...granted].sort((a, b) => a - b));
          expect(armedTimers()).toBe(0);
          // Nothing created, nothing lost: tokens left = refill since start - cost granted.
          const grantedCost = granted.reduce((sum, index) => sum + callers[index]![0], 0);
          expect(bucket.available).toBeCloseTo(Math.min(4, (fake.now * 10) / 1000 - grantedCost), 9);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('KeyedLimiter with eviction decides exactly as a map that never forgets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 5 })), { maxLength: 300 }),
        (capacity, refillPerSecond, steps) => {
          const clock = manualClock();
          const limiter = new KeyedLimiter({ capacity, refillPerSecond, clock });
          const model = new ReferenceKeyed(capacity * 1000, refillPerSecond);
          for (const [advanceMs, keyIndex, cost] of steps) {
            clock.ms += advanceMs;
            const key = `k${keyIndex}`;
            expect(limiter.tryAcquire(key, cost)).toBe(model.tryTake(key, cost * 1000, clock.ms));
          }
          for (const [key, bucket] of model.buckets) {
            bucket.refill(clock.ms);
            expect(limiter.available(key)).toBe(bucket.tokens / 1000);
          }
        },
      ),
    );
  });
});
