import { parseHttpDate } from './http-date.js';

/**
 * The longest delay-seconds read, 2^31 s (about 68 years): as RFC 9110 has caches read a
 * delta-seconds too large to represent, so that a huge value stays a finite, huge pause.
 */
const MAX_DELAY_SECONDS = 2 ** 31;

/**
 * Returns the milliseconds a `Retry-After` value asks to wait, read strictly as RFC 9110
 * defines it, or undefined when absent or unreadable:
 * - `delay-seconds`, one or more ASCII digits and nothing else (`120` is 120,000 ms);
 *   above 2^31 seconds it is read as 2^31 seconds (2,147,483,648,000 ms);
 * - an HTTP-date in IMF-fixdate (`Wed, 21 Oct 2026 07:28:00 GMT`), obsolete RFC 850
 *   (`Wednesday, 21-Oct-26 07:28:00 GMT`) or asctime (`Wed Oct 21 07:28:00 2026`) form:
 *   the ms from `nowEpochMs` until then, 0 when it has passed.
 * Spaces and tabs around the value are ignored. Anything else is unreadable, never "now":
 * a list joined by `Headers.get` (`5, 10`), a sign (`-5`, `+5`), a decimal (`1.5`, `1.`,
 * `.5`), an exponent (`1e3`), other date forms, or a date that does not exist.
 * @param value - the header's value, as `headers.get('retry-after')` returns it.
 * @param nowEpochMs - the wall clock HTTP dates are read against. @default Date.now()
 * @example
 * ```ts
 * parseRetryAfter('120'); // 120000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('2015-10-21T07:28:00Z')); // 10000
 * parseRetryAfter('5, 10'); // undefined
 * ```
 */
export function parseRetryAfter(value: string | null, nowEpochMs = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.replace(/^[ \t]+|[ \t]+$/g, '');
  if (/^\d+$/.test(text)) return Math.min(Number(text), MAX_DELAY_SECONDS) * 1000;
  const atMs = parseHttpDate(text, nowEpochMs);
  return atMs === undefined ? undefined : Math.max(0, atMs - nowEpochMs);
}
