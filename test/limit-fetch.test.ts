import { describe, expect, expectTypeOf, it } from 'vitest';
import { KeyedLimiter, RateLimitError, TokenBucket } from '../src/index.js';
import { limitFetch } from '../src/outbound.js';
import { fakeClock } from './support/fake-clock.js';

/** What the stub server received: when (fake ms), where, and the body it read. */
interface Received {
  readonly atMs: number;
  readonly url: string;
  readonly body: string;
}

/**
 * A fetch on fake time: it reads each request as fetch would (a `Request` built from the
 * arguments, its body read, so a used body fails as it does in fetch) and answers at once.
 */
function stubFetch(now: () => number, answer: (index: number, url: string) => { status?: number; retryAfter?: string; body?: string }) {
  const received: Received[] = [];
  const fetchFn = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const index = received.push({ atMs: now(), url: request.url, body: await request.text() }) - 1;
    const { status = 200, retryAfter, body = `answer ${index}` } = answer(index, request.url);
    return new Response(body, { status, headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter } });
  };
  return { fetchFn, received };
}

/** Sends one request on fake time and returns its response once the clock has run `runMs`. */
async function settleAfter<T>(fake: { tickAsync(ms: number): Promise<number> }, promise: Promise<T>, runMs = 3_600_000): Promise<T> {
  await fake.tickAsync(runMs);
  return promise;
}

