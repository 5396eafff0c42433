import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
const workDir = fileURLToPath(new URL('./.readme-blocks/', import.meta.url));

/** The README's TypeScript code blocks, with the line each starts on. */
function codeBlocks(): { line: number; code: string }[] {
  const lines = readFileSync(new URL('../README.md', import.meta.url), 'utf8').split('\n');
  const blocks: { line: number; code: string }[] = [];
  for (let index = 0; index < lines.length; index++) {
    if (lines[index]!.trim() !== '```ts') continue;
    const start = index + 1;
    while (lines[++index]!.trim() !== '```');
    blocks.push({ line: start, code: lines.slice(start, index).join('\n') });
  }
  return blocks;
}

// The package's own name resolves to its sources; fetch is stubbed, since the examples
// talk to APIs on the Internet and tests never leave this machine.
const prelude = `globalThis.fetch = async () => new Response('{}', { headers: { 'content-type': 'application/json' } });\n`;
function runnable(code: string): string {
  return (
    prelude +
    code
      .replaceAll("from 'fairbucket/http'", "from '../../src/http.ts'")
      .replaceAll("from 'fairbucket/outbound'", "from '../../src/outbound.ts'")
      .replaceAll("from 'fairbucket/redis'", "from '../../src/redis.ts'")
      .replaceAll("from 'fairbucket'", "from '../../src/index.ts'") +
    '\nexport {};\n'
  );
}

// The Redis examples talk to the tests' Redis, named as users name theirs: REDIS_URL.
const redisUrl = inject('redisUrl');

function run(file: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, REDIS_URL: redisUrl };
    execFile(process.execPath, [tsx, file], { cwd: root, timeout: 60_000, env }, (error, _stdout, stderr) => resolve({ code: error ? 1 : 0, stderr }));
  });
}

// Every TypeScript block of the README runs, in its own process, so the docs cannot go stale.
describe('README code blocks', () => {
  const blocks = codeBlocks();

  it('has the blocks this test expects', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });

  // Without a Redis, the blocks that need one are skipped (the global setup says so once).
  const runnableHere = blocks.filter((block) => redisUrl || !block.code.includes("'fairbucket/redis'"));
  it.each(runnableHere.map((block) => [block.line, block.code] as const))('the block at line %i runs', async (line, code) => {
    mkdirSync(workDir, { recursive: true });
    const file = `${workDir}block-${line}.ts`;
    writeFileSync(file, runnable(code));
    try {
      const result = await run(file);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
