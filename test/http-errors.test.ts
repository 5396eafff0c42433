import FakeTimers from '@sinonjs/fake-timers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LimiterTimeoutError, fastifyRateLimit, fetchRateLimit, rateLimit } from '../src/http.js';
import { type Decision, KeyedLimiter, TokenBucket } from '../src/index.js';
import { manualClock } from './support/fake-clock.js';
import { get, serveExpress, serveFastify, serveFetch, serveNode } from './support/http-servers.js';

// No silent failure and no hang: before, a TokenBucket as limiter or a throwing key gave
// a 503 on every request with nothing logged (`catch {}`), a take that never settled hung
// the request, and policy 'emoji😀' made node:http throw ERR_INVALID_CHAR unhandled.
const keyed = () => new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
const request = () => new Request('http://localhost/');

afterEach(() => {
  vi.restoreAllMocks();
});

function silenceConsoleError() {
  return vi.spyOn(console, 'error').mockImplementation(() => undefined);
}

describe('HTTP guard failures', () => {
  it('refuses a TokenBucket at construction, saying to use a KeyedLimiter with a global key', () => {
    const limiter = new TokenBucket({ capacity: 5, refillPerSecond: 1 });
    for (const guard of [rateLimit, fastifyRateLimit, fetchRateLimit]) {
      expect(() => guard({ limiter } as never)).toThrow(TypeError);
      expect(() => guard({ limiter } as never)).toThrow("use new KeyedLimiter(...) with key: () => 'global'");
    }
  });

  it('reports the first error of a throwing key with console.error, once, and answers 503', async () => {
    const consoleError = silenceConsoleError();
    const url = await serveExpress((app) => app.get('/', rateLimit({ limiter: keyed(), key: (req) => (req as unknown as { user: { id: string } }).user.id }), (_req, res) => void res.send('ok')));
    const first = await get(url);
    expect(first.status).toBe(503);
    expect(JSON.parse(first.body)).toEqual({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'The rate limiter failed; try again later.' });
    expect((await get(url)).status).toBe(503);
    expect(consoleError).toHaveBeenCalledTimes(1);
    expect(consoleError.mock.calls[0]![0]).toContain('policy "default" failed; answering 503');
    expect(consoleError.mock.calls[0]![1]).toBeInstanceOf(TypeError);
  });

  it('lets onError hear every error and let the request through with allow', async () => {
    const consoleError = silenceConsoleError();
    const heard: unknown[] = [];
    const url = await serveFastify((app) => {
      app.addHook(
        'onRequest',
        fastifyRateLimit({
          limiter: keyed(),
          key: () => {
            throw new Error('no user');
          },
          onError: async (error) => {
            heard.push(error);
            return heard.length === 1 ? 'allow' : undefined;
          },
          errorStatus: 500,
        }),
      );
      app.get('/', async () => 'ok');
    });
    expect(await get(url)).toMatchObject({ status: 200, body: 'ok' });
    expect((await get(url)).headers).not.toHaveProperty('ratelimit');
    expect(heard.map((error) => (error as Error).message)).toEqual(['no user', 'no user']);
    expect(consoleError).not.toHaveBeenCalled();
  });

  it.each([
    ['skip', { skip: () => Promise.reject(new Error('skip failed')) }],
    ['cost', { cost: () => Number.NaN }],
    ['onLimited', { onLimited: () => Promise.reject(new Error('onLimited failed')) }],
    ['the limiter', { limiter: { capacity: 1, refillPerSecond: 1, take: (): Decision => ({}) as never } }],
  ])('hands an error of %s to onError', async (_name, options) => {
    const heard: unknown[] = [];
    const guard = fetchRateLimit({ limiter: keyed(), key: () => 'k', onError: (error) => void heard.push(error), ...options });
    await guard(request()); // onLimited runs on the second request only
    expect((await guard(request()))?.status).toBe(503);
    expect(heard.at(-1)).toBeInstanceOf(Error);
  });

  it('answers errorStatus and logs when onError itself throws', async () => {
    const consoleError = silenceConsoleError();
    const guard = fetchRateLimit({
      limiter: keyed(),
      key: () => {
        throw new Error('key');
      },
      onError: () => {
        throw new Error('onError');
      },
      errorStatus: 500,
    });
    expect((await guard(request()))?.status).toBe(500);
    expect(consoleError.mock.calls[0]![1]).toMatchObject({ message: 'onError' });
    const rejecting = fetchRateLimit({ limiter: keyed(), key: () => Promise.reject(new Error('key')), onError: () => Promise.reject(new Error('async onError')) });
    expect((await rejecting(request()))?.status).toBe(503);
  });

  describe('a take that never settles', () => {
    const never = { capacity: 1, refillPerSecond: 1, take: () => new Promise<Decision>(() => undefined) };

    it('is answered errorStatus after timeoutMs on a real server, onError hearing a LimiterTimeoutError', async () => {
      const heard: unknown[] = [];
      const guard = rateLimit({ limiter: never, timeoutMs: 100, onError: (error) => void heard.push(error) });
      const url = await serveNode((req, res) => void guard(req, res, () => res.end('ok')));
      expect((await get(url)).status).toBe(503);
      expect(heard[0]).toBeInstanceOf(LimiterTimeoutError);
      expect(heard[0]).toMatchObject({ name: 'LimiterTimeoutError', timeoutMs: 100, message: 'The rate limiter did not decide within 100 ms' });
    });

    it('is bounded by 5,000 ms by default, and the timer is cleared when take settles first', async () => {
      const consoleError = silenceConsoleError();
      const fake = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        let answered: Response | undefined;
        void fetchRateLimit({ limiter: never, key: () => 'k' })(request()).then((response) => (answered = response));
        await fake.tickAsync(4_999);
        expect(answered).toBeUndefined();
        await fake.tickAsync(1);
        expect(answered?.status).toBe(503);
        expect(consoleError.mock.calls[0]![1]).toBeInstanceOf(LimiterTimeoutError);
        const slow = { capacity: 1, refillPerSecond: 1, take: () => keyed().take('k') };
        const prompt = fetchRateLimit({ limiter: { ...slow, take: async () => slow.take() }, key: () => 'k' });
        expect(await prompt(request())).toBeUndefined();
        expect(fake.countTimers()).toBe(0);
        const unbounded = fetchRateLimit({ limiter: never, key: () => 'k', timeoutMs: Infinity });
        void unbounded(request());
        expect(fake.countTimers()).toBe(0);
      } finally {
        fake.uninstall();
      }
    });
  });

  describe('policy', () => {
    it.each([['emoji😀'], [123], [''], ['tab\there'], ['line\nbreak'], ['é'], [null], [{}]])('rejects %j at construction with a TypeError', (policy) => {
      for (const guard of [rateLimit, fastifyRateLimit, fetchRateLimit]) {
        expect(() => guard({ limiter: keyed(), key: () => 'k', policy: policy as never })).toThrow(TypeError);
        expect(() => guard({ limiter: keyed(), key: () => 'k', policy: policy as never })).toThrow('Expected `policy` to be a non-empty string of printable ASCII');
      }
    });

    it('serialises quotes and backslashes as an sf-string on a bare node:http server', async () => {
      const guard = rateLimit({ limiter: keyed(), policy: 'say "hi" \\o/' });
      const url = await serveNode((req, res) => void guard(req, res, () => res.end('ok')));
      expect((await get(url)).headers).toMatchObject({ 'ratelimit-policy': '"say \\"hi\\" \\\\o/";q=1;w=1', ratelimit: '"say \\"hi\\" \\\\o/";r=0;t=1' });
    });
  });

  it('answers errorStatus when writing the response throws, without an unhandled rejection or a hung request', async () => {
    const consoleError = silenceConsoleError();
    const guard = rateLimit({ limiter: keyed(), onLimited: () => ({ status: 429, headers: { 'X-Bad': 'emoji😀' } }) });
    const url = await serveNode((req, res) => void guard(req, res, () => res.end('ok')));
    await get(url);
    expect((await get(url)).status).toBe(503);
    expect(consoleError).toHaveBeenCalledTimes(1);
    // A reply that refuses a header, as a stricter framework would.
    const reply = { status: 0, sent: false, header: () => { throw new TypeError('bad header'); }, code: (status: number) => void (reply.status = status), send: () => void (reply.sent = true) };
    const hook = fastifyRateLimit({ limiter: keyed(), key: () => 'k', onError: () => undefined });
    expect(await hook({ headers: {} }, reply)).toBe(reply);
    expect([reply.status, reply.sent]).toEqual([503, true]);
  });

  it('reports a refund that fails', async () => {
    const heard: unknown[] = [];
    const limiter = { capacity: 5, refillPerSecond: 1, take: (key: string) => keyed().take(key), refund: () => Promise.reject(new Error('refund failed')) };
    const guard = fetchRateLimit({ limiter, key: () => 'k', skipSuccessfulRequests: true, onError: (error) => void heard.push(error) });
    const url = await serveFetch(async (req) => (await guard(req)) ?? guard.withHeaders(req, new Response('ok')));
    await get(url);
    await vi.waitFor(() => expect(heard).toEqual([new Error('refund failed')]));
    const throwing = fetchRateLimit({ limiter: { ...limiter, refund: () => { throw new Error('sync'); } }, key: () => 'k', skipSuccessfulRequests: true });
    const consoleError = silenceConsoleError();
    const req = request();
    await throwing(req);
    throwing.withHeaders(req, new Response('ok'));
    expect(consoleError.mock.calls[0]![1]).toMatchObject({ message: 'sync' });
    const deaf = fetchRateLimit({ limiter: { ...limiter, refund: () => { throw new Error('sync'); } }, key: () => 'k', skipSuccessfulRequests: true, onError: () => { throw new Error('deaf'); } });
    const other = request();
    await deaf(other);
    deaf.withHeaders(other, new Response('ok'));
    expect(consoleError.mock.calls[1]![1]).toMatchObject({ message: 'deaf' });
  });
});
