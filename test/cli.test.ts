import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli-main.js';
import { simulate } from '../src/simulate.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const cli = join(root, 'dist/cli.js');
const work = mkdtempSync(join(tmpdir(), 'fairbucket-cli-'));

/** A Combined Log Format line of `address` at `second` seconds past 10:00:00 UTC. */
function clf(address: string, second: number): string {
  const time = `05/Jan/2026:10:${String(Math.floor(second / 60)).padStart(2, '0')}:${String(second % 60).padStart(2, '0')} +0000`;
  return `${address} - - [${time}] "GET /a HTTP/1.1" 200 512 "-" "test-agent"`;
}

// A minute of traffic: 5 clients once a second, one client 5 times a second.
const lines: string[] = [];
for (let second = 0; second < 60; second++) {
  for (let client = 1; client <= 5; client++) lines.push(clf(`198.51.100.${client}`, second));
  for (let burst = 0; burst < 5; burst++) lines.push(clf('203.0.113.66', second));
}
const logText = `${lines.join('\n')}\n`;
const logFile = join(work, 'access.log');
const gzFile = join(work, 'access.log.gz');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built command as a user would, with `input` on its standard input. */
function run(args: readonly string[], input?: string | Buffer): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: work });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Runs `main` in this process, as the command does, with `input` on a stdin of its own. */
async function runHere(args: readonly string[], input = '', stderrIsTty = false): Promise<Run> {
  const stdin = new PassThrough();
  stdin.end(input);
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdin, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text), isTTY: stderrIsTty } });
  return { code, stdout, stderr };
}

