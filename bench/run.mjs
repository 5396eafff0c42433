// Runs every benchmark scenario, each contender in its own child process, and prints one
// markdown table per scenario; writes the same to bench/RESULTS.md.
// Usage: npm run bench   (builds first)   |   node bench/run.mjs --quick  (fewer runs)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { localRedis } from './redis-server.mjs';
import { redisScenario } from './redis-scenario.mjs';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 1 : 3;
const child = fileURLToPath(new URL('./child.mjs', import.meta.url));
const redisChild = fileURLToPath(new URL('./redis-child.mjs', import.meta.url));
const output = [];
const say = (line = '') => {
  console.log(line);
  output.push(line);
};

/** Runs one contender of one scenario `runs` times, each in a fresh process; returns the results. */
function measure(scenario, contender, params = {}, runs = RUNS) {
  const results = [];
  const args = scenario === 'redis' ? [redisChild, contender, JSON.stringify(params)] : ['--expose-gc', child, scenario, contender, JSON.stringify(params)];
  for (let run = 0; run < runs; run++) {
    const stdout = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24, timeout: 300_000 });
    results.push(JSON.parse(stdout.trim().split('\n').pop()));
  }
  return results;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fixed = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : String(value));
const ratio = (value) => `${value.toFixed(2)}×`;

