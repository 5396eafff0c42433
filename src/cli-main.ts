import { writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { type CliConfig, USAGE, UsageError, parseCli } from './cli-args.js';
import { type LineSample, type Progress, type ReadResult, readLog } from './cli-read.js';
import { LineParser } from './simulate-input.js';
import { renderHtml } from './simulate-html.js';
import { type Recommendation, Recommender } from './simulate-recommend.js';
import type { SimulationReport } from './simulate-report.js';
import { count, duration, formatRecommendation, formatReport } from './simulate-text.js';
import { Simulation } from './simulation.js';

/** Where the command line reads and writes: the process's streams, or a test's. */
export interface CliIo {
  readonly stdin: Readable & { readonly isTTY?: boolean | undefined };
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown; readonly isTTY?: boolean | undefined };
}

/** An input that cannot be simulated (exit code 1): empty, or with no readable line. */
class InputError extends Error {
  override readonly name = 'InputError';
}

/** Returns the reporter of reading progress: at most once a second on stderr, when asked or when stderr is a terminal. */
function progressOf(config: CliConfig, io: CliIo): Progress {
  const tty = io.stderr.isTTY === true;
  if (!(config.progress ?? tty)) return () => undefined;
  const startMs = performance.now();
  let shownMs = startMs;
  return (lines, bytes, done) => {
    const nowMs = performance.now();
    if (!done && nowMs - shownMs < 1000) return;
    shownMs = nowMs;
    const rate = lines / Math.max(0.001, (nowMs - startMs) / 1000);
    const text = `fairbucket: ${done ? 'read' : 'reading'} ${count(lines)} lines (${(bytes / 1e6).toFixed(1)} MB) in ${duration(nowMs - startMs)}, ${count(rate)} lines/s`;
    io.stderr.write(tty ? `\r${text}${done ? '\n' : ''}` : `${text}\n`);
  };
}

/** Formats line samples for a warning. */
function samples(list: readonly LineSample[]): string {
  return list.map(({ lineNumber, reason, text }) => `\n  line ${count(lineNumber)}: ${reason}: ${text}`).join('');
}

/** Reads the input into `replayer`, warning on stderr about lines skipped; throws an InputError when nothing could be replayed. */
async function read(config: CliConfig, io: CliIo, replayer: Simulation | Recommender, parser = new LineParser(config.inputOptions)): Promise<ReadResult> {
  if (config.input === '-' && io.stdin.isTTY) throw new UsageError('no input: name a log file, or pipe one in');
  let result: ReadResult;
  try {
    result = await readLog(config.input, parser, replayer, progressOf(config, io), io.stdin);
  } catch (error) {
    // A file that cannot be opened or read, or corrupt gzip data; bad lines never get here.
    throw new InputError(`cannot read ${config.input === '-' ? 'standard input' : config.input}: ${(error as Error).message}`);
  }
  if (result.unreadable) io.stderr.write(`fairbucket: ${count(result.unreadable)} of ${count(result.lines)} lines could not be read (format ${parser.format}) and were skipped, for example:${samples(result.unreadableSamples)}\n`);
  if (result.outOfOrder) {
    io.stderr.write(`fairbucket: ${count(result.outOfOrder)} lines were more than ${duration(config.toleranceMs)} earlier than a line before them and were skipped (allow more with --tolerance-ms), for example:${samples(result.outOfOrderSamples)}\n`);
  }
  if (result.lines === 0 || (result.replayed === 0 && result.unreadable === 0 && result.outOfOrder === 0)) throw new InputError(`the input is empty: no request to replay`);
  if (result.replayed === 0) throw new InputError('no line of the input could be replayed');
  return result;
}

/** Names the input in a report. */
function sourceName(config: CliConfig): string {
  return config.input === '-' ? 'standard input' : config.input;
}

/** The text summary's last line when an HTML report was written. */
function wrote(config: CliConfig): string {
  return config.reportPath ? `\n  report: ${config.reportPath}` : '';
}

async function simulateCommand(config: CliConfig, io: CliIo): Promise<void> {
  const simulation = new Simulation(config.policy, config.simulateOptions);
  await read(config, io, simulation);
  const report = await simulation.finish();
  if (config.reportPath) writeFileSync(config.reportPath, renderHtml({ source: sourceName(config), report }));
  io.stdout.write(`${config.json ? JSON.stringify(report) : formatReport(report) + wrote(config)}\n`);
}

async function recommendCommand(config: CliConfig, io: CliIo): Promise<void> {
  const recommender = new Recommender(config.recommendOptions);
  await read(config, io, recommender);
  const recommendation: Recommendation = recommender.finish();
  let report: SimulationReport | undefined;
  // The report's charts of the recommended policy need a second pass: only a file can be read twice.
  if (config.reportPath && recommendation.recommended && config.input !== '-') {
    const { capacity, refillPerSecond } = recommendation.recommended;
    const simulation = new Simulation({ capacity, refillPerSecond, maxKeys: config.recommendOptions.maxKeys }, { ...config.simulateOptions, mode: 'try' });
    await read({ ...config, progress: false }, io, simulation);
    report = await simulation.finish();
  }
  if (config.reportPath) writeFileSync(config.reportPath, renderHtml({ source: sourceName(config), recommendation, report }));
  io.stdout.write(`${config.json ? JSON.stringify({ recommendation, report }) : formatRecommendation(recommendation) + wrote(config)}\n`);
}

/**
 * Runs the command line `fairbucket simulate|recommend` with `argv` (without `node` and
 * the script) and returns the exit code: 0 done, 1 an input that cannot be read or
 * simulated, 2 bad arguments. Never throws.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const config = parseCli(argv);
    if (config.command === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    await (config.command === 'simulate' ? simulateCommand(config, io) : recommendCommand(config, io));
    return 0;
  } catch (error) {
    const usage = error instanceof UsageError || error instanceof TypeError || error instanceof RangeError;
    io.stderr.write(`fairbucket: ${(error as Error).message}${usage ? '\n(fairbucket --help for usage)' : ''}\n`);
    return usage ? 2 : 1;
  }
}
