import { defineConfig } from 'vitest/config';

// The long-run, hostile-input and multi-process suites, apart from `npm test` so that it
// stays fast: `npm run test:long`, which CI runs too. Timeouts leave a wide margin for a
// busy 2-core machine.
export default defineConfig({
  test: {
    include: ['test/**/*.long.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    globalSetup: ['test/support/redis-global-setup.ts'],
    // One file at a time: each of these loads the machine on its own.
    fileParallelism: false,
  },
});
