import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'fairbucket-long-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function node(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...args], { cwd: root, maxBuffer: 1 << 28, timeout: 600_000 }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }));
  });
}

// Run through the built package (npm test and npm run test:long build first).
describe('fairbucket simulate on a million-line log', () => {
  it('replays it in constant memory (a 48 MB heap), the same gzipped or not, and recommends limits', async () => {
    const plain = join(work, 'million.log');
    const gzipped = join(work, 'million.log.gz');
    for (const out of [plain, gzipped]) expect((await node(['examples/sample-log.mjs', out, '--lines', '1000000'])).code).toBe(0);
    const args = ['--capacity', '100', '--rate', '0.5', '--json'];
    const small = await node(['--max-old-space-size=48', 'dist/cli.js', 'simulate', plain, ...args]);
    expect([small.code, small.stderr]).toEqual([0, '']);
    const report = JSON.parse(small.stdout);
    expect(report.totals).toMatchObject({ events: 1_065_464, outOfOrder: 0 });
    // The scraper rotating addresses within its /56 is one key, and the one refused most.
    expect(report.topKeys[0]).toMatchObject({ key: '2001:db8:bad:ff00::/56' });
    expect(report.topKeys[0].refusedShare).toBeGreaterThan(0.9);
    const fromGzip = await node(['--max-old-space-size=48', 'dist/cli.js', 'simulate', gzipped, ...args]);
    expect(JSON.parse(fromGzip.stdout)).toEqual(report);
    const recommended = await node(['dist/cli.js', 'recommend', gzipped, '--refused-keys', '0.1%', '--json']);
    const { recommendation } = JSON.parse(recommended.stdout);
    expect(recommendation.recommended).toMatchObject({ meetsTarget: true, refusedKeys: 1 });
  }, 900_000);
});
