import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { LineParser } from './simulate-input.js';
import type { Replayer } from './simulate-run.js';

/** A line that could not be replayed, for the warning. */
export interface LineSample {
  readonly lineNumber: number;
  readonly text: string;
  readonly reason: string;
}

/** What reading a log found. */
export interface ReadResult {
  readonly lines: number;
  readonly replayed: number;
  readonly unreadable: number;
  readonly unreadableSamples: readonly LineSample[];
  readonly outOfOrder: number;
  readonly outOfOrderSamples: readonly LineSample[];
}

/** Where reading a log reports how far it got. */
export type Progress = (lines: number, bytes: number, done: boolean) => void;

/** Lines kept as samples of each kind of problem. */
const SAMPLES = 3;
/** Longest part of a line shown in a sample. */
const SAMPLE_CHARS = 160;

/** Yields the bytes of `source`, gunzipped when they start with gzip's magic number, whatever the file is named. */
async function* bytesOf(source: Readable): AsyncGenerator<Buffer> {
  const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await chunks.next();
  if (first.done) return;
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield first.value;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  };
  if (first.value[0] !== 0x1f || first.value[1] !== 0x8b) return yield* rest();
  yield* Readable.from(rest()).pipe(createGunzip({ chunkSize: 1 << 18 }));
}

/**
 * Reads the log at `path` (`'-'` for standard input), plain or gzipped, line by line
 * through `parser` into `replayer`, in constant memory; counts the lines it cannot read
 * or replay (out of order), with a few samples of each, and never throws on their account.
 * @throws when the file cannot be opened or read, or the gzip data is corrupt.
 */
export async function readLog(path: string, parser: LineParser, replayer: Replayer, progress: Progress, stdin: Readable): Promise<ReadResult> {
  const source = path === '-' ? stdin : createReadStream(path, { highWaterMark: 1 << 18 });
  const decoder = new StringDecoder('utf8');
  let lines = 0;
  let replayed = 0;
  let bytes = 0;
  let unreadable = 0;
  let outOfOrder = 0;
  const unreadableSamples: LineSample[] = [];
  const outOfOrderSamples: LineSample[] = [];
  const sample = (samples: LineSample[], text: string, reason: string): void => {
    if (samples.length < SAMPLES) samples.push({ lineNumber: lines, text: text.length > SAMPLE_CHARS ? `${text.slice(0, SAMPLE_CHARS)}…` : text, reason });
  };
  const line = (raw: string): void => {
    lines++;
    // A byte-order mark (written by some Windows tools) is not part of the first line.
    const text = lines === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    const problem = parser.parse(text.endsWith('\r') ? text.slice(0, -1) : text);
    if (problem === null) return;
    if (problem !== undefined) {
      unreadable++;
      sample(unreadableSamples, text, problem);
    } else if (replayer.add(parser.timeMs, parser.key, parser.cost)) replayed++;
    else {
      outOfOrder++;
      sample(outOfOrderSamples, text, 'earlier than the tolerance allows');
    }
  };
  let rest = '';
  for await (const chunk of bytesOf(source)) {
    bytes += chunk.length;
    const text = rest + decoder.write(chunk);
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      line(text.slice(start, end));
      start = end + 1;
    }
    rest = text.slice(start);
    progress(lines, bytes, false);
    await replayer.settle();
  }
  rest += decoder.end();
  if (rest !== '') line(rest);
  progress(lines, bytes, true);
  return { lines, replayed, unreadable, unreadableSamples, outOfOrder, outOfOrderSamples };
}
