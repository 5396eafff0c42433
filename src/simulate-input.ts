/*
 * Reading one access-log line into a request to replay: Common and Combined Log Format
 * (nginx's and Apache's defaults), JSON lines and CSV. No Node module: the command line
 * does the reading of files and streams.
 */
import { DEFAULT_IPV6_SUBNET, ipKey } from './ip-key.js';
import { ownString } from './simulate-keys.js';
import { parseTime, type TimeUnit } from './simulate-time-format.js';

/** The formats a log line can be in; `'auto'` decides on the first line that is not empty. */
export type LogFormat = 'auto' | 'clf' | 'json' | 'csv';

/**
 * How to read the lines of a log.
 * @example
 * ```ts
 * const options: InputOptions = { format: 'json', key: 'header:x-api-key', timeField: 'ts', timeUnit: 'ms' };
 * ```
 */
export interface InputOptions {
  /** @default 'auto' */
  readonly format?: LogFormat | undefined;
  /**
   * What keys a request: `'ip'` the client's address (an IPv6 one by its `ipv6Subnet`),
   * `'header:NAME'` a request header (a JSON object `headers`, or a field `http_NAME` as
   * nginx names them; in Combined Log Format `referer` and `user-agent`), or the name of
   * any field (`'field:NAME'` or `NAME`; in JSON a dotted path).
   * @default 'ip'
   */
  readonly key?: string | undefined;
  /** The field holding the client address in JSON and CSV. @default the first of remote_addr, ip, client_ip, remoteAddress, client */
  readonly ipField?: string | undefined;
  /** The field holding the time in JSON and CSV. @default the first of time, timestamp, @timestamp, ts, time_local, time_iso8601, date */
  readonly timeField?: string | undefined;
  /** How to read a numeric time. @default 'auto' (below 1e11: seconds, else milliseconds) */
  readonly timeUnit?: TimeUnit | undefined;
  /** The field holding each request's cost; without it every request costs 1. */
  readonly costField?: string | undefined;
  /** As `ipKey`'s. @default 56 */
  readonly ipv6Subnet?: number | false | undefined;
  /** The CSV field separator, one character. @default ',' */
  readonly delimiter?: string | undefined;
}

/** Field names of Common and Combined Log Format, in order. */
const CLF_FIELDS = ['ip', 'ident', 'user', 'time', 'request', 'status', 'bytes', 'referer', 'user-agent'] as const;
/** IPv6 prefixes whose key a parser remembers, at most; past it, it starts again. */
export const PREFIX_CACHE_SIZE = 10_000;
const IP_FIELDS = ['remote_addr', 'ip', 'client_ip', 'remoteAddress', 'client'];
const TIME_FIELDS = ['time', 'timestamp', '@timestamp', 'ts', 'time_local', 'time_iso8601', 'date'];

/** Finds a field of a parsed line by name; undefined when it has none. */
type Lookup = (name: string) => unknown;

/**
 * Splits a Common or Combined Log Format line into its first `count` fields: words,
 * `[bracketed]` and `"quoted"` (with `\"` escapes) ones without their delimiters.
 * Returns how many it found.
 */
function clfFields(line: string, count: number, out: string[]): number {
  let at = 0;
  let found = 0;
  while (found < count && at < line.length) {
    const first = line.charCodeAt(at);
    let end: number;
    if (first === 0x5b /* [ */) {
      end = line.indexOf(']', at);
      if (end < 0) return found;
      out[found++] = line.slice(at + 1, end);
      end++;
    } else if (first === 0x22 /* " */) {
      end = line.indexOf('"', at + 1);
      while (end > 0 && line.charCodeAt(end - 1) === 0x5c /* \ */) end = line.indexOf('"', end + 1);
      if (end < 0) return found;
      out[found++] = line.slice(at + 1, end);
      end++;
    } else {
      end = line.indexOf(' ', at);
      if (end < 0) end = line.length;
      out[found++] = line.slice(at, end);
    }
    at = end;
    while (line.charCodeAt(at) === 0x20) at++;
  }
  return found;
}

/** Splits a CSV record into fields, honouring `"quoted"` fields with `""` for a quote. */
export function csvFields(line: string, delimiter: string): string[] {
  if (!line.includes('"')) return line.split(delimiter);
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let at = 0; at < line.length; at++) {
    const char = line[at]!;
    if (quoted) {
      if (char !== '"') field += char;
      else if (line[at + 1] === '"') field += line[++at];
      else quoted = false;
    } else if (char === '"') quoted = true;
    else if (char === delimiter) {
      fields.push(field);
      field = '';
    } else field += char;
  }
  fields.push(field);
  return fields;
}

/** Returns the value at dotted `path` of `object` (a field named with the dots itself first). */
function jsonPath(object: Record<string, unknown>, path: string): unknown {
  if (path in object) return object[path];
  let value: unknown = object;
  for (const part of path.split('.')) value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[part] : undefined;
  return value;
}

