import { defineConfig } from 'vitest/config';

// The unit tests that exercise src/ directly, for mutation testing: the long runs, real
// processes, servers, packaging and examples are left to `npm test`.
export default defineConfig({
  test: {
    include: [
      'test/acquire.test.ts',
      'test/acquire-in-line.test.ts',
      'test/acquire-all.test.ts',
      'test/limit-fetch.test.ts',
      'test/retry-after.test.ts',
      'test/edges.test.ts',
      'test/fake-time.test.ts',
      'test/http.test.ts',
      'test/keyed-limiter.test.ts',
      'test/known-options.test.ts',
      'test/messages.test.ts',
      'test/observe.test.ts',
      'test/outbound.test.ts',
      'test/properties.test.ts',
      'test/redis/redis-failures.test.ts',
      'test/redis/redis-keyed-limiter.test.ts',
      'test/redis/redis-protocol.test.ts',
      'test/refill.test.ts',
      'test/settlement.test.ts',
      'test/single-bucket.test.ts',
      'test/sleep.test.ts',
      'test/take.test.ts',
      'test/token-bucket.test.ts',
    ],
    testTimeout: 30_000,
    // The Redis suites run against a real Redis when there is one, as in `npm test`.
    globalSetup: ['test/support/redis-global-setup.ts'],
  },
});
