import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** Runs an ES module in a fresh Node process; resolves with its output and how long it lived. */
function runNode(source: string): Promise<{ code: number | null; stdout: string; stderr: string; livedMs: number }> {
  const startMs = performance.now();
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', source], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr, livedMs: performance.now() - startMs });
    });
    child.stdin?.end();
  });
}

// Real processes and real time: what is tested is whether Node's event loop stays alive.
describe('process lifetime (real Node processes)', () => {
  it('exits on its own after using a TokenBucket and a KeyedLimiter, with nobody waiting', async () => {
    const result = await runNode(`
      import { TokenBucket, KeyedLimiter } from ${JSON.stringify(entry)};
      const bucket = new TokenBucket({ capacity: 2, refillPerSecond: 1 });
      bucket.tryAcquire(); await bucket.acquire(); bucket.tryAcquire();
      const keyed = new KeyedLimiter({ capacity: 1, refillPerSecond: 1 });
      for (let i = 0; i < 10000; i++) keyed.tryAcquire('k' + i);
      await keyed.acquire('fresh');
      const controller = new AbortController();
      const waiting = bucket.acquire(1, { signal: controller.signal }).catch(() => 'aborted');
      controller.abort();
      console.log(await waiting);
    `);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('aborted');
    expect(result.code).toBe(0);
    // Far below the bucket's refill period (1 s) and the test timeout: no timer kept it alive.
    expect(result.livedMs).toBeLessThan(10_000);
  });

  it('stays alive while a caller waits in acquire, until it is served', async () => {
    const result = await runNode(`
      import { TokenBucket, KeyedLimiter } from ${JSON.stringify(entry)};
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 2, initialTokens: 0 });
      const keyed = new KeyedLimiter({ capacity: 1, refillPerSecond: 2 });
      keyed.tryAcquire('k');
      const startMs = performance.now();
      // Nothing else keeps the process alive: no await at top level, only the limiters' timers.
      bucket.acquire().then(() => console.log('bucket', Math.round(performance.now() - startMs)));
      keyed.acquire('k').then(() => console.log('keyed', Math.round(performance.now() - startMs)));
    `);
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.map((line) => line.split(' ')[0]).sort()).toEqual(['bucket', 'keyed']);
    for (const line of lines) expect(Number(line.split(' ')[1])).toBeGreaterThanOrEqual(499);
  });
});