/** Returns the first of `names` that `lookup` finds, or undefined. */
function firstOf(lookup: Lookup, names: readonly string[]): string | undefined {
  return names.find((name) => lookup(name) !== undefined && lookup(name) !== '');
}

/**
 * LineParser reads log lines, one at a time, into the request fields `timeMs`, `key` and
 * `cost`, which it overwrites at each line (nothing is allocated per line for its result).
 * @example
 * ```ts
 * const parser = new LineParser({ key: 'ip' });
 * if (parser.parse(line) === undefined) simulation.add(parser.timeMs, parser.key, parser.cost);
 * ```
 */
export class LineParser {
  /** The format, once decided. */
  format: LogFormat;
  timeMs = 0;
  key = '';
  cost = 1;
  readonly #options: InputOptions;
  readonly #ipv6Subnet: number | false;
  /** The field keying a request, as named for the format; `'ip'` the client address. */
  #keyField = '';
  #header = '';
  #csvNames: string[] | undefined;
  readonly #clf: string[] = [];
  /** In Common or Combined Log Format: the fields to split, the index of the key's and the cost's (-1: none), and why no line can be read. */
  readonly #clfCount: number;
  readonly #clfKey: number;
  readonly #clfCost: number;
  readonly #clfProblem: string | undefined;
  readonly #delimiter: string;
  /** ipKey's answers by the first four groups of an IPv6 address. */
  readonly #prefixKeys = new Map<string, string>();

  constructor(options: InputOptions = {}) {
    this.#options = options;
    this.format = options.format ?? 'auto';
    this.#ipv6Subnet = options.ipv6Subnet ?? DEFAULT_IPV6_SUBNET;
    this.#delimiter = options.delimiter ?? ',';
    const key = options.key ?? 'ip';
    if (key.startsWith('header:')) this.#header = key.slice('header:'.length).toLowerCase();
    else this.#keyField = key.startsWith('field:') ? key.slice('field:'.length) : key;
    const keyName = this.#header || this.#keyField;
    const clfIndex = (name: string): number => CLF_FIELDS.indexOf(name as (typeof CLF_FIELDS)[number]);
    this.#clfKey = clfIndex(keyName);
    this.#clfCost = options.costField === undefined ? -1 : clfIndex(options.costField);
    this.#clfCount = Math.max(4, this.#clfKey + 1, this.#clfCost + 1);
    const unknown = this.#clfKey < 0 ? keyName : this.#clfCost < 0 && options.costField !== undefined ? options.costField : undefined;
    if (unknown !== undefined) this.#clfProblem = `no field \`${unknown}\` in Common or Combined Log Format (fields: ${CLF_FIELDS.join(', ')})`;
  }

