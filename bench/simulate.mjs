// How fast `fairbucket/simulate` replays a 1-million-line access log, and how fast the
// `fairbucket simulate` command reads one end to end (gunzip, parse, key, replay).
// Usage: npm run bench:simulate   (builds first)   |   node bench/simulate.mjs --lines 200000
import { execFileSync, spawnSync } from 'node:child_process';
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

// On a shared machine the wall clock counts other processes' time too: each rate is also
// given per second of this process's CPU time (user + system), which they do not inflate.
const cpuSeconds = (since) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1e6;
};

/** Replays the log `runs` times with `options`; returns the median events per second (wall and CPU) and the last report. */
async function replay(options) {
  const rates = [];
  const cpuRates = [];
  let report;
  for (let run = 0; run < runs; run++) {
    const cpuStart = process.cpuUsage();
    const startMs = performance.now();
    const simulation = new Simulation({ capacity: 20, refillPerSecond: 1 }, options);
    for (let index = 0; index < events; index++) {
      simulation.add(times[index], keys[index]);
      if ((index & 4095) === 0) await simulation.settle();
    }
    report = await simulation.finish();
    rates.push(events / ((performance.now() - startMs) / 1000));
    cpuRates.push(events / cpuSeconds(cpuStart));
  }
  return { rate: median(rates), cpuRate: median(cpuRates), report };
}

console.log(`fairbucket/simulate on ${events.toLocaleString('en-US')} requests (${new Set(keys).size.toLocaleString('en-US')} keys), median of ${runs} runs, Node ${process.version}`);
const tried = await replay({ mode: 'try' });
console.log(`  simulate, try mode:             ${format(tried.rate)} events replayed (${format(tried.cpuRate)} per CPU second; refused ${tried.report.totals.refused.toLocaleString('en-US')})`);
const waited = await replay({ mode: 'wait', maxWaitMs: 2_000 });
console.log(`  simulate, wait mode (2 s):      ${format(waited.rate)} events replayed (${format(waited.cpuRate)} per CPU second; waited ${waited.report.waits.waited.toLocaleString('en-US')})`);

const recommendEvents = times.map((timeMs, index) => ({ timeMs, key: keys[index] }));
const recommendCpu = process.cpuUsage();
const recommendStartMs = performance.now();
const recommendation = await recommend(recommendEvents);
const recommendRate = events / ((performance.now() - recommendStartMs) / 1000);
const recommendCpuRate = events / cpuSeconds(recommendCpu);
const policies = recommendation.grid.length;
console.log(`  recommend, ${policies} policies at once:  ${format(recommendRate)} events, ${format(recommendRate * policies)} decisions (${format(recommendCpuRate * policies)} per CPU second)`);

const cliRates = [];
const cliCpuRates = [];
for (let run = 0; run < Math.min(3, runs); run++) {
  const startMs = performance.now();
  // The child's CPU time, from /usr/bin/time's format when there is one, else wall time only.
  const timed = existsSync('/usr/bin/time');
  const args = [join(root, 'dist/cli.js'), 'simulate', log, '--capacity', '20', '--rate', '1', '--json'];
  const result = timed ? spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, ...args], { maxBuffer: 1 << 28, encoding: 'utf8' }) : spawnSync(process.execPath, args, { maxBuffer: 1 << 28 });
  cliRates.push(events / ((performance.now() - startMs) / 1000));
  if (timed) {
    const [user, system] = result.stderr.trim().split('\n').pop().split(' ').map(Number);
    cliCpuRates.push(events / (user + system));
  }
}
console.log(`  fairbucket simulate (command, end to end, from the file): ${format(median(cliRates))} lines${cliCpuRates.length ? ` (${format(median(cliCpuRates))} per CPU second)` : ''}`);
