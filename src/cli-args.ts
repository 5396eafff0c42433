import { parseArgs } from 'node:util';
import type { InputOptions, LogFormat } from './simulate-input.js';
import type { SimulateOptions, SimulationPolicy } from './simulate-options.js';
import type { RecommendOptions } from './simulate-recommend.js';
import type { TimeUnit } from './simulate-time-format.js';

/** The command line's usage, printed by `--help`. */
export const USAGE = `Usage:
  fairbucket simulate [FILE] --capacity N --rate N [options]   replay a log through one policy
  fairbucket recommend [FILE] [--refused-keys 0.1%] [options]   find the smallest policies that refuse few keys

FILE is an access log (plain or gzipped); without it, or with -, standard input.

Input:
  --format auto|clf|json|csv   Common/Combined Log Format, JSON lines or CSV (default: auto)
  --key ip|header:NAME|NAME    what keys a request: the client address (default), a header, any field
  --ip-field NAME              the client address field of JSON or CSV
  --ipv6-subnet N|false        key IPv6 clients by their /N (default: 56)
  --time-field NAME            the time field of JSON or CSV (ISO-8601, epoch seconds or ms)
  --time-unit auto|s|ms        how to read a numeric time (default: auto)
  --cost-field NAME            the field holding each request's cost (default: every request costs 1)
  --delimiter C                the CSV separator (default: ,)
  --tolerance-ms N             replay a line up to N ms older than the latest at the latest time (default: 10000)
Policy (simulate):
  --capacity N --rate N        tokens each key holds, tokens added per second
  --max-keys N                 most keys held (default: 1000000)
  --mode try|wait              refuse at once (default), or queue up to --max-wait-ms
  --max-wait-ms N              longest wait in wait mode (default: unbounded)
Target (recommend):
  --refused-keys SHARE         at most this share of keys ever refused (default: 0.1%)
  --refused-requests SHARE     and at most this share of requests refused (default: 100%)
  --capacities N,N,...         capacities to try (default: 1 to 1000)
  --rates N,N,...              refill rates to try, per second (default: 0.01 to 100)
Output:
  --report FILE.html           also write a self-contained HTML report
  --json                       print the report as JSON instead of text
  --top N                      most refused keys listed (default: 10)
  --progress                   report progress on stderr (default: when stderr is a terminal)
  --quiet                      no progress
  --help`;

/** What the command line asks for. */
export interface CliConfig {
  readonly command: 'simulate' | 'recommend' | 'help';
  readonly input: string;
  readonly inputOptions: InputOptions;
  readonly policy: SimulationPolicy;
  readonly simulateOptions: SimulateOptions;
  readonly recommendOptions: RecommendOptions;
  readonly reportPath: string | undefined;
  readonly toleranceMs: number;
  readonly json: boolean;
  readonly progress: boolean | undefined;
}

/** An error in the command line's arguments (exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Returns `text` as a finite number, else throws a UsageError naming `--flag`. */
function numberFlag(flag: string, text: string | undefined, fallback?: number): number {
  if (text === undefined && fallback !== undefined) return fallback;
  const value = text === undefined || text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) throw new UsageError(`--${flag} ${text === undefined ? 'is required' : `must be a number, got \`${text}\``}`);
  return value;
}

/** Returns a share from `0.1%` or `0.001`. */
function shareFlag(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  return text.endsWith('%') ? numberFlag(flag, text.slice(0, -1)) / 100 : numberFlag(flag, text);
}

/** Returns the numbers of a comma-separated list, or undefined when absent. */
function listFlag(flag: string, text: string | undefined): number[] | undefined {
  return text?.split(',').map((part) => numberFlag(flag, part));
}

/** Returns `text` when it is one of `choices`. */
function choiceFlag<T extends string>(flag: string, text: string | undefined, choices: readonly T[]): T | undefined {
  if (text === undefined || (choices as readonly string[]).includes(text)) return text as T | undefined;
  throw new UsageError(`--${flag} must be one of ${choices.join(', ')}, got \`${text}\``);
}

const FLAGS = {
  format: { type: 'string' },
  key: { type: 'string' },
  'ip-field': { type: 'string' },
  'ipv6-subnet': { type: 'string' },
  'time-field': { type: 'string' },
  'time-unit': { type: 'string' },
  'cost-field': { type: 'string' },
  delimiter: { type: 'string' },
  'tolerance-ms': { type: 'string' },
  capacity: { type: 'string' },
  rate: { type: 'string' },
  'max-keys': { type: 'string' },
  mode: { type: 'string' },
  'max-wait-ms': { type: 'string' },
  'refused-keys': { type: 'string' },
  'refused-requests': { type: 'string' },
  capacities: { type: 'string' },
  rates: { type: 'string' },
  report: { type: 'string' },
  json: { type: 'boolean' },
  top: { type: 'string' },
  progress: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Reads the command line's arguments (without `node` and the script).
 * @throws {UsageError} on an unknown flag, a missing or bad value, or an unknown command.
 */
export function parseCli(argv: readonly string[]): CliConfig {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof FLAGS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, input = '-', ...extra] = positionals;
  if (values.help || command === undefined || command === 'help') return { command: 'help' } as CliConfig;
  if (command !== 'simulate' && command !== 'recommend') throw new UsageError(`unknown command \`${command}\`: use simulate or recommend`);
  if (extra.length) throw new UsageError(`one input at a time, got ${positionals.length - 1}: ${positionals.slice(1).join(' ')}`);
  const subnet = values['ipv6-subnet'];
  const toleranceMs = numberFlag('tolerance-ms', values['tolerance-ms'], 10_000);
  const maxKeys = values['max-keys'] === undefined ? undefined : numberFlag('max-keys', values['max-keys']);
  const mode = choiceFlag('mode', values.mode, ['try', 'wait'] as const);
  return {
    command,
    input,
    inputOptions: {
      format: choiceFlag<LogFormat>('format', values.format, ['auto', 'clf', 'json', 'csv']),
      key: values.key,
      ipField: values['ip-field'],
      timeField: values['time-field'],
      timeUnit: choiceFlag<TimeUnit>('time-unit', values['time-unit'], ['auto', 's', 'ms']),
      costField: values['cost-field'],
      ipv6Subnet: subnet === undefined ? undefined : subnet === 'false' ? false : numberFlag('ipv6-subnet', subnet),
      delimiter: values.delimiter,
    },
    policy: command === 'simulate' ? { capacity: numberFlag('capacity', values.capacity), refillPerSecond: numberFlag('rate', values.rate), maxKeys } : { capacity: 1, refillPerSecond: 0 },
    simulateOptions: {
      mode,
      maxWaitMs: values['max-wait-ms'] === undefined ? undefined : numberFlag('max-wait-ms', values['max-wait-ms']),
      topKeys: numberFlag('top', values.top, 10),
      toleranceMs,
    },
    recommendOptions: {
      maxRefusedKeysShare: shareFlag('refused-keys', values['refused-keys'], 0.001),
      maxRefusedShare: shareFlag('refused-requests', values['refused-requests'], 1),
      capacities: listFlag('capacities', values.capacities),
      rates: listFlag('rates', values.rates),
      maxKeys,
      toleranceMs,
    },
    reportPath: values.report,
    toleranceMs,
    json: values.json ?? false,
    progress: values.quiet ? false : values.progress,
  };
}