  /**
   * Reads `line` into `timeMs`, `key` and `cost`.
   * @returns undefined when it was read; `null` for a line to pass over (empty, or CSV's header); else why it could not be read.
   */
  parse(line: string): string | null | undefined {
    if (line.length === 0 || line.trim() === '') return null;
    if (this.format === 'auto') this.format = line.trimStart().startsWith('{') ? 'json' : /^\S+ \S+ .*\[[^\]]+\] "/.test(line) ? 'clf' : 'csv';
    if (this.format === 'clf') return this.#clfLine(line);
    if (this.format === 'json') return this.#jsonLine(line);
    return this.#csvLine(line);
  }

  #clfLine(line: string): string | undefined {
    if (this.#clfProblem) return this.#clfProblem;
    const fields = this.#clf;
    const found = clfFields(line, this.#clfCount, fields);
    if (found < 4 || line.indexOf('[') < 0) return 'not in Common or Combined Log Format';
    const key = this.#clfKey < found ? fields[this.#clfKey] : undefined;
    return this.#accept('time', fields[3], key, this.#clfCost < 0 ? undefined : this.#clfCost < found ? fields[this.#clfCost] : undefined);
  }

  #jsonLine(line: string): string | undefined {
    let object: unknown;
    try {
      object = JSON.parse(line);
    } catch {
      return 'not JSON';
    }
    if (typeof object !== 'object' || object === null || Array.isArray(object)) return 'not a JSON object';
    const record = object as Record<string, unknown>;
    const lookup = (name: string): unknown => {
      if (!name.startsWith('header:')) return jsonPath(record, name);
      const header = name.slice('header:'.length);
      const headers = (record.headers ?? (record.request as Record<string, unknown> | undefined)?.headers) as Record<string, unknown> | undefined;
      const named = headers && Object.keys(headers).find((field) => field.toLowerCase() === header);
      return named ? headers[named] : record[`http_${header.replaceAll('-', '_')}`];
    };
    return this.#read(lookup, this.#options.ipField ?? firstOf(lookup, IP_FIELDS), this.#options.timeField ?? firstOf(lookup, TIME_FIELDS));
  }

  #csvLine(line: string): string | null | undefined {
    const fields = csvFields(line, this.#delimiter);
    if (!this.#csvNames) {
      this.#csvNames = fields.map((name) => name.trim());
      return null;
    }
    if (fields.length !== this.#csvNames.length) return `expected ${this.#csvNames.length} CSV fields, got ${fields.length}`;
    const names = this.#csvNames;
    const lookup = (name: string): unknown => {
      const index = names.indexOf(name.startsWith('header:') ? `http_${name.slice('header:'.length).replaceAll('-', '_')}` : name);
      return index < 0 ? undefined : fields[index];
    };
    return this.#read(lookup, this.#options.ipField ?? firstOf(lookup, IP_FIELDS), this.#options.timeField ?? firstOf(lookup, TIME_FIELDS));
  }

  /**
   * Returns `ipKey(address, ipv6Subnet)`, remembered by the first four groups of an IPv6
   * address written out in full up to there (all a prefix of at most 64 bits depends on):
   * a client rotating through the addresses of its block costs one Map lookup per line
   * instead of a parse (measured: ipKey was 60% of the time replaying a log with IPv6 clients).
   */
  #ipKey(address: string): string {
    if (this.#ipv6Subnet === false || !address.includes(':')) return ipKey(address, this.#ipv6Subnet);
    let end = -1;
    for (let group = 0; group < 4; group++) {
      const next = address.indexOf(':', end + 1);
      if (next <= end + 1) return ipKey(address, this.#ipv6Subnet);
      end = next;
    }
    const prefix = address.slice(0, end);
    // The all-zero prefix holds ::1 and the IPv4-mapped addresses, which key as IPv4 by
    // bits past the first 64: it alone does not decide the key.
    if (!/^[0-9a-f:]+$/i.test(address) || /^[0:]+$/.test(prefix)) return ipKey(address, this.#ipv6Subnet);
    // Kept, when new, as a string of its own: a slice would hold the log's chunk alive.
    let key = this.#prefixKeys.get(prefix);
    if (key === undefined) {
      if (this.#prefixKeys.size >= PREFIX_CACHE_SIZE) this.#prefixKeys.clear();
      key = ipKey(address, this.#ipv6Subnet);
      // Only an address keyed by its prefix tells what its prefix keys as.
      if (key.endsWith(`/${this.#ipv6Subnet}`)) this.#prefixKeys.set(ownString(prefix), key);
    }
    return key;
  }

  /** Reads the time, key and cost of a JSON or CSV line through `lookup`; returns why not, if it cannot. */
  #read(lookup: Lookup, ipField: string | undefined, timeField: string | undefined): string | undefined {
    if (timeField === undefined) return `no time field (name it with --time-field; looked for ${TIME_FIELDS.join(', ')})`;
    let key: unknown;
    if (this.#header) key = lookup(`header:${this.#header}`);
    else if (this.#keyField !== 'ip') key = lookup(this.#keyField);
    else if (ipField === undefined) return `no client address field (name it with --ip-field; looked for ${IP_FIELDS.join(', ')})`;
    else key = lookup(ipField);
    const costField = this.#options.costField;
    return this.#accept(timeField, lookup(timeField), key, costField === undefined ? undefined : lookup(costField));
  }

  /** Takes the time, key and cost of a line, as found in its fields; returns why not, if it cannot. */
  #accept(timeField: string, time: unknown, found: unknown, costValue: unknown): string | undefined {
    const timeMs = parseTime(time, this.#options.timeUnit ?? 'auto');
    if (timeMs === undefined) return `time ${JSON.stringify(time) ?? 'missing'} in \`${timeField}\` is not ISO-8601, [dd/Mon/yyyy:hh:mm:ss zone], epoch seconds or milliseconds`;
    let key = typeof found === 'number' ? String(found) : found;
    if (typeof key !== 'string' || key === '') return `no ${this.#header ? `header \`${this.#header}\`` : `\`${this.#keyField}\``} to key it by`;
    if (!this.#header && this.#keyField === 'ip') key = this.#ipKey(key);
    let cost = 1;
    const costField = this.#options.costField;
    if (costField !== undefined) {
      cost = costValue === '-' ? 0 : typeof costValue === 'number' ? costValue : typeof costValue === 'string' && costValue.trim() !== '' ? Number(costValue) : Number.NaN;
      if (!(cost >= 0 && cost < Infinity)) return `cost ${JSON.stringify(costValue) ?? 'missing'} in \`${costField}\` is not a number >= 0`;
    }
    this.timeMs = timeMs;
    this.key = key as string;
    this.cost = cost;
    return undefined;
  }
}