describe('limitFetch', () => {
  describe('construction', () => {
    const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1 });
    const keyed = new KeyedLimiter({ capacity: 1, refillPerSecond: 1 });

    it('says at once that a keyed limiter needs `key` (it used to fail at the first request)', () => {
      expect(() => limitFetch(fetch, keyed)).toThrow(new TypeError('Expected `key` to be a function (the `key` option is required with a keyed limiter), got `undefined` (undefined)'));
      expect(() => limitFetch(fetch, [[keyed, 1]] as never)).toThrow(new TypeError('Expected `limits[0]` to be [keyedLimiter, key, cost] for a keyed limiter, got `[object Object],1` (object)'));
    });

    it.each([
      ['a fetch that is not a function', () => limitFetch('fetch' as never, bucket), 'Expected `fetch` to be a function, got `"fetch"` (string)'],
      ['a limiter without pauseFor', () => limitFetch(fetch, {} as never), 'Expected `limiter` to be a limiter with acquire() and pauseFor(), or a list of budgets, got `[object Object]` (object)'],
      ['settle with a limiter without charge', () => limitFetch(fetch, { acquire: async () => {}, pauseFor() {} }, { settle: () => 1 }), 'Expected `limiter` to be a limiter with acquire(), pauseFor(), refund() and charge(), or a list of budgets'],
      ['an empty list of budgets', () => limitFetch(fetch, []), 'Expected `limits` to be a list of one budget or more, got `` (object)'],
      ['a malformed budget', () => limitFetch(fetch, [[bucket, 1], [bucket, 'two']] as never), 'Expected `limits[1][1]` to be a number or a function, got `"two"` (string)'],
      ['a key that is neither a string nor a function', () => limitFetch(fetch, [[keyed, 5, 1]] as never), 'Expected `limits[0][1]` to be a string or a function, got `5` (number)'],
      ['cost beside a list of budgets', () => limitFetch(fetch, [[bucket, 1]], { cost: 2 }), 'Expected `cost` to be left out with a list of budgets (each has its own cost), got `2` (number)'],
      ['key beside a list of budgets', () => limitFetch(fetch, [[bucket, 1]], { key: () => 'a' }), 'Expected `key` to be left out with a list of budgets (each has its own key)'],
      ['a cost that is a string', () => limitFetch(fetch, bucket, { cost: '1' as never }), 'Expected `cost` to be a number or a function, got `"1"` (string)'],
      ['a key that is a string', () => limitFetch(fetch, keyed, { key: 'host' as never }), 'Expected `key` to be a function, got `"host"` (string)'],
      ['negative retries', () => limitFetch(fetch, bucket, { retries: -1 }), 'Expected `retries` to be a whole number >= 0, got `-1` (number)'],
      ['a negative maxWaitMs', () => limitFetch(fetch, bucket, { maxWaitMs: -1 }), 'Expected `maxWaitMs` to be a finite number >= 0, got `-1` (number)'],
      ['an infinite maxRetryAfterMs', () => limitFetch(fetch, bucket, { maxRetryAfterMs: Infinity }), 'Expected `maxRetryAfterMs` to be a finite number >= 0, got `Infinity` (number)'],
      ['a settle that is not a function', () => limitFetch(fetch, bucket, { settle: 1 as never }), 'Expected `settle` to be a function, got `1` (number)'],
      ['a random that is not a function', () => limitFetch(fetch, bucket, { random: 0.5 as never }), 'Expected `random` to be a function, got `0.5` (number)'],
      ['a nowEpochMs that is not a function', () => limitFetch(fetch, bucket, { nowEpochMs: 0 as never }), 'Expected `nowEpochMs` to be a function, got `0` (number)'],
      ['options that are not an object', () => limitFetch(fetch, bucket, null as never), 'Expected `options` to be an object, got `null` (object)'],
      ['an unknown option', () => limitFetch(fetch, bucket, { retrys: 2 } as never), 'Unknown option `retrys` (did you mean `retries`?)'],
      ['an option named in another unit', () => limitFetch(fetch, bucket, { maxRetryAfter: 2 } as never), 'Unknown option `maxRetryAfter` (did you mean `maxRetryAfterMs`?)'],
    ])('refuses %s', (_case, make, message) => {
      expect(make).toThrow(message);
    });

    it('is typed: a list of budgets takes per-request keys and costs, and a keyed limiter needs its key', () => {
      const limited = limitFetch(fetch, [[bucket, 1], [keyed, (input) => String(input), (_input, init) => String(init?.body ?? '').length]]);
      expectTypeOf(limited).returns.toEqualTypeOf<Promise<Response>>();
      // @ts-expect-error a budget of a keyed limiter has a key
      expect(() => limitFetch(fetch, [[keyed, 1]])).toThrow('`limits[0]`');
    });
  });

  describe('Retry-After', () => {
    it('pauses the limiter for Retry-After and sends the request again after it, not before', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 5, clock });
      const server = stubFetch(() => fake.now, (index) => (index === 0 ? { status: 429, retryAfter: '2' } : {}));
      const limited = limitFetch(server.fetchFn, bucket, { retries: 1 });
      const response = await settleAfter(fake, limited('https://api.test/a'));
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('answer 1');
      expect(server.received.map(({ atMs }) => atMs)).toEqual([0, 2_000]);
    });

    it('reads an HTTP-date against nowEpochMs', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 5, clock });
      const server = stubFetch(() => fake.now, (index) => (index === 0 ? { status: 503, retryAfter: 'Wed, 21 Oct 2015 07:28:30 GMT' } : {}));
      const limited = limitFetch(server.fetchFn, bucket, { retries: 1, nowEpochMs: () => Date.parse('2015-10-21T07:28:00Z') });
      expect((await settleAfter(fake, limited('https://api.test/'))).status).toBe(200);
      expect(server.received.map(({ atMs }) => atMs)).toEqual([0, 30_000]);
    });

    it.each([
      ['an hour', '3600'],
      ['a date 10 years ahead', 'Mon, 21 Oct 2025 07:28:00 GMT'],
      ['1e20 seconds', '99999999999999999999'],
    ])('caps a Retry-After of %s at maxRetryAfterMs (15 minutes): pauses that long and returns the response', async (_case, retryAfter) => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 5, clock });
      const server = stubFetch(() => fake.now, () => ({ status: 429, retryAfter }));
      const limited = limitFetch(server.fetchFn, bucket, { retries: 3, nowEpochMs: () => Date.parse('2015-10-21T07:28:00Z') });
      const response = await limited('https://api.test/');
      expect([response.status, server.received.length]).toEqual([429, 1]);
      expect(bucket.retryAfter()).toBe(900_000);
      const next = limited('https://api.test/', { signal: AbortSignal.abort('not waiting') });
      await expect(next).rejects.toBe('not waiting');
      await fake.tickAsync(900_000);
      expect(bucket.retryAfter()).toBe(0);
    });

    it('caps at a maxRetryAfterMs of its own, and retries a Retry-After exactly at the cap', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 5, clock });
      const server = stubFetch(() => fake.now, (index) => (index === 0 ? { status: 429, retryAfter: '60' } : index === 1 ? { status: 429, retryAfter: '61' } : {}));
      const limited = limitFetch(server.fetchFn, bucket, { retries: 5, maxRetryAfterMs: 60_000 });
      expect((await settleAfter(fake, limited('https://api.test/'))).status).toBe(429);
      expect(server.received.map(({ atMs }) => atMs)).toEqual([0, 60_000]);
      expect(bucket.retryAfter()).toBe(0);
    });

    // Each of these was read as "retry now": with retries: 5 the server got 6 hits in under 160 ms.
    it.each(['5, 10', '-5', '+5', '1.', '.5', '1e3', '', 'soon', undefined])(
      'never retries at once after an unreadable Retry-After (%j): full-jitter backoff from 1 s',
      async (retryAfter) => {
        const { clock, fake } = fakeClock();
        const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 10, clock });
        const server = stubFetch(() => fake.now, (index) => (index < 5 ? { status: 429, ...(retryAfter === undefined ? {} : { retryAfter }) } : {}));
        const limited = limitFetch(server.fetchFn, bucket, { retries: 5, random: () => 0.5 });
        expect((await settleAfter(fake, limited('https://api.test/'))).status).toBe(200);
        // Waits of 1.5, 2.5, 4.5, 8.5 and 16.5 s: halfway between 1 s and 2, 4, 8, 16 and 32 s.
        expect(server.received.map(({ atMs }) => atMs)).toEqual([0, 1_500, 4_000, 8_500, 17_000, 33_500]);
      },
    );

    it('draws the backoff from `random`, between 1 s and the doubling ceiling, capped at maxRetryAfterMs', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 10, clock });
      const server = stubFetch(() => fake.now, () => ({ status: 503 }));
      const draws = [0, 0.999, 0.999];
      const limited = limitFetch(server.fetchFn, bucket, { retries: 3, maxRetryAfterMs: 3_000, random: () => draws.shift() ?? 0 });
      expect((await settleAfter(fake, limited('https://api.test/'))).status).toBe(503);
      expect(server.received.map(({ atMs }) => atMs)).toEqual([0, 1_000, 3_998, 6_996]);
    });

    it('returns a refusal whose pause is longer than maxWaitMs instead of retrying into a RateLimitError', async () => {
      const { clock } = fakeClock();
      const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 5, clock });
      const server = stubFetch(() => 0, () => ({ status: 429, retryAfter: '60' }));
      const response = await limitFetch(server.fetchFn, bucket, { retries: 3, maxWaitMs: 30_000 })('https://api.test/');
      expect([response.status, server.received.length, bucket.retryAfter()]).toEqual([429, 1, 60_000]);
    });

    it('pauses after a refusal without Retry-After even with no retries left, and returns it', async () => {
      const { clock } = fakeClock();
      const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 10, clock });
      const server = stubFetch(() => 0, () => ({ status: 429 }));
      const response = await limitFetch(server.fetchFn, bucket, { random: () => 0.25 })('https://api.test/');
      expect([response.status, await response.text()]).toEqual([429, 'answer 0']);
      expect(bucket.retryAfter()).toBe(1_250);
    });

    it('returns other answers as they are, without pausing', async () => {
      const { clock } = fakeClock();
      const bucket = new TokenBucket({ capacity: 10, refillPerSecond: 10, clock });
      const server = stubFetch(() => 0, (index) => ({ status: [500, 404, 200][index]!, retryAfter: '5' }));
      const limited = limitFetch(server.fetchFn, bucket, { retries: 3 });
      expect([(await limited('https://api.test/')).status, (await limited('https://api.test/')).status, (await limited('https://api.test/')).status]).toEqual([500, 404, 200]);
      expect([server.received.length, bucket.retryAfter(), bucket.available]).toEqual([3, 0, 7]);
    });
  });

  describe('budgets', () => {
    it('takes every budget, with keys and costs computed from each request', async () => {
      const { clock } = fakeClock();
      const requests = new TokenBucket({ capacity: 60, refillPerSecond: 1, clock });
      const tokens = new TokenBucket({ capacity: 90_000, refillPerSecond: 1_500, clock });
      const perHost = new KeyedLimiter({ capacity: 5, refillPerSecond: 1, clock });
      const server = stubFetch(() => 0, () => ({}));
      const limited = limitFetch(server.fetchFn, [
        [requests, 1],
        [tokens, (_input, init) => JSON.parse(String(init?.body)).max_tokens],
        [perHost, (input) => new URL(String(input)).host, 2],
      ]);
      await limited('https://a.test/v1', { method: 'POST', body: JSON.stringify({ max_tokens: 1_000 }) });
      await limited('https://b.test/v1', { method: 'POST', body: JSON.stringify({ max_tokens: 500 }) });
      expect([requests.available, tokens.available, perHost.available('a.test'), perHost.available('b.test')]).toEqual([58, 88_500, 3, 3]);
    });

    it('accepts a key given as a string', async () => {
      const { clock } = fakeClock();
      const perModel = new KeyedLimiter({ capacity: 5, refillPerSecond: 1, clock });
      await limitFetch(stubFetch(() => 0, () => ({})).fetchFn, [[perModel, 'gpt', 2]])('https://a.test/');
      expect(perModel.available('gpt')).toBe(3);
    });

    it('pauses every budget of a request on 429', async () => {
      const { clock } = fakeClock();
      const requests = new TokenBucket({ capacity: 60, refillPerSecond: 1, clock });
      const tokens = new TokenBucket({ capacity: 90_000, refillPerSecond: 1_500, clock });
      const perHost = new KeyedLimiter({ capacity: 5, refillPerSecond: 1, clock });
      const server = stubFetch(() => 0, () => ({ status: 429, retryAfter: '7' }));
      await limitFetch(server.fetchFn, [[requests, 1], [tokens, 100], [perHost, (input) => new URL(String(input)).host, 1]])('https://a.test/');
      expect([requests.retryAfter(), tokens.retryAfter(), perHost.retryAfter('a.test')]).toEqual([7_000, 7_000, 7_000]);
    });

    it('rejects with RateLimitError when the budgets cannot be had within maxWaitMs', async () => {
      const { clock } = fakeClock();
      const requests = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
      const tokens = new TokenBucket({ capacity: 100, refillPerSecond: 100, clock });
      const server = stubFetch(() => 0, () => ({}));
      await expect(limitFetch(server.fetchFn, [[requests, 1], [tokens, 1]], { maxWaitMs: 500 })('https://a.test/')).rejects.toBeInstanceOf(RateLimitError);
      await expect(limitFetch(server.fetchFn, requests, { maxWaitMs: 500 })('https://a.test/')).rejects.toBeInstanceOf(RateLimitError);
      expect(server.received).toEqual([]);
    });

    it('gives up waiting when the request is aborted, through init.signal or the Request signal', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 1, initialTokens: 0, clock });
      const server = stubFetch(() => fake.now, () => ({}));
      const limited = limitFetch(server.fetchFn, bucket);
      const controller = new AbortController();
      const viaInit = limited('https://a.test/', { signal: controller.signal });
      const viaRequest = limited(new Request('https://a.test/', { signal: controller.signal }));
      controller.abort('cancelled');
      await expect(viaInit).rejects.toBe('cancelled');
      await expect(viaRequest).rejects.toBe('cancelled');
      await fake.tickAsync(5_000);
      expect(server.received).toEqual([]);
    });

    // The per-host case: one host's Retry-After: 3600 paused every host. This
    // passes once KeyedLimiter.pauseFor(ms, key) pauses one key (the engine's part of #14).
    it('pauses a keyed budget on the request key only: host B is served while host A is paused', async () => {
      const { clock, fake } = fakeClock();
      const perHost = new KeyedLimiter({ capacity: 5, refillPerSecond: 5, clock });
      const server = stubFetch(() => fake.now, (_index, url) => (url.startsWith('https://a.test') ? { status: 429, retryAfter: '3600' } : {}));
      const limited = limitFetch(server.fetchFn, perHost, { key: (input) => new URL(String(input)).host, maxWaitMs: 1_000 });
      expect((await limited('https://a.test/')).status).toBe(429);
      expect((await limited('https://b.test/')).status).toBe(200);
      await expect(limited('https://a.test/')).rejects.toBeInstanceOf(RateLimitError);
      expect([perHost.retryAfter('a.test'), perHost.retryAfter('b.test')]).toEqual([900_000, 0]);
    });
  });

  describe('settle', () => {
    function llmServer(now: () => number, usedTokens: number[]) {
      return stubFetch(now, (index) => ({ body: JSON.stringify({ usage: { total_tokens: usedTokens[index] } }) }));
    }

    it('refunds or charges each budget the difference between its estimate and the actual cost', async () => {
      const { clock } = fakeClock();
      const requests = new TokenBucket({ capacity: 60, refillPerSecond: 1, clock });
      const tokens = new TokenBucket({ capacity: 10_000, refillPerSecond: 100, clock });
      const server = llmServer(() => 0, [400, 1_300]);
      const limited = limitFetch(server.fetchFn, [[requests, 1], [tokens, 1_000]], {
        settle: async (response) => [undefined, ((await response.json()) as { usage: { total_tokens: number } }).usage.total_tokens],
      });
      const first = await limited('https://a.test/');
      expect(tokens.available).toBe(9_600);
      // The caller's body is untouched: settle read a clone.
      expect(await first.json()).toEqual({ usage: { total_tokens: 400 } });
      await limited('https://a.test/');
      expect([requests.available, tokens.available]).toEqual([58, 8_300]);
    });

    it('settles a single limiter with a number, a keyed one on the request key, and keeps the estimate on undefined', async () => {
      const { clock } = fakeClock();
      const tokens = new TokenBucket({ capacity: 10_000, refillPerSecond: 100, clock });
      const perHost = new KeyedLimiter({ capacity: 10_000, refillPerSecond: 100, clock });
      const server = llmServer(() => 0, [400, 9_000, 2_000, 500]);
      const read = async (response: Response) => ((await response.json()) as { usage: { total_tokens: number } }).usage.total_tokens;
      const perHostFetch = limitFetch(server.fetchFn, perHost, { key: (input) => new URL(String(input)).host, cost: 1_000, settle: read });
      await limitFetch(server.fetchFn, tokens, { cost: 1_000, settle: read })('https://a.test/');
      await perHostFetch('https://b.test/');
      expect([tokens.available, perHost.available('b.test'), perHost.available('a.test')]).toEqual([9_600, 1_000, 10_000]);
      await limitFetch(server.fetchFn, tokens, { cost: 1_000, settle: () => undefined })('https://a.test/');
      await perHostFetch('https://b.test/');
      expect([tokens.available, perHost.available('b.test'), perHost.available('a.test')]).toEqual([8_600, 500, 10_000]);
    });

    it('settles every response, a refused one too, before retrying it', async () => {
      const { clock, fake } = fakeClock();
      const tokens = new TokenBucket({ capacity: 10_000, refillPerSecond: 1, clock });
      const server = stubFetch(() => fake.now, (index) => (index === 0 ? { status: 429, retryAfter: '1' } : {}));
      const statuses: number[] = [];
      const limited = limitFetch(server.fetchFn, tokens, { cost: 1_000, retries: 1, settle: (response) => (statuses.push(response.status), response.ok ? 700 : 0) });
      expect((await settleAfter(fake, limited('https://a.test/'), 1_000)).status).toBe(200);
      expect(statuses).toEqual([429, 200]);
      expect(tokens.available).toBe(10_000 - 700);
    });

    it.each([
      ['a number for two budgets', 5, 'Expected `settle()` to be an array of 2 costs or undefined, got `5` (number)'],
      ['an array of the wrong length', [1], 'Expected `settle()` to be an array of 2 costs or undefined, got `1` (object)'],
      ['a negative cost', [1, -1], 'Expected `settle()[1]` to be a finite number >= 0, got `-1` (number)'],
      ['a cost that is not a number', ['1', 2], 'Expected `settle()[0]` to be a finite number >= 0, got `"1"` (string)'],
    ])('rejects the call when settle returns %s', async (_case, costs, message) => {
      const { clock } = fakeClock();
      const requests = new TokenBucket({ capacity: 60, refillPerSecond: 1, clock });
      const tokens = new TokenBucket({ capacity: 10_000, refillPerSecond: 100, clock });
      const limited = limitFetch(stubFetch(() => 0, () => ({})).fetchFn, [[requests, 1], [tokens, 1_000]], { settle: () => costs as never });
      await expect(limited('https://a.test/')).rejects.toThrow(message);
    });

    it('rejects with what settle throws, and names a single cost in its message', async () => {
      const { clock } = fakeClock();
      const tokens = new TokenBucket({ capacity: 10_000, refillPerSecond: 100, clock });
      const thrown = new Error('no usage');
      const server = stubFetch(() => 0, () => ({}));
      await expect(limitFetch(server.fetchFn, tokens, { settle: () => Promise.reject(thrown) })('https://a.test/')).rejects.toBe(thrown);
      await expect(limitFetch(server.fetchFn, tokens, { settle: () => 'x' as never })('https://a.test/')).rejects.toThrow('Expected `settle()` to be a cost, an array of 1 costs or undefined');
      // A settle that only looks at the headers, or takes a reader without reading, leaves nothing behind.
      const headersOnly = await limitFetch(server.fetchFn, tokens, { settle: (response) => (response.body?.getReader(), 1) })('https://a.test/');
      expect(await headersOnly.text()).toBe('answer 2');
    });
  });

  describe('bodies', () => {
    const bodies: [string, () => BodyInit, string][] = [
      ['a string', () => 'hello', 'hello'],
      ['an ArrayBuffer', () => new TextEncoder().encode('bytes').buffer, 'bytes'],
      ['a typed array', () => new TextEncoder().encode('typed'), 'typed'],
      ['a DataView', () => new DataView(new TextEncoder().encode('view').buffer), 'view'],
      ['a Blob', () => new Blob(['blob']), 'blob'],
      ['URLSearchParams', () => new URLSearchParams({ q: 'x y' }), 'q=x+y'],
    ];

    it.each(bodies)('sends %s again, whole, after a 429', async (_case, body, text) => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 5, clock });
      const server = stubFetch(() => fake.now, (index) => (index === 0 ? { status: 429, retryAfter: '1' } : {}));
      const limited = limitFetch(server.fetchFn, bucket, { retries: 1 });
      expect((await settleAfter(fake, limited('https://a.test/', { method: 'POST', body: body() }), 1_000)).status).toBe(200);
      expect(server.received.map((received) => received.body)).toEqual([text, text]);
      // The same body in a Request object: it is cloned before being sent (it used to throw "already been used").
      const request = new Request('https://a.test/', { method: 'POST', body: body() });
      expect((await settleAfter(fake, limitFetch(server.fetchFn, bucket, { retries: 1 })(request), 1_000)).status).toBe(200);
      expect(server.received.map((received) => received.body)).toEqual([text, text, text]);
    });

    it('sends FormData again, whole, after a 503', async () => {
      const { clock, fake } = fakeClock();
      const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 5, clock });
      const server = stubFetch(() => fake.now, (index) => (index === 0 ? { status: 503, retryAfter: '1' } : {}));
      const form = new FormData();
      form.set('field', 'value');
      expect((await settleAfter(fake, limitFetch(server.fetchFn, bucket, { retries: 1 })('https://a.test/', { method: 'POST', body: form }), 1_000)).status).toBe(200);
      expect(server.received).toHaveLength(2);
      expect(server.received.every((received) => received.body.includes('name="field"\r\n\r\nvalue'))).toBe(true);
    });

    it('returns the 429 of a stream body instead of sending it again, pausing all the same', async () => {
      const { clock } = fakeClock();
      const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 5, clock });
      const server = stubFetch(() => 0, () => ({ status: 429, retryAfter: '1' }));
      const stream = new Blob(['streamed']).stream();
      const response = await limitFetch(server.fetchFn, bucket, { retries: 3 })('https://a.test/', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
      expect([response.status, server.received.map((received) => received.body)]).toEqual([429, ['streamed']]);
      expect(bucket.retryAfter()).toBe(1_000);
    });
  });
});