beforeAll(() => {
  // npm test builds first; run alone, this file builds the command if it is not there.
  if (!existsSync(cli)) execFileSync(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js'), '--silent'], { cwd: root });
  writeFileSync(logFile, logText);
  writeFileSync(gzFile, gzipSync(logText));
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('fairbucket simulate (the command, in a child process)', () => {
  it('replays a log file and prints what the policy refuses', async () => {
    const { code, stdout, stderr } = await run(['simulate', 'access.log', '--capacity', '5', '--rate', '2']);
    expect([code, stderr]).toEqual([0, '']);
    // The bursting client: 5 a second against 2 a second after its first 5 tokens.
    expect(stdout).toContain('fairbucket simulate: capacity 5, refill 2 per second, try mode');
    expect(stdout).toContain('requests  600 over 59 s');
    expect(stdout).toContain('refused   177 (29.5%)');
    expect(stdout).toContain('203.0.113.66  177 of 300 refused (59%)');
  });

  it('prints JSON that matches simulate on the same requests', async () => {
    const { code, stdout } = await run(['simulate', 'access.log', '--capacity', '5', '--rate', '2', '--json']);
    expect(code).toBe(0);
    const events = lines.map((line) => ({ timeMs: Date.parse(`2026-01-05T10:${line.slice(line.indexOf('[') + 16, line.indexOf(']') - 6)}Z`), key: line.slice(0, line.indexOf(' ')) }));
    const expected = JSON.parse(JSON.stringify(await simulate(events, { capacity: 5, refillPerSecond: 2 })));
    expect(JSON.parse(stdout)).toEqual(expected);
  });

  it('reads standard input, plain or gzipped, and a gzipped file, to the same result', async () => {
    const args = ['--capacity', '5', '--rate', '2', '--json'];
    const fromFile = JSON.parse((await run(['simulate', 'access.log', ...args])).stdout);
    expect(JSON.parse((await run(['simulate', ...args], logText)).stdout)).toEqual(fromFile);
    expect(JSON.parse((await run(['simulate', '-', ...args], gzipSync(logText))).stdout)).toEqual(fromFile);
    expect(JSON.parse((await run(['simulate', 'access.log.gz', ...args])).stdout)).toEqual(fromFile);
  });

  it('skips unreadable lines, counting them and showing a few, and still reports', async () => {
    const input = `${lines[0]}\nnot a log line\n${lines[1]}\n{"broken\n${lines[2]}\n`;
    const { code, stdout, stderr } = await run(['simulate', '--capacity', '5', '--rate', '2'], input);
    expect(code).toBe(0);
    expect(stdout).toContain('requests  3 over');
    expect(stderr).toBe(
      'fairbucket: 2 of 5 lines could not be read (format clf) and were skipped, for example:\n  line 2: not in Common or Combined Log Format: not a log line\n  line 4: not in Common or Combined Log Format: {"broken\n',
    );
  });

  it('says so and exits with 1 on an empty input or a missing file, and with 2 on bad arguments', async () => {
    expect(await run(['simulate', '--capacity', '5', '--rate', '2'], '')).toEqual({ code: 1, stdout: '', stderr: 'fairbucket: the input is empty: no request to replay\n' });
    const missing = await run(['simulate', 'nowhere.log', '--capacity', '5', '--rate', '2']);
    expect([missing.code, missing.stderr]).toEqual([1, "fairbucket: cannot read nowhere.log: ENOENT: no such file or directory, open 'nowhere.log'\n"]);
    const unknown = await run(['simulate', 'access.log', '--capacity', '5', '--refill', '2']);
    expect([unknown.code, unknown.stderr]).toEqual([2, "fairbucket: Unknown option '--refill'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--refill\"\n(fairbucket --help for usage)\n"]);
  });

  it('writes a self-contained HTML report with --report', async () => {
    const { code } = await run(['recommend', 'access.log', '--refused-keys', '0', '--capacities', '1,5,10', '--rates', '1,2,5', '--report', 'report.html']);
    expect(code).toBe(0);
    const html = readFileSync(join(work, 'report.html'), 'utf8');
    expect(html).toContain('Recommended: <code data-field="recommended">--capacity 5 --rate 5</code>');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('prints progress on stderr when asked', async () => {
    const { stderr } = await run(['simulate', 'access.log.gz', '--capacity', '5', '--rate', '2', '--progress']);
    expect(stderr).toMatch(/^fairbucket: read 600 lines \(0\.1 MB\) in [\d.]+ m?s, [\d,]+ lines\/s\n$/);
  });
});

describe('the sample log generator', () => {
  it('writes a day that the command reads without a bad line, the scraper one key and the most refused', async () => {
    for (const format of ['clf', 'json']) {
      const file = join(work, `sample.${format}.gz`);
      execFileSync(process.execPath, [join(root, 'examples/sample-log.mjs'), file, '--lines', '20000', '--format', format], { stdio: 'ignore' });
      const { code, stdout, stderr } = await run(['simulate', file, '--capacity', '100', '--rate', '0.5', '--json']);
      expect([code, stderr]).toEqual([0, '']);
      const report = JSON.parse(stdout);
      expect(report.durationMs).toBeGreaterThan(23 * 3_600_000);
      expect(report.topKeys[0]).toMatchObject({ key: '2001:db8:bad:ff00::/56' });
      expect(report.totals.refusedKeys).toBe(1);
    }
  });
});

describe('fairbucket recommend (the command, in a child process)', () => {
  it('prints the recommended policy and the frontier', async () => {
    const { code, stdout } = await run(['recommend', 'access.log', '--refused-keys', '0%', '--capacities', '1,5,10', '--rates', '1,2,5']);
    expect(code).toBe(0);
    expect(stdout).toBe(
      [
        'fairbucket recommend: at most 0% of keys refused, 9 policies tried',
        '  recommended: --capacity 5 --rate 5  (refuses 0 of 6 keys (0%) and 0 of 600 requests (0%))',
        '  frontier (each the smallest rate for its capacity):',
        '    capacity  rate/s  keys refused  requests refused',
        '           5       5            0%                0%',
        '',
      ].join('\n'),
    );
  });

  it('allows refusing a share of keys, given in percent or as a fraction', async () => {
    const percent = await run(['recommend', '--refused-keys', '20%', '--capacities', '1,5,10', '--rates', '1,2,5', '--json'], logText);
    const fraction = await run(['recommend', '--refused-keys', '0.2', '--capacities', '1,5,10', '--rates', '1,2,5', '--json'], logText);
    const { recommendation, report } = JSON.parse(percent.stdout);
    expect(recommendation.recommended).toMatchObject({ capacity: 1, refillPerSecond: 1, refusedKeys: 1 });
    expect(report).toBeUndefined();
    expect(JSON.parse(fraction.stdout)).toEqual({ recommendation });
  });
});

describe('main (the command, in this process)', () => {
  it('prints the usage with --help or no command', async () => {
    for (const args of [['--help'], [], ['help']]) {
      const { code, stdout } = await runHere(args);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Usage:\n {2}fairbucket simulate \[FILE\]/);
    }
  });

  it.each([
    [['simulate', '--rate', '1'], 'fairbucket: --capacity is required'],
    [['simulate', '--capacity', 'ten', '--rate', '1'], 'fairbucket: --capacity must be a number, got `ten`'],
    [['simulate', '--capacity', '0', '--rate', '1'], 'fairbucket: Expected `capacity` to be a finite number > 0 and <= 1000000000000, got `0` (number)'],
    [['simulate', '--capacity', '1', '--rate', '1', '--mode', 'queue'], 'fairbucket: --mode must be one of try, wait, got `queue`'],
    [['simulate', '--capacity', '1', '--rate', '1', '--format', 'xml'], 'fairbucket: --format must be one of auto, clf, json, csv, got `xml`'],
    [['simulate', 'a.log', 'b.log', '--capacity', '1', '--rate', '1'], 'fairbucket: one input at a time, got 2: a.log b.log'],
    [['simulat'], 'fairbucket: unknown command `simulat`: use simulate or recommend'],
    [['recommend', '--refused-keys', 'some'], 'fairbucket: --refused-keys must be a number, got `some`'],
    [['recommend', '--rates', '1,,2'], 'fairbucket: --rates must be a number, got ``'],
    [['recommend', '--refused-keys', '200%'], 'fairbucket: Expected `maxRefusedKeysShare` to be a finite number >= 0 and <= 1, got `2` (number)'],
  ])('rejects %j with exit code 2', async (args, message) => {
    const { code, stderr } = await runHere(args, lines[0]);
    expect([code, stderr]).toEqual([2, `${message}\n(fairbucket --help for usage)\n`]);
  });

  it('reads gzipped standard input, and says which file it cannot read or which flag it does not know', async () => {
    const stdin = new PassThrough();
    stdin.end(gzipSync(logText));
    let stdout = '';
    expect(await main(['simulate', '--capacity', '5', '--rate', '2'], { stdin, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: () => true } })).toBe(0);
    expect(stdout).toContain('requests  600 over 59 s');
    expect(await runHere(['simulate', join(work, 'missing.log'), '--capacity', '1', '--rate', '1'])).toEqual({
      code: 1,
      stdout: '',
      stderr: `fairbucket: cannot read ${join(work, 'missing.log')}: ENOENT: no such file or directory, open '${join(work, 'missing.log')}'\n`,
    });
    const unknown = await runHere(['simulate', '--capacityy', '1']);
    expect([unknown.code, unknown.stderr.split('\n')[0]]).toEqual([2, "fairbucket: Unknown option '--capacityy'. To specify a positional argument starting with a '-', place it at the end of the command after '--', as in '-- \"--capacityy\""]);
  });

  it('reads CRLF lines, IPv6 subnets and --max-keys, and shortens long lines it shows', async () => {
    const input = [clf('2001:db8:1:2::1', 0), clf('2001:db8:1:3::1', 0), `${'x'.repeat(200)}`].join('\r\n');
    const { code, stdout, stderr } = await runHere(['simulate', '--capacity', '1', '--rate', '1', '--ipv6-subnet', '64', '--max-keys', '5', '--json'], input);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ totals: { keys: 2, refused: 0 }, policy: { maxKeys: 5 } });
    expect(stderr).toContain(`line 3: not in Common or Combined Log Format: ${'x'.repeat(160)}…\n`);
    const marked = await runHere(['simulate', '--capacity', '1', '--rate', '1', '--json'], `\uFEFF{"time":0,"ip":"1.2.3.4"}\n`);
    expect([marked.stderr, JSON.parse(marked.stdout).totals.events]).toEqual(['', 1]);
    const whole = await runHere(['simulate', '--capacity', '1', '--rate', '1', '--ipv6-subnet', 'false', '--json'], input);
    expect(JSON.parse(whole.stdout).topKeys).toEqual([]);
    expect(JSON.parse(whole.stdout).totals.keys).toBe(2);
  });

  it('says when standard input cannot be read, and reads an empty one as empty', async () => {
    const stdin = new PassThrough();
    let stderr = '';
    const running = main(['simulate', '--capacity', '1', '--rate', '1'], { stdin, stdout: { write: () => true }, stderr: { write: (text: string) => (stderr += text) } });
    stdin.destroy(new Error('EIO: i/o error, read'));
    expect([await running, stderr]).toEqual([1, 'fairbucket: cannot read standard input: EIO: i/o error, read\n']);
    expect((await runHere(['simulate', '--capacity', '1', '--rate', '1'], '')).stderr).toBe('fairbucket: the input is empty: no request to replay\n');
  });

  it('reports progress while it reads, once a second', async () => {
    let nowMs = 0;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => (nowMs += 600));
    try {
      const stdin = new PassThrough();
      let stderr = '';
      const running = main(['simulate', '--capacity', '1', '--rate', '1', '--progress'], { stdin, stdout: { write: () => true }, stderr: { write: (text: string) => (stderr += text) } });
      for (const line of lines.slice(0, 4)) {
        stdin.write(`${line}\n`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      stdin.end();
      expect(await running).toBe(0);
      expect(stderr).toMatch(/^(fairbucket: reading \d lines \(0\.0 MB\) in [\d.]+ s, [\d,]+ lines\/s\n)+fairbucket: read 4 lines/);
    } finally {
      spy.mockRestore();
    }
  });

  it('asks for an input rather than wait on a terminal', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    let stderr = '';
    const code = await main(['simulate', '--capacity', '1', '--rate', '1'], { stdin, stdout: { write: () => true }, stderr: { write: (text: string) => (stderr += text) } });
    expect([code, stderr]).toEqual([2, 'fairbucket: no input: name a log file, or pipe one in\n(fairbucket --help for usage)\n']);
  });

  it('replays in wait mode with --max-wait-ms, keyed by any field', async () => {
    const input = ['{"time":0,"user":"u"}', '{"time":0,"user":"u"}', '{"time":0,"user":"u"}', '{"time":0.5,"user":"v"}'].join('\n');
    const { code, stdout } = await runHere(['simulate', '--capacity', '1', '--rate', '1', '--mode', 'wait', '--max-wait-ms', '1000', '--key', 'user', '--time-unit', 's', '--json', '--top', '1'], input);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.totals).toMatchObject({ events: 4, granted: 3, refused: 1, keys: 2 });
    expect(report.waits).toEqual({ waited: 1, p50Ms: 0, p99Ms: 1000, maxMs: 1000, meanMs: 1000 / 3 });
    const text = await runHere(['simulate', '--capacity', '1', '--rate', '1', '--mode', 'wait', '--max-wait-ms', '1000', '--key', 'user', '--time-unit', 's'], input);
    expect(text.stdout).toContain('waits     1 waited; p50 0 ms, p99 1 s, max 1 s');
    expect(text.stdout).toContain('wait mode (max wait 1 s)');
  });

  it('warns of lines further back in time than the tolerance, and of lines replayed at a later time', async () => {
    const input = [clf('1.1.1.1', 30), clf('1.1.1.1', 25), clf('1.1.1.1', 5), clf('1.1.1.1', 0), clf('1.1.1.1', 31)].join('\n');
    const { code, stdout, stderr } = await runHere(['simulate', '--capacity', '10', '--rate', '1', '--tolerance-ms', '10000'], input);
    expect(code).toBe(0);
    expect(stdout).toContain('1 requests earlier than the one before them were replayed at its time');
    expect(stderr).toBe(
      `fairbucket: 2 lines were more than 10 s earlier than a line before them and were skipped (allow more with --tolerance-ms), for example:\n  line 3: earlier than the tolerance allows: ${clf('1.1.1.1', 5)}\n  line 4: earlier than the tolerance allows: ${clf('1.1.1.1', 0)}\n`,
    );
  });

  it('fails with 1 when no line can be replayed', async () => {
    const unreadable = await runHere(['simulate', '--capacity', '1', '--rate', '1', '--format', 'json'], 'x\ny\n');
    expect([unreadable.code, unreadable.stderr.split('\n').at(-2)]).toEqual([1, 'fairbucket: no line of the input could be replayed']);
    const blank = await runHere(['simulate', '--capacity', '1', '--rate', '1'], '\n\n');
    expect([blank.code, blank.stderr]).toEqual([1, 'fairbucket: the input is empty: no request to replay\n']);
  });

  it('shows progress on a terminal, overwriting its line', async () => {
    const { stderr } = await runHere(['simulate', '--capacity', '1', '--rate', '1'], logText, true);
    expect(stderr).toMatch(/^\rfairbucket: read 600 lines \(0\.1 MB\) in [\d.]+ m?s, [\d,]+ lines\/s\n$/);
    expect((await runHere(['simulate', '--capacity', '1', '--rate', '1', '--quiet'], logText, true)).stderr).toBe('');
  });

  it('writes both the frontier and the recommended policy\'s report for a file, and says when nothing meets the target', async () => {
    const reportFile = join(work, 'both.html');
    const { code } = await runHere(['recommend', logFile, '--refused-keys', '0', '--capacities', '5', '--rates', '5', '--report', reportFile]);
    expect(code).toBe(0);
    const html = readFileSync(reportFile, 'utf8');
    expect(html).toContain('Policies tried');
    expect(html).toContain('Requests over time');
    const none = await runHere(['recommend', '--refused-keys', '0', '--refused-requests', '0%', '--capacities', '1', '--rates', '0', '--report', reportFile], logText);
    expect(none.stdout).toBe(`fairbucket recommend: at most 0% of keys refused, at most 0% of requests, 1 policies tried\n  no policy tried meets the target: try larger --capacities or --rates, or a looser target\n  report: ${reportFile}\n`);
    expect(readFileSync(reportFile, 'utf8')).toContain('No policy tried meets the target.');
  });
});
