// The contenders of each scenario: this library, the speed-of-light baselines and the npm peers.
import { createRequire } from 'node:module';
import pThrottle from 'p-throttle';
import { KeyedLimiter, TokenBucket } from '../dist/index.js';
import { MinimalBucket, MinimalGcra, MinimalKeyed, MinimalWaiter } from './baselines.mjs';

const require = createRequire(import.meta.url);
const limiter = require('limiter');
const Bottleneck = require('bottleneck');
const { RateLimiterMemory } = require('rate-limiter-flexible');

const noop = () => undefined;

/** Scenario 1: one bucket, `tryAcquire(1)`. Each returns a function making one decision. */
export const single = {
  fairbucket: ({ capacity, refillPerSecond, initialTokens }) => {
    const bucket = new TokenBucket({ capacity, refillPerSecond, initialTokens });
    return () => bucket.tryAcquire(1);
  },
  'speed of light': ({ capacity, refillPerSecond, initialTokens }) => {
    const bucket = new MinimalBucket(capacity, refillPerSecond);
    bucket.tokens = initialTokens;
    return () => bucket.tryAcquire(1);
  },
  'limiter TokenBucket': ({ capacity, refillPerSecond, initialTokens }) => {
    const bucket = new limiter.TokenBucket({ bucketSize: capacity, tokensPerInterval: refillPerSecond, interval: 'second' });
    bucket.content = initialTokens;
    return () => bucket.tryRemoveTokens(1);
  },
};

/** Scenario 2 and 3: many keys, `tryAcquire(key, 1)`. Each returns a function of the key. */
export const keyed = {
  fairbucket: ({ capacity = 10, refillPerSecond = 1 } = {}) => {
    const keyedLimiter = new KeyedLimiter({ capacity, refillPerSecond, maxKeys: Infinity });
    return (key) => keyedLimiter.tryAcquire(key, 1);
  },
  'speed of light': ({ capacity = 10, refillPerSecond = 1 } = {}) => {
    const baseline = new MinimalKeyed(capacity, refillPerSecond);
    return (key) => baseline.tryAcquire(key, 1);
  },
  'GCRA, one number per key': () => {
    const baseline = new MinimalGcra(10, 1);
    return (key) => baseline.tryAcquire(key, 1);
  },
  'rate-limiter-flexible Memory (async)': () => {
    const peer = new RateLimiterMemory({ points: 10, duration: 10 });
    return (key) => peer.consume(key, 1).then(noop, noop);
  },
  'bottleneck Group (one limiter per key)': () => {
    const group = new Bottleneck.Group({ reservoir: 10, reservoirIncreaseAmount: 1, reservoirIncreaseInterval: 1000, reservoirIncreaseMaximum: 10 });
    return (key) => group.key(key);
  },
};

/** Scenario 4: `await acquire()` when tokens are there. Each returns an async function. */
export const awaited = {
  fairbucket: () => {
    const bucket = new TokenBucket({ capacity: 1e12, refillPerSecond: 1e9 });
    return () => bucket.acquire();
  },
  'speed of light': () => {
    const bucket = new MinimalBucket(1e12, 1e9);
    return async () => {
      if (!bucket.tryAcquire(1)) throw new Error('empty');
    };
  },
  'limiter removeTokens': () => {
    const bucket = new limiter.TokenBucket({ bucketSize: 1e12, tokensPerInterval: 1e9, interval: 'second' });
    return () => bucket.removeTokens(1);
  },
  'p-throttle': () => {
    const throttled = pThrottle({ limit: 1e9, interval: 1000 })(noop);
    return () => throttled();
  },
  'bottleneck schedule': () => {
    const peer = new Bottleneck({ maxConcurrent: null, minTime: 0 });
    return () => peer.schedule(() => Promise.resolve());
  },
};

/**
 * Scenario 5: callers waiting on one bucket at 1,000 per second, capacity 1. Each returns
 * a function that starts one caller and returns a promise resolved when it is let through.
 */
