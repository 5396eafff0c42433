/** How to read a numeric time: `'s'` epoch seconds, `'ms'` epoch milliseconds, `'auto'` seconds below 1e11 (the year 5138), else milliseconds. */
export type TimeUnit = 'auto' | 's' | 'ms';

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

/** Reads a two-digit (or `length`-digit) decimal number at `at`; NaN if any is not a digit. */
function digits(text: string, at: number, length = 2): number {
  let value = 0;
  for (let index = at; index < at + length; index++) {
    const digit = text.charCodeAt(index) - 48;
    if (!(digit >= 0 && digit <= 9)) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

/** Reads Common Log Format's `10/Oct/2000:13:55:36 -0700` (fractions of a second allowed); NaN if it is not one. */
function clfTime(text: string): number {
  const month = MONTHS.indexOf(text.slice(3, 6));
  if (text[2] !== '/' || text[6] !== '/' || text[11] !== ':' || month < 0 || month % 3 !== 0) return Number.NaN;
  let at = 20;
  let fractionMs = 0;
  if (text[at] === '.') {
    const end = text.indexOf(' ', at);
    fractionMs = Number(`0${text.slice(at, end < 0 ? undefined : end)}`) * 1000;
    at = end < 0 ? text.length : end;
  }
  const utcMs = Date.UTC(digits(text, 7, 4), month / 3, digits(text, 0), digits(text, 12), digits(text, 15), digits(text, 18)) + fractionMs;
  if (at >= text.length) return utcMs;
  const sign = text[at + 1] === '-' ? -1 : text[at + 1] === '+' ? 1 : Number.NaN;
  return utcMs - sign * (digits(text, at + 2) * 60 + digits(text, at + 4)) * 60_000;
}

/** Reads an ISO-8601 date-time; one without a zone is UTC. NaN if it is not one. */
function isoTime(text: string): number {
  if (!/^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?(Z|[+-]\d\d:?\d\d)?$/i.test(text)) return Number.NaN;
  const zoned = /(Z|[+-]\d\d:?\d\d)$/i.test(text) && text.length > 10;
  return Date.parse(`${text.replace(' ', 'T')}${zoned || text.length === 10 ? '' : 'Z'}`);
}

let lastText = '';
let lastMs = Number.NaN;

/**
 * Returns the epoch milliseconds of a log's time: a number or numeric string (in `unit`),
 * ISO-8601 (`2026-01-05T10:00:00.123Z`; without a zone, UTC) or Common Log Format
 * (`05/Jan/2026:10:00:00 +0000`); undefined when it is none of these. Consecutive lines
 * often share their time: the last string read is remembered.
 */
export function parseTime(value: unknown, unit: TimeUnit): number | undefined {
  let ms: number;
  if (typeof value === 'number') ms = value;
  else if (typeof value !== 'string' || value === '') return undefined;
  else if (value === lastText) return lastMs === lastMs ? lastMs : undefined;
  else {
    const numeric = Number(value);
    ms = numeric === numeric ? numeric : value.charCodeAt(2) === 0x2f /* / */ ? clfTime(value) : isoTime(value);
    if (numeric !== numeric) {
      lastText = value;
      lastMs = ms;
      return ms === ms ? ms : undefined;
    }
  }
  if (!Number.isFinite(ms)) return undefined;
  return unit === 'ms' || (unit === 'auto' && Math.abs(ms) >= 1e11) ? ms : ms * 1000;
}
