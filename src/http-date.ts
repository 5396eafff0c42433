/*
 * HTTP-date (RFC 9110, section 5.6.7): the preferred IMF-fixdate and the two obsolete
 * forms a recipient must still read. Case-sensitive, exact spacing, no other form.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH = `(${MONTHS.join('|')})`;
const DAY_NAME = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const DAY_NAME_LONG = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const TIME = '(\\d\\d):(\\d\\d):(\\d\\d)';
// `Sun, 06 Nov 1994 08:49:37 GMT`
const IMF_FIXDATE = new RegExp(`^${DAY_NAME}, (\\d\\d) ${MONTH} (\\d{4}) ${TIME} GMT$`);
// `Sunday, 06-Nov-94 08:49:37 GMT`
const RFC_850 = new RegExp(`^${DAY_NAME_LONG}, (\\d\\d)-${MONTH}-(\\d\\d) ${TIME} GMT$`);
// `Sun Nov  6 08:49:37 1994` (a day below 10 is padded with a space)
const ASCTIME = new RegExp(`^${DAY_NAME} ${MONTH} (\\d\\d| \\d) ${TIME} (\\d{4})$`);

/**
 * Returns the year a two-digit RFC 850 year means (RFC 9110: one that would be more than
 * 50 years in the future is the most recent past year with the same last two digits;
 * symmetrically, one more than 50 years in the past is taken in the next century).
 */
function fullYear(twoDigits: number, nowEpochMs: number): number {
  const nowYear = new Date(nowEpochMs).getUTCFullYear();
  const year = nowYear - (nowYear % 100) + twoDigits;
  if (year > nowYear + 50) return year - 100;
  return year < nowYear - 50 ? year + 100 : year;
}

/** Returns the epoch ms of a valid calendar date and time of day, else undefined (31 Feb, 24:00:00). */
function epochMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number | undefined {
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0 to 99 as 1900 to 1999.
  date.setUTCFullYear(year, month, day);
  if (date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 60) return undefined;
  // A leap second (60) is read as the first second of the next minute.
  return date.getTime() + ((hour * 60 + minute) * 60 + second) * 1000;
}

/**
 * Returns the epoch milliseconds of an HTTP-date in any of its three forms, or undefined
 * when `text` is not exactly one of them or names a date that does not exist. The day
 * name is not checked against the date. A two-digit year is read against `nowEpochMs`.
 */
export function parseHttpDate(text: string, nowEpochMs: number): number | undefined {
  const imf = IMF_FIXDATE.exec(text);
  const rfc850 = imf ? undefined : RFC_850.exec(text);
  const asctime = imf || rfc850 ? undefined : ASCTIME.exec(text);
  let parts: [year: number, month: string, day: string, time: string[]];
  if (imf) parts = [Number(imf[3]), imf[2]!, imf[1]!, imf.slice(4)];
  else if (rfc850) parts = [fullYear(Number(rfc850[3]), nowEpochMs), rfc850[2]!, rfc850[1]!, rfc850.slice(4)];
  else if (asctime) parts = [Number(asctime[6]), asctime[1]!, asctime[2]!, asctime.slice(3, 6)];
  else return undefined;
  const [year, month, day, [hour, minute, second]] = parts;
  return epochMs(year, MONTHS.indexOf(month), Number(day.trim()), Number(hour), Number(minute), Number(second));
}
