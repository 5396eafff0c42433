// Writes a realistic day of web traffic as an access log, to try `fairbucket simulate` and
// `fairbucket recommend` on: many well-behaved visitors following a daily rhythm (each page
// view a burst of a page and its assets), a few bursty API clients syncing every half hour,
// and one abusive scraper rotating its IPv6 addresses within its /56 for two hours.
//
// Usage: node examples/sample-log.mjs OUT [--lines N] [--format clf|json] [--seed N]
//   OUT ending in .gz is gzipped; - writes to standard output. About 270,000 lines by default.
import { createWriteStream } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';

const { values, positionals } = parseArgs({
  options: { lines: { type: 'string', default: '270000' }, format: { type: 'string', default: 'clf' }, seed: { type: 'string', default: '17' } },
  allowPositionals: true,
});
const out = positionals[0] ?? '-';
const scale = Number(values.lines) / 270_000;
const DAY_START_MS = Date.UTC(2026, 0, 5);
const HOUR_MS = 3_600_000;

/** A small seeded PRNG (mulberry32), so that the log is the same on every run. */
let seed = Number(values.seed);
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
}
const between = (low, high) => low + random() * (high - low);
const pick = (list) => list[Math.floor(random() * list.length)];

// Events as parallel arrays (time, client address, path, status, bytes, agent), sorted at the end.
const times = [];
const addresses = [];
const paths = [];
const agents = [];
function request(timeMs, address, path, agent) {
  if (timeMs < DAY_START_MS || timeMs >= DAY_START_MS + 24 * HOUR_MS) return;
  times.push(timeMs);
  addresses.push(address);
  paths.push(path);
  agents.push(agent);
}

const BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
];
const PAGES = ['/', '/products', '/products/42', '/products/7', '/cart', '/search?q=bucket', '/about', '/blog/rate-limits'];
const ASSETS = ['/static/app.js', '/static/app.css', '/static/logo.svg', '/static/font.woff2', '/img/hero.webp', '/img/p42.webp', '/api/cart', '/api/recommendations'];

/** The daily rhythm: how likely a visit starts at `hour` (UTC), low at night, high in the afternoon. */
const rhythm = (hour) => 0.15 + 0.85 * Math.max(0, Math.sin(((hour - 7) / 24) * 2 * Math.PI)) ** 1.5;

// Well-behaved visitors: a few visits a day each, when the rhythm says; each page view
// is the page and 3 to 8 assets within 300 ms, then a pause of 4 to 60 s of reading.
const visitors = Math.round(1000 * scale);
for (let visitor = 0; visitor < visitors; visitor++) {
  const address = visitor % 5 === 0 ? `2001:db8:${(visitor >> 8).toString(16)}:${(visitor & 0xff).toString(16)}00::${Math.floor(between(1, 0xffff)).toString(16)}` : `198.51.${(visitor >> 8) & 0xff}.${visitor & 0xff}`;
  const agent = pick(BROWSERS);
  for (let visit = 0, visits = 1 + Math.floor(random() * 5); visit < visits; visit++) {
    let hour;
    do hour = random() * 24;
    while (random() > rhythm(hour));
    let atMs = DAY_START_MS + hour * HOUR_MS;
    for (let view = 0, views = 3 + Math.floor(random() * 15); view < views; view++) {
      request(atMs, address, pick(PAGES), agent);
      for (let asset = 0, assets = 3 + Math.floor(random() * 6); asset < assets; asset++) request(atMs + between(20, 300), address, pick(ASSETS), agent);
      atMs += between(4_000, 60_000);
    }
  }
}

// Bursty API clients: every 30 minutes a sync of 30 to 60 requests within 2 seconds.
for (let client = 0; client < Math.max(1, Math.round(10 * scale)); client++) {
  const address = `203.0.113.${10 + client}`;
  const offsetMs = between(0, 30 * 60_000);
  for (let syncMs = DAY_START_MS + offsetMs; syncMs < DAY_START_MS + 24 * HOUR_MS; syncMs += 30 * 60_000) {
    for (let call = 0, calls = 30 + Math.floor(random() * 31); call < calls; call++) request(syncMs + between(0, 2_000), address, `/api/orders?page=${call}`, 'sync-client/2.3');
  }
}

// The abuser: a scraper at about 10 requests a second for two hours (scaled), each from a
// new address of its IPv6 /56, so that per-address limits never catch it.
const abuseStartMs = DAY_START_MS + 15 * HOUR_MS;
for (let atMs = abuseStartMs; atMs < abuseStartMs + 2 * HOUR_MS * scale; atMs += between(20, 180)) {
  const host = Array.from({ length: 4 }, () => Math.floor(between(0, 0xffff)).toString(16)).join(':');
  request(atMs, `2001:db8:bad:ff${Math.floor(between(0, 255)).toString(16).padStart(2, '0')}:${host}`, `/products/${Math.floor(between(1, 100_000))}`, 'python-requests/2.32');
}

const order = Uint32Array.from(times.keys()).sort((a, b) => times[a] - times[b]);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (value) => String(value).padStart(2, '0');
function clfTime(ms) {
  const date = new Date(ms);
  return `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

if (out !== '-') mkdirSync(dirname(out), { recursive: true });
const file = out === '-' ? process.stdout : createWriteStream(out);
const sink = out.endsWith('.gz') ? createGzip() : file;
if (sink !== file) sink.pipe(file);
let buffer = '';
for (const index of order) {
  const status = paths[index].startsWith('/api/cart') && random() < 0.05 ? 404 : 200;
  const bytes = Math.floor(between(200, 60_000));
  buffer +=
    values.format === 'json'
      ? `${JSON.stringify({ time: new Date(times[index]).toISOString(), remote_addr: addresses[index], request: `GET ${paths[index]} HTTP/1.1`, status, bytes, http_user_agent: agents[index] })}\n`
      : `${addresses[index]} - - [${clfTime(times[index])}] "GET ${paths[index]} HTTP/1.1" ${status} ${bytes} "-" "${agents[index]}"\n`;
  if (buffer.length > 1 << 16) {
    if (!sink.write(buffer)) await new Promise((resolve) => sink.once('drain', resolve));
    buffer = '';
  }
}
sink.end(buffer);
await new Promise((resolve) => file.once(out === '-' ? 'finish' : 'close', resolve).on('error', resolve));
process.stderr.write(`sample-log: wrote ${times.length.toLocaleString('en-US')} requests to ${out}\n`);
