// The one smoke test every runtime runs against the built package: real behaviour on the
// runtime's own clock and timers, not just that the import works.
// `lib` is the core entry; `http`, `outbound` and `redis` the other entries where the runtime loads them.

function assert(condition, message) {
  if (!condition) throw new Error(`smoke check failed: ${message}`);
}

export async function runChecks(lib, http, outbound, redis) {
  const { TokenBucket, KeyedLimiter, RateLimitError } = lib;

  // A burst, then a denial.
  const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 20 });
  const burst = [bucket.tryAcquire(), bucket.tryAcquire(), bucket.tryAcquire()];
  assert(burst.every(Boolean), `a burst of 3 is granted, got ${burst}`);
  assert(bucket.tryAcquire() === false, 'the 4th is denied');
  const waitMs = bucket.retryAfter();
  assert(waitMs > 0 && waitMs <= 50, `retryAfter is within the refill of one token (50 ms), got ${waitMs}`);

  // An awaited acquire that waits the right time: one token at 20/s is 50 ms away.
  const empty = new TokenBucket({ capacity: 1, refillPerSecond: 20, initialTokens: 0 });
  const startMs = performance.now();
  await empty.acquire();
  const waitedMs = performance.now() - startMs;
  assert(waitedMs >= 45 && waitedMs < 2_000, `acquire waited about 50 ms, got ${waitedMs.toFixed(1)} ms`);

  // Refusals are typed errors.
  const refused = await empty.acquire(1, { maxWaitMs: 0 }).catch((error) => error);
  assert(refused instanceof RateLimitError && refused.retryAfterMs > 0, 'maxWaitMs 0 refuses with RateLimitError');
  let rangeError;
  try {
    new TokenBucket({ capacity: 0, refillPerSecond: 1 });
  } catch (error) {
    rangeError = error;
  }
  assert(rangeError instanceof RangeError && /capacity/.test(rangeError.message), 'a bad capacity is a RangeError naming it');

  // Keys, including awkward ones.
  const keyed = new KeyedLimiter({ capacity: 1, refillPerSecond: 1 });
  assert(keyed.tryAcquire('__proto__') && !keyed.tryAcquire('__proto__') && keyed.tryAcquire('🦀'), 'keys are independent, __proto__ included');
  const decision = keyed.take('fresh');
  assert(decision.granted && decision.remaining < 0.01 && decision.limit === 1, 'take reports the decision');

  if (http) {
    const guard = http.fetchRateLimit({ limiter: new KeyedLimiter({ capacity: 1, refillPerSecond: 1 }), key: () => 'k' });
    const request = new Request('http://localhost/');
    assert((await guard(request)) === undefined, 'the fetch guard lets the first request through');
    const limited = await guard(new Request('http://localhost/'));
    assert(limited?.status === 429 && limited.headers.get('retry-after') === '1', 'the second is a 429 with Retry-After: 1');
  }
  if (outbound) {
    const double = outbound.throttle((n) => n * 2, new TokenBucket({ capacity: 2, refillPerSecond: 1 }));
    assert((await double(21)) === 42, 'throttle passes the result through');
  }
  if (redis) {
    // No Redis here: a client that fails, and the 'deny' policy answering for it.
    const failing = { sendCommand: async () => Promise.reject(new Error('no Redis in this runtime')) };
    const shared = new redis.RedisKeyedLimiter({ redis: failing, capacity: 1, refillPerSecond: 1, onRedisError: 'deny' });
    assert((await shared.tryAcquire('k')) === false && shared.stats().failures === 1, 'the Redis limiter loads and answers by its policy');
  }
  return 'ok';
}
