import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Long-run, hostile and multi-process suites: `npm run test:long` (vitest.long.config.ts).
    exclude: ['**/node_modules/**', 'test/**/*.long.test.ts'],
    testTimeout: 30_000,
    globalSetup: ['test/support/redis-global-setup.ts'],
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      // Type-only modules and the re-export barrels have no code to run.
      exclude: ['src/index.ts', 'src/outbound.ts', 'src/redis.ts', 'src/decision.ts', 'src/bucket-store.ts', 'src/limit-options.ts'],
      reporter: ['text-summary'],
      thresholds: { lines: 98, branches: 98, functions: 98, statements: 98 },
    },
  },
});
