// How fast `fairbucket/simulate` replays a 1-million-line access log, and how fast the
// `fairbucket simulate` command reads one end to end (gunzip, parse, key, replay).
// Usage: npm run bench:simulate   (builds first)   |   node bench/simulate.mjs --lines 200000
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Simulation, recommend } from '../dist/simulate.js';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' } } });
const root = fileURLToPath(new URL('../', import.meta.url));
const dir = join(tmpdir(), 'fairbucket-bench');
const log = join(dir, `sample-${values.lines}.log`);
mkdirSync(dir, { recursive: true });
if (!existsSync(log)) execFileSync(process.execPath, [join(root, 'examples/sample-log.mjs'), log, '--lines', values.lines], { stdio: 'inherit' });

// The log's requests as arrays, parsed once: time from the [bracketed] field, key the client
// address (IPv6 by its first four groups, as the command's /56 keying groups them too).
const timeCache = new Map();
const times = [];
const keys = [];
for (const line of readFileSync(log, 'utf8').split('\n')) {
  if (line === '') continue;
  const address = line.slice(0, line.indexOf(' '));
  const stamp = line.slice(line.indexOf('[') + 1, line.indexOf(']'));
  let timeMs = timeCache.get(stamp);
  if (timeMs === undefined) {
    const [day, month, rest] = stamp.split('/');
    timeMs = Date.parse(`${day} ${month} ${rest.slice(0, 4)} ${rest.slice(5, 13)} GMT`);
    timeCache.set(stamp, timeMs);
  }
  times.push(timeMs);
  keys.push(address.includes(':') ? address.split(':').slice(0, 4).join(':') : address);
}
const events = times.length;
const runs = Number(values.runs);
const median = (list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)];
const format = (perSecond) => `${(perSecond / 1e6).toFixed(2)} M/s`;

/** Replays the log `runs` times with `options`; returns the median events per second and the last report. */
async function replay(options) {
  const rates = [];
  let report;
  for (let run = 0; run < runs; run++) {
    const startMs = performance.now();
    const simulation = new Simulation({ capacity: 20, refillPerSecond: 1 }, options);
    for (let index = 0; index < events; index++) {
      simulation.add(times[index], keys[index]);
      if ((index & 4095) === 0) await simulation.settle();
    }
    report = await simulation.finish();
    rates.push(events / ((performance.now() - startMs) / 1000));
  }
  return { rate: median(rates), report };
}

console.log(`fairbucket/simulate on ${events.toLocaleString('en-US')} requests (${new Set(keys).size.toLocaleString('en-US')} keys), median of ${runs} runs, Node ${process.version}`);
const tried = await replay({ mode: 'try' });
console.log(`  simulate, try mode:             ${format(tried.rate)} events replayed  (refused ${tried.report.totals.refused.toLocaleString('en-US')})`);
const waited = await replay({ mode: 'wait', maxWaitMs: 2_000 });
console.log(`  simulate, wait mode (2 s):      ${format(waited.rate)} events replayed  (waited ${waited.report.waits.waited.toLocaleString('en-US')})`);

const recommendStartMs = performance.now();
const recommendation = await recommend(times.map((timeMs, index) => ({ timeMs, key: keys[index] })));
const recommendRate = events / ((performance.now() - recommendStartMs) / 1000);
console.log(`  recommend, ${recommendation.grid.length} policies at once:  ${format(recommendRate)} events (${format(recommendRate * recommendation.grid.length)} decisions)`);

const cliRates = [];
for (let run = 0; run < Math.min(3, runs); run++) {
  const startMs = performance.now();
  execFileSync(process.execPath, [join(root, 'dist/cli.js'), 'simulate', log, '--capacity', '20', '--rate', '1', '--json'], { maxBuffer: 1 << 28 });
  cliRates.push(events / ((performance.now() - startMs) / 1000));
}
console.log(`  fairbucket simulate (command, end to end, from the file): ${format(median(cliRates))} lines`);