function table(headers, rows) {
  say(`| ${headers.join(' | ')} |`);
  say(`|${headers.map((_, index) => (index === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const row of rows) say(`| ${row.join(' | ')} |`);
  say();
}

/** A speed table: ops/s, ns/op, and speed relative to ours and to the speed-of-light baseline. */
function speedTable(title, scenario, contenders, params, note) {
  say(`### ${title}`);
  say();
  if (note) say(note), say();
  const nsPerOp = new Map(contenders.map((name) => [name, median(measure(scenario, name, params).map((result) => result.nsPerOp))]));
  const ours = nsPerOp.get('fairbucket');
  const light = nsPerOp.get('speed of light');
  table(
    ['contender', 'ops/s', 'ns/op', 'speed vs fairbucket', 'speed vs speed of light'],
    contenders.map((name) => {
      const ns = nsPerOp.get(name);
      return [name, Math.round(1e9 / ns).toLocaleString('en-US'), fixed(ns), ratio(ours / ns), ratio(light / ns)];
    }),
  );
  return nsPerOp;
}

const startedAt = new Date();
say('# Benchmark results');
say();
say(`${startedAt.toISOString().slice(0, 10)} · Node ${process.version} · ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores) · median of ${RUNS} run(s), each contender in its own process`);
say();
say('Speed ratios are against the baselines measured in the same run (above 1.00× is faster). Reproduce with `npm run bench`.');
say();

say('## 1. One bucket, `tryAcquire(1)`');
say();
speedTable('Mostly granted', 'single', ['fairbucket', 'speed of light', 'limiter TokenBucket'], { capacity: 1e12, refillPerSecond: 1e6, initialTokens: 1e12 });
speedTable('Mostly denied (empty bucket)', 'single', ['fairbucket', 'speed of light', 'limiter TokenBucket'], { capacity: 1, refillPerSecond: 1e-6, initialTokens: 0 });

say('## 2. Keyed `tryAcquire(key, 1)`');
say();
for (const keys of [1_000, 100_000, 1_000_000]) {
  const contenders = ['fairbucket', 'speed of light', 'GCRA, one number per key'];
  if (keys <= 100_000) contenders.push('rate-limiter-flexible Memory (async)');
  speedTable(`${keys.toLocaleString('en-US')} distinct keys, fixed-seed random order`, 'keyed', contenders, { keys }, keys > 100_000 ? 'rate-limiter-flexible is left out at 1,000,000 keys: it arms one timer per key.' : undefined);
}
speedTable(
  '1,000 pre-touched keys, everything granted (capacity 1e6, 0.01 tokens/s), fixed-seed random order',
  'keyed',
  ['fairbucket', 'speed of light'],
  { keys: 1_000, capacity: 1e6, refillPerSecond: 0.01 },
  'The pattern of an independent measurement: no refusal and no full bucket, so every decision is a take from a bucket that is never dropped; the speed of light is an inline `Map<string, { tokens, lastMs }>` bucket.',
);

say('## 3. Memory per tracked key');
say();
say('Heap delta after `gc()` divided by keys, including typed-array backing stores (`arrayBuffers`).');
say();
{
  const rows = [];
  const gcra = measure('memory', 'GCRA, one number per key', { keys: 1_000_000 }, 1)[0].bytesPerKey;
  for (const [name, keys] of [
    ['fairbucket', 1_000_000],
    ['speed of light', 1_000_000],
    ['GCRA, one number per key', 1_000_000],
    ['rate-limiter-flexible Memory (async)', 100_000],
    ['bottleneck Group (one limiter per key)', 10_000],
  ]) {
    const result = name === 'GCRA, one number per key' ? { bytesPerKey: gcra, heapBytesPerKey: gcra, bufferBytesPerKey: 0 } : measure('memory', name, { keys }, 1)[0];
    rows.push([name, keys.toLocaleString('en-US'), fixed(result.bytesPerKey), fixed(result.heapBytesPerKey), fixed(result.bufferBytesPerKey), ratio(result.bytesPerKey / gcra)]);
  }
  table(['contender', 'keys', 'bytes/key', 'JS heap', 'array buffers', 'vs GCRA'], rows);
  say('`limiter` and `p-throttle` keep no per-key state; peers that arm timers per key are measured at fewer keys.');
  say();
}

say('## 4. `await acquire()` when tokens are there');
say();
{
  const contenders = ['fairbucket', 'speed of light', 'limiter removeTokens', 'p-throttle', 'bottleneck schedule'];
  const results = new Map(contenders.map((name) => [name, measure('awaited', name)]));
  const ns = (name) => median(results.get(name).map((result) => result.nsPerOp));
  table(
    ['contender', 'awaited calls/s', 'ns/call', 'speed vs fairbucket', 'speed vs speed of light', 'timers created'],
    contenders.map((name) => [name, Math.round(1e9 / ns(name)).toLocaleString('en-US'), fixed(ns(name)), ratio(ns('fairbucket') / ns(name)), ratio(ns('speed of light') / ns(name)), String(results.get(name)[0].timersCreated)]),
  );
}

say('## 5. Waiting: concurrent `acquire()` callers on one bucket, 1,000/s, capacity 1');
say();
say('Real time. Lateness is each grant against its ideal instant (caller i at i ms); peak timers counts timers alive at once.');
say();
for (const callers of [2_000, 10_000]) {
  say(`### ${callers.toLocaleString('en-US')} callers`);
  say();
  const rows = [];
  for (const name of ['fairbucket', 'minimal reservation waiter', 'limiter removeTokens', 'bottleneck', 'p-throttle']) {
    const result = measure('waiting', name, { callers }, 1)[0];
    rows.push([name, fixed(result.totalMs, 0), `${fixed(result.overIdealPercent, 2)}%`, fixed(result.latenessP50Ms, 2), fixed(result.latenessP99Ms, 2), fixed(result.latenessMaxMs, 2), result.fifo ? 'yes' : 'no', String(result.peakTimers)]);
  }
  table(['contender', 'total ms', 'over ideal', 'lateness p50 ms', 'p99 ms', 'max ms', 'FIFO', 'peak timers'], rows);
}

say('## 6. Idle churn: 10,000,000 distinct keys on an injected clock');
say();
{
  const result = measure('churn', 'fairbucket', { keys: quick ? 2_000_000 : 10_000_000 }, 1)[0];
  say(`One new key per simulated millisecond (${fixed(result.simulatedHours, 2)} simulated hours), capacity 10 at 10/s.`);
  say();
  table(
    ['keys', 'peak size', 'peak heap at 1M keys', 'peak heap over the run', 'ns/op first 1M', 'ns/op last 1M'],
    [[result.keys.toLocaleString('en-US'), String(result.peakSize), `${fixed(result.peakHeapAt1MKeysMB, 2)} MB`, `${fixed(result.peakHeapMB, 2)} MB`, fixed(result.firstSegmentNsPerOp), fixed(result.lastSegmentNsPerOp)]],
  );
  say(`ns/op per million keys: ${result.segmentsNsPerOp.join(', ')}.`);
  say();
}

say('## 7. Bundle size (minified + gzipped, esbuild)');
say();
{
  async function size(entry) {
    const result = await build({ entryPoints: [entry], bundle: true, minify: true, format: 'esm', write: false, platform: 'neutral', logLevel: 'silent' });
    const bytes = result.outputFiles[0].contents;
    return [bytes.length, gzipSync(bytes, { level: 9 }).length];
  }
  const resolve = (specifier) => fileURLToPath(import.meta.resolve(specifier));
  const rows = [];
  for (const [name, entry] of [
    ['fairbucket (core entry)', fileURLToPath(new URL('../dist/index.js', import.meta.url))],
    ['limiter', resolve('limiter').replace('/cjs/', '/esm/')],
    ['p-throttle', resolve('p-throttle')],
  ]) {
    const [minified, gzipped] = await size(entry);
    rows.push([name, minified.toLocaleString('en-US'), gzipped.toLocaleString('en-US')]);
  }
  table(['package', 'minified bytes', 'min + gzip bytes'], rows);
}

say('## 8. Redis: decisions per second against one local Redis');
say();
{
  const redis = await localRedis();
  if (!redis) {
    say('Skipped: no Redis here. Install `redis-server` (it is started on a free port) or set `REDIS_URL`.');
    say();
  } else {
    redisScenario({ url: redis.url, runs: RUNS, say, table, measure: (contender, params) => measure('redis', contender, params, 1)[0] });
    await redis.stop();
  }
}

// Sections written by other benchmarks (`npm run bench:http`: "## HTTP servers ...") are
// kept as they are, after this run's.
const resultsFile = new URL('./RESULTS.md', import.meta.url);
const previous = existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8') : '';
const kept = previous.indexOf('\n## HTTP servers');
writeFileSync(resultsFile, `${output.join('\n').trimEnd()}\n${kept === -1 ? '' : `\n${previous.slice(kept + 1).trimEnd()}\n`}`);
console.error(`\nWrote bench/RESULTS.md in ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s.`);
