import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const root = new URL('../', import.meta.url);
const packageJson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as Record<string, unknown>;

// Runs on the built package (npm test builds first), as users receive it.
describe('the published package', () => {
  it('has no runtime dependencies', () => {
    expect(packageJson.dependencies ?? {}).toEqual({});
    expect(packageJson.peerDependencies ?? {}).toEqual({});
  });

  it('declares ESM and CJS entries with types first, and is side-effect free', () => {
    expect(packageJson).toMatchObject({ sideEffects: false, files: ['dist', 'http/package.json', 'outbound/package.json', 'redis/package.json', 'simulate/package.json'], engines: { node: '>=18' } });
    const exports = packageJson.exports as Record<string, Record<string, Record<string, string>>>;
    expect(Object.keys(exports)).toEqual(['.', './http', './outbound', './redis', './simulate', './package.json']);
    for (const entry of ['.', './http', './outbound', './redis', './simulate']) {
      for (const condition of ['import', 'require'] as const) {
        expect(Object.keys(exports[entry]![condition]!)[0]).toBe('types');
      }
    }
  });

  it('loads as ESM and as CJS with the same exports', async () => {
    const esm = await import(new URL('dist/index.js', root).href);
    const cjs = createRequire(import.meta.url)('../dist/index.cjs');
    const names = ['KeyedLimiter', 'RateLimitError', 'TokenBucket', 'defaultClock'];
    expect(Object.keys(esm).sort()).toEqual(names);
    expect(Object.keys(cjs).sort()).toEqual(names);
    const bucket = new cjs.TokenBucket({ capacity: 1, refillPerSecond: 1 });
    expect([bucket.tryAcquire(), bucket.tryAcquire()]).toEqual([true, false]);
  });

  it.each([
    ['http', ['LimiterTimeoutError', 'fastifyRateLimit', 'fetchRateLimit', 'ipKey', 'rateLimit']],
    ['outbound', ['acquireAll', 'limitFetch', 'parseRetryAfter', 'throttle', 'tryAcquireAll']],
    ['redis', ['RateLimitError', 'RedisDataError', 'RedisKeyedLimiter', 'RedisTimeoutError', 'takeAll', 'tryAcquireAll']],
    ['simulate', ['DEFAULT_CAPACITIES', 'DEFAULT_RATES', 'Simulation', 'VirtualClock', 'recommend', 'simulate']],
  ])('loads the %s entry as ESM and as CJS', async (entry, names) => {
    expect(Object.keys(await import(new URL(`dist/${entry}.js`, root).href)).sort()).toEqual(names);
    expect(Object.keys(createRequire(import.meta.url)(`../dist/${entry}.cjs`)).sort()).toEqual(names);
  });

  it('imports nothing, from Node or elsewhere, so it runs in any runtime', () => {
    for (const file of ['index', 'http', 'outbound', 'redis', 'simulate'].flatMap((entry) => [`dist/${entry}.js`, `dist/${entry}.cjs`])) {
      const code = readFileSync(new URL(file, root), 'utf8');
      expect(code).not.toMatch(/\bimport\s*[\s{*'"(]|\brequire\s*\(|node:/);
    }
  });

  it('has the `fairbucket` command as its bin, built with its hashbang', () => {
    expect(packageJson.bin).toEqual({ fairbucket: './dist/cli.js' });
    expect(readFileSync(new URL('dist/cli.js', root), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('is what `npm pack` would publish: dist, README, LICENSE, package.json and the http stub for old resolvers', () => {
    const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    const files = (JSON.parse(output) as [{ files: { path: string }[] }])[0].files.map((file) => file.path).sort();
    expect(files.filter((file) => !/^dist\/[\w-]+-[\w-]{8}\.d\.c?ts$/.test(file))).toEqual([
      'LICENSE',
      'README.md',
      'dist/cli.cjs',
      'dist/cli.d.cts',
      'dist/cli.d.ts',
      'dist/cli.js',
      'dist/http.cjs',
      'dist/http.d.cts',
      'dist/http.d.ts',
      'dist/http.js',
      'dist/index.cjs',
      'dist/index.d.cts',
      'dist/index.d.ts',
      'dist/index.js',
      'dist/outbound.cjs',
      'dist/outbound.d.cts',
      'dist/outbound.d.ts',
      'dist/outbound.js',
      'dist/redis.cjs',
      'dist/redis.d.cts',
      'dist/redis.d.ts',
      'dist/redis.js',
      'dist/simulate.cjs',
      'dist/simulate.d.cts',
      'dist/simulate.d.ts',
      'dist/simulate.js',
      'http/package.json',
      'outbound/package.json',
      'package.json',
      'redis/package.json',
      'simulate/package.json',
    ]);
  });
});
