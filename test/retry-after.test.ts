import { describe, expect, it } from 'vitest';
import { backoffMs } from '../src/backoff.js';
import { parseRetryAfter } from '../src/outbound.js';

const NOW_MS = Date.parse('2015-10-21T07:28:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['120', 120_000],
    ['0', 0],
    ['007', 7_000],
    [' \t120\t ', 120_000],
    // delay-seconds above 2^31 is read as 2^31 s, as RFC 9110 has caches read a delta-seconds too large.
    ['2147483648', 2_147_483_648_000],
    ['99999999999999999999', 2_147_483_648_000],
    ['9'.repeat(400), 2_147_483_648_000],
  ])('reads the delay-seconds %j as %j ms', (value, expected) => {
    expect(parseRetryAfter(value, NOW_MS)).toBe(expected);
  });

  it.each([
    ['IMF-fixdate', 'Wed, 21 Oct 2015 07:28:10 GMT', 10_000],
    ['IMF-fixdate in the past', 'Wed, 21 Oct 2015 07:27:00 GMT', 0],
    ['IMF-fixdate, a day later', 'Thu, 22 Oct 2015 07:28:00 GMT', 86_400_000],
    ['IMF-fixdate with a leap second', 'Wed, 21 Oct 2015 07:28:60 GMT', 60_000],
    ['RFC 850', 'Wednesday, 21-Oct-15 07:28:10 GMT', 10_000],
    ['RFC 850, a year 50 years ahead', 'Thursday, 21-Oct-65 07:28:00 GMT', Date.parse('2065-10-21T07:28:00Z') - NOW_MS],
    ['RFC 850, a year more than 50 years ahead (read in the past)', 'Tuesday, 21-Oct-70 07:28:00 GMT', 0],
    ['asctime', 'Wed Oct 21 07:28:10 2015', 10_000],
    ['asctime with a one-digit day', 'Fri Nov  6 07:28:00 2015', Date.parse('2015-11-06T07:28:00Z') - NOW_MS],
    ['a date 10 years ahead (the caller caps it)', 'Mon, 21 Oct 2025 07:28:00 GMT', Date.parse('2025-10-21T07:28:00Z') - NOW_MS],
  ])('reads an HTTP-date, %s', (_form, value, expected) => {
    expect(parseRetryAfter(value, NOW_MS)).toBe(expected);
  });

  it('reads a two-digit year more than 50 years back in the next century', () => {
    const nowMs = Date.parse('2090-01-01T00:00:00Z');
    expect(parseRetryAfter('Tuesday, 06-Nov-05 08:49:37 GMT', nowMs)).toBe(Date.parse('2105-11-06T08:49:37Z') - nowMs);
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', nowMs)).toBe(Date.parse('2094-11-06T08:49:37Z') - nowMs);
  });

  // Each of these was read as "retry now" (0 ms) through Date.parse.
  it.each([
    ['a list joined by Headers.get', '5, 10'],
    ['a negative number', '-5'],
    ['a sign', '+5'],
    ['a trailing dot', '1.'],
    ['a leading dot', '.5'],
    ['a decimal', '1.5'],
    ['an exponent', '1e3'],
    ['hexadecimal', '0x10'],
    ['digits and text', '5 seconds'],
    ['non-ASCII digits', '٥'],
    ['an empty value', ''],
    ['only spaces', '   '],
    ['a word', 'soon'],
    ['an ISO date', '2015-10-21T07:28:10Z'],
    ['an HTTP-date in lower case', 'wed, 21 oct 2015 07:28:10 gmt'],
    ['an HTTP-date in another zone', 'Wed, 21 Oct 2015 07:28:10 UTC'],
    ['an HTTP-date with a one-digit day', 'Wed, 1 Oct 2015 07:28:10 GMT'],
    ['an HTTP-date with a two-digit year', 'Wed, 21 Oct 15 07:28:10 GMT'],
    ['an HTTP-date without its day name', '21 Oct 2015 07:28:10 GMT'],
    ['an HTTP-date with extra text', 'Wed, 21 Oct 2015 07:28:10 GMT, 5'],
    ['an HTTP-date on 31 February', 'Tue, 31 Feb 2015 07:28:10 GMT'],
    ['an HTTP-date at 24:00:00', 'Wed, 21 Oct 2015 24:00:00 GMT'],
    ['an HTTP-date at minute 60', 'Wed, 21 Oct 2015 07:60:00 GMT'],
    ['an HTTP-date at second 61', 'Wed, 21 Oct 2015 07:28:61 GMT'],
    ['an RFC 850 date with a short day name', 'Wed, 21-Oct-15 07:28:10 GMT'],
    ['an asctime date with a zero-padded day', 'Fri Nov 06 07:28:00 2015 GMT'],
    ['absent', null],
  ])('does not read %s (%j)', (_case, value) => {
    expect(parseRetryAfter(value, NOW_MS)).toBeUndefined();
  });

  it('reads dates against the wall clock by default', () => {
    // An HTTP-date has whole seconds: 61 s after the current second is 60 to 61 s away.
    const inAMinute = new Date(Math.floor(Date.now() / 1000) * 1000 + 61_000).toUTCString();
    const ms = parseRetryAfter(inAMinute)!;
    expect(ms).toBeGreaterThan(59_000);
    expect(ms).toBeLessThanOrEqual(61_000);
  });
});

describe('backoffMs', () => {
  it.each([
    // refusals, cap, random, expected: full jitter between 1 s and min(cap, 2^refusals s)
    [1, 900_000, 0, 1_000],
    [1, 900_000, 0.5, 1_500],
    [1, 900_000, 0.999_999, 2_000],
    [2, 900_000, 0.5, 2_500],
    [3, 900_000, 1 / 7, 2_000],
    [9, 900_000, 0.5, 256_500],
    [10, 900_000, 0.5, 450_500],
    [11, 900_000, 0.999_999, 899_999],
    [40, 900_000, 0, 1_000],
    [1_100, 900_000, 0.5, 450_500],
    [3, 5_000, 0.5, 3_000],
    [3, 700, 0.5, 700],
    [1, 0, 0.5, 0],
  ])('after %i refusals, capped at %i ms, with random %d, waits %i ms', (refusals, capMs, random, expected) => {
    expect(backoffMs(refusals, capMs, () => random)).toBe(expected);
  });
});

describe('parseRetryAfter, strictly', () => {
  it.each([
    ['1.25', undefined],
    ['abc12', undefined],
    ['12abc', undefined],
    ['', undefined],
  ])('%o', (value, expected) => {
    expect(parseRetryAfter(value, 0)).toBe(expected);
  });
});