export const waiting = {
  fairbucket: () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1000 });
    return () => bucket.acquire();
  },
  'minimal reservation waiter': () => {
    const waiter = new MinimalWaiter(1000);
    return () => waiter.acquire();
  },
  'limiter removeTokens': () => {
    const bucket = new limiter.TokenBucket({ bucketSize: 1, tokensPerInterval: 1000, interval: 'second' });
    return () => bucket.removeTokens(1);
  },
  bottleneck: () => {
    const peer = new Bottleneck({ maxConcurrent: null, minTime: 1 });
    return () => peer.schedule(() => Promise.resolve());
  },
  'p-throttle': () => {
    const throttled = pThrottle({ limit: 1, interval: 1 })(noop);
    return () => throttled();
  },
};

/**
 * The least a token bucket with fairbucket's semantics can do in Redis, scenario 8's
 * yardstick: TIME, GET, SET PX on one key, and the level and the instant stored exactly
 * (%.17g, and TIME's own strings: rounding either would make refills drift), but no
 * reservations, refunds, reports, expiry to the millisecond, clock safety nor settings.
 */
export const MINIMAL_REDIS_SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local time = redis.call('TIME')
local tokens = capacity
local state = redis.call('GET', KEYS[1])
if state then
  local stored, seconds, micros = string.match(state, '(%S+) (%S+) (%S+)')
  tokens = stored + ((time[1] - seconds) * 1000000 + (time[2] - micros)) * rate / 1000000
  if tokens > capacity then tokens = capacity end
end
if tokens < cost then return 0 end
tokens = tokens - cost
redis.call('SET', KEYS[1], string.format('%.17g', tokens) .. ' ' .. time[1] .. ' ' .. time[2], 'PX', math.ceil((capacity - tokens) * 1000 / rate) + 1)
return 1
`;

/**
 * Scenario 8: one decision against Redis through the given ioredis client, on a large
 * limit so that every decision is a grant. Each returns a function resolving to a boolean.
 * The two yardsticks are plain `evalsha` calls: the minimal script above (Redis time), and
 * fairbucket's own script (client time: what the limiter adds to one call).
 */
export const redis = {
  fairbucket: async (client) => {
    const { RedisKeyedLimiter } = await import('../dist/redis.js');
    const limiter = new RedisKeyedLimiter({ redis: client, prefix: 'bench:fairbucket:', capacity: 1e9, refillPerSecond: 1e6 });
    return (key) => limiter.tryAcquire(key);
  },
  'minimal script (TIME, GET, SET PX), raw evalsha': async (client) => {
    const sha = await client.script('LOAD', MINIMAL_REDIS_SCRIPT);
    return (key) => client.evalsha(sha, 1, `bench:minimal:${key}`, '1000000000', '1000000', '1').then((granted) => granted === 1);
  },
  "fairbucket's script, raw evalsha": async (client) => {
    // The EVALSHA a limiter sends (its first call also loads the script), then sent by hand.
    const { RedisKeyedLimiter } = await import('../dist/redis.js');
    let sent;
    const spy = { call: (...args) => ((sent ??= args), client.call(...args)) };
    await new RedisKeyedLimiter({ redis: spy, prefix: 'bench:raw:', capacity: 1e9, refillPerSecond: 1e6 }).tryAcquire('warm-up');
    const [, sha, , , ...argv] = sent;
    return (key) => client.evalsha(sha, 1, `bench:raw:${key}`, ...argv).then((reply) => reply[0] > 0);
  },
  'rate-limiter-flexible RateLimiterRedis': async (client) => {
    const { RateLimiterRedis } = require('rate-limiter-flexible');
    const limiter = new RateLimiterRedis({ storeClient: client, keyPrefix: 'bench:rlf', points: 1e9, duration: 1_000 });
    return (key) =>
      limiter.consume(key).then(
        () => true,
        (refusal) => {
          if (refusal instanceof Error) throw refusal;
          return false;
        },
      );
  },
};
