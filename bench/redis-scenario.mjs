// Scenario 8, shared by `npm run bench` (bench/run.mjs) and `node bench/redis-run.mjs`
// (this scenario alone): each contender in its own child (bench/redis-child.mjs), the runs
// of the contenders interleaved so that a busy moment of the machine hits them alike.

export const REDIS_CONTENDERS = [
  'fairbucket',
  "fairbucket's script, raw evalsha",
  'minimal script (TIME, GET, SET PX), raw evalsha',
  'rate-limiter-flexible RateLimiterRedis',
];

/**
 * Measures the contenders against the Redis at `url` and reports one table and the three
 * targets with `say` and `table`; `measure(contender, params)` runs one child once.
 */
export function redisScenario({ url, runs, say, table, measure }) {
  say(
    'All through the same ioredis client on loopback, every decision a grant on 1,000 keys; 64 decisions in flight, and one at a time. Redis µs per decision: `INFO commandstats` (`usec` of EVALSHA, the script included, over the decisions) during the 64-in-flight phase; client CPU: `process.cpuUsage()` of the benchmark process over the same phase. The two raw `evalsha` rows are yardsticks: fairbucket\'s own script sent by hand (what the limiter adds on the client), and the least script with the same semantics (what the script costs in Redis). Redis and Node share the 2 cores. Medians of ' +
      `${runs} interleaved runs.`,
  );
  say();
  const results = new Map(REDIS_CONTENDERS.map((name) => [name, []]));
  for (let run = 0; run < runs; run++) {
    for (const name of REDIS_CONTENDERS) results.get(name).push(measure(name, { url, concurrency: 64, durationMs: 3_000 }));
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const med = (name, field) => median(results.get(name).map((result) => result[field]));
  const whole = (value) => Math.round(value).toLocaleString('en-US');
  table(
    ['contender', 'decisions/s, 64 in flight', 'vs fairbucket', 'Redis µs per decision', 'client CPU µs per decision', 'decisions/s, one at a time', 'round trips per decision'],
    REDIS_CONTENDERS.map((name) => [
      name,
      whole(med(name, 'concurrentPerSecond')),
      `${(med(name, 'concurrentPerSecond') / med('fairbucket', 'concurrentPerSecond')).toFixed(2)}×`,
      med(name, 'redisUsecPerDecision').toFixed(2),
      med(name, 'clientCpuUsPerDecision').toFixed(2),
      whole(med(name, 'sequentialPerSecond')),
      med(name, 'roundTripsPerDecision').toFixed(2),
    ]),
  );
  const redisRatio = med('fairbucket', 'redisUsecPerDecision') / med('minimal script (TIME, GET, SET PX), raw evalsha', 'redisUsecPerDecision');
  const clientRatio = med('fairbucket', 'clientCpuUsPerDecision') / med("fairbucket's script, raw evalsha", 'clientCpuUsPerDecision');
  const speedRatio = med('fairbucket', 'concurrentPerSecond') / med('rate-limiter-flexible RateLimiterRedis', 'concurrentPerSecond');
  const verdict = (met) => (met ? 'met' : '**not met**');
  say(`- Redis time per decision: ${redisRatio.toFixed(2)}× the minimal script (target ≤ 1.10×: ${verdict(redisRatio <= 1.1)}).`);
  say(`- Client CPU per decision: ${clientRatio.toFixed(2)}× a raw evalsha of the same script (target ≤ 1.30×: ${verdict(clientRatio <= 1.3)}).`);
  say(`- Decisions/s at 64 in flight: ${speedRatio.toFixed(2)}× RateLimiterRedis (target ≥ 1.00×: ${verdict(speedRatio >= 1)}).`);
  say();
  say('One at a time, the figure is mostly loopback latency and how fast the machine wakes an idle process; it moves by 3× between runs here.');
  say();
}
