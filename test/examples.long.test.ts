import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));

function runExample(file: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [tsx, file], { cwd: root, timeout: 60_000 }, (error, stdout) => {
      resolve({ code: error ? 1 : 0, stdout });
    });
  });
}

// The examples are documentation: they must keep running. Real processes, real time.
describe('examples', () => {
  it('the LLM client settles every estimate and stays within both limits', async () => {
    const { code, stdout } = await runExample('examples/llm-client.ts');
    expect(code).toBe(0);
    expect(stdout.match(/used\s+\d+ tokens/g)).toHaveLength(12);
    expect(stdout).toContain('granted: 12');
  });

  it('the crawler obeys Retry-After and fetches every page', async () => {
    const { code, stdout } = await runExample('examples/crawler.ts');
    expect(code).toBe(0);
    expect(stdout.match(/-> 200/g)).toHaveLength(10);
    expect(stdout).toContain('server: 429');
  });

  it('the tiered server answers and stops on its own', async () => {
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, [tsx, 'examples/server.ts'], { cwd: root, timeout: 60_000, env: { ...process.env, PORT: '0', EXIT_AFTER_MS: '300' } }, (error, stdout) =>
        resolve({ code: error ? 1 : 0, stdout }),
      );
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
  });
});
