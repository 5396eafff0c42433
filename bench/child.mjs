// Runs one contender of one scenario in a fresh process and prints its figures as JSON.
// Usage: node --expose-gc bench/child.mjs <scenario> <contender> '<params as JSON>'
import { measure } from 'mitata';
import { awaited, keyed, single, waiting } from './contenders.mjs';

const [scenario, contender, paramsJson = '{}'] = process.argv.slice(2);
const params = JSON.parse(paramsJson);

/** Counts the timers alive at any moment, and all ever created, by wrapping the globals. */
function countTimers() {
  const active = new Set();
  const counts = { created: 0, peak: 0 };
  const { setTimeout: realSet, clearTimeout: realClear, setInterval: realEvery, clearInterval: realStop } = globalThis;
  const track = (handle) => {
    active.add(handle);
    counts.created++;
    counts.peak = Math.max(counts.peak, active.size);
    return handle;
  };
  const untrack = (clear) => (handle) => {
    active.delete(handle);
    clear(handle);
  };
  globalThis.setTimeout = (callback, ms, ...args) => {
    // A one-shot timer stops counting as active once it has fired.
    const handle = realSet((...callbackArgs) => {
      active.delete(handle);
      callback(...callbackArgs);
    }, ms, ...args);
    return track(handle);
  };
  globalThis.setInterval = (callback, ms, ...args) => track(realEvery(callback, ms, ...args));
  globalThis.clearTimeout = untrack(realClear);
  globalThis.clearInterval = untrack(realStop);
  return counts;
}

/** Distinct keys and a fixed-seed random order over them (a power-of-two length for masking). */
function keysInOrder(count) {
  const keys = Array.from({ length: count }, (_, index) => `user:${index}`);
  const order = new Uint32Array(1 << 20);
  let seed = 12_345;
  for (let index = 0; index < order.length; index++) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    order[index] = seed % count;
  }
  return { keys, order };
}

function percentile(sorted, fraction) {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

async function run() {
  switch (scenario) {
    case 'single': {
      const decide = single[contender](params);
      const stats = await measure(decide, { min_cpu_time: 400e6 });
      return { nsPerOp: stats.p50 };
    }
    case 'keyed': {
      const decide = keyed[contender](params);
      const { keys, order } = keysInOrder(params.keys);
      for (const key of keys) await decide(key);
      const mask = order.length - 1;
      let next = 0;
      // Batches of 1,024 decisions per sample: single calls over a million keys would time
      // the timer reads' cache misses as much as the limiter's.
      const batch = 1024;
      const sync = !(decide(keys[0]) instanceof Promise);
      const stats = sync
        ? await measure(() => {
            for (let index = 0; index < batch; index++) decide(keys[order[next++ & mask]]);
          }, { min_cpu_time: 400e6 })
        : await measure(async () => {
            for (let index = 0; index < batch; index++) await decide(keys[order[next++ & mask]]);
          }, { min_cpu_time: 400e6 });
      return { nsPerOp: stats.p50 / batch };
    }
    case 'memory': {
      const { keys } = keysInOrder(params.keys);
      globalThis.gc();
      globalThis.gc();
      const before = process.memoryUsage();
      const decide = keyed[contender]();
      for (const key of keys) await decide(key);
      globalThis.gc();
      globalThis.gc();
      const after = process.memoryUsage();
      const heapBytes = after.heapUsed - before.heapUsed;
      const bufferBytes = after.arrayBuffers - before.arrayBuffers;
      // Keep the limiter reachable until after the measurement.
      decide(keys[0]);
      return { bytesPerKey: (heapBytes + bufferBytes) / params.keys, heapBytesPerKey: heapBytes / params.keys, bufferBytesPerKey: bufferBytes / params.keys };
    }
    case 'awaited': {
      const timers = countTimers();
      const acquire = awaited[contender]();
      const stats = await measure(async () => {
        await acquire();
      }, { min_cpu_time: 400e6 });
      return { nsPerOp: stats.p50, timersCreated: timers.created };
    }
    case 'waiting': {
      const timers = countTimers();
      const acquire = waiting[contender]();
      const callers = params.callers;
      const grantedAtMs = new Float64Array(callers);
      const order = [];
      const startMs = performance.now();
      const all = [];
      for (let index = 0; index < callers; index++) {
        all.push(
          acquire().then(() => {
            grantedAtMs[index] = performance.now() - startMs;
            order.push(index);
          }),
        );
      }
      await Promise.all(all);
      const lateness = Array.from(grantedAtMs, (atMs, index) => atMs - index).sort((a, b) => a - b);
      const totalMs = Math.max(...grantedAtMs);
      const idealMs = callers - 1;
      return {
        totalMs,
        idealMs,
        overIdealPercent: ((totalMs - idealMs) / idealMs) * 100,
        latenessP50Ms: percentile(lateness, 0.5),
        latenessP99Ms: percentile(lateness, 0.99),
        latenessMaxMs: lateness[lateness.length - 1],
        fifo: order.every((value, index) => value === index),
        peakTimers: timers.peak,
      };
    }
    case 'churn': {
      const { KeyedLimiter } = await import('../dist/index.js');
      let nowMs = 0;
      const clock = { now: () => nowMs, setTimeout: () => 0, clearTimeout: () => undefined };
      // Refill period 1 s; one new key per millisecond: about 1,000 keys live at a time.
      const limiter = new KeyedLimiter({ capacity: 10, refillPerSecond: 10, clock, maxKeys: Infinity });
      const segments = [];
      let peakSize = 0;
      let peakHeapAt1M = 0;
      let peakHeap = 0;
      const segmentKeys = 1_000_000;
      for (let segment = 0; segment < params.keys / segmentKeys; segment++) {
        const startMs = performance.now();
        for (let index = 0; index < segmentKeys; index++) {
          limiter.tryAcquire(`client:${segment}:${index}`);
          nowMs += 1;
          if ((index & 0xfff) === 0) peakSize = Math.max(peakSize, limiter.size);
        }
        segments.push(((performance.now() - startMs) * 1e6) / segmentKeys);
        globalThis.gc();
        const usage = process.memoryUsage();
        peakHeap = Math.max(peakHeap, usage.heapUsed + usage.arrayBuffers);
        if (segment === 0) peakHeapAt1M = peakHeap;
      }
      return {
        keys: params.keys,
        simulatedHours: nowMs / 3_600_000,
        peakSize,
        peakHeapAt1MKeysMB: peakHeapAt1M / 2 ** 20,
        peakHeapMB: peakHeap / 2 ** 20,
        firstSegmentNsPerOp: segments[0],
        lastSegmentNsPerOp: segments[segments.length - 1],
        segmentsNsPerOp: segments.map((value) => Math.round(value)),
      };
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

const result = await run();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
