import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { fastifyRateLimit, fetchRateLimit, rateLimit } from '../src/http.js';
import { KeyedLimiter } from '../src/index.js';
import { manualClock } from './support/fake-clock.js';
import { get, serveExpress, serveFastify, serveFetch, serveHono } from './support/http-servers.js';

// The README's tier pattern: 3 a minute and 100 an hour on one route. Each guard appends
// its own member to the draft's list fields; before, the second overwrote the first and
// the 200 showed only "hourly";r=99.
function tiers() {
  const clock = manualClock();
  return {
    minute: { limiter: new KeyedLimiter({ capacity: 3, refillPerSecond: 3 / 60, clock }), policy: 'minute', key: () => 'alice' },
    hour: { limiter: new KeyedLimiter({ capacity: 100, refillPerSecond: 100 / 3600, clock }), policy: 'hourly', key: () => 'alice' },
  };
}

const bothGranted = {
  'ratelimit-policy': '"minute";q=3;w=60, "hourly";q=100;w=3600',
  ratelimit: '"minute";r=2;t=20, "hourly";r=99;t=36',
};

async function expectBothPolicies(url: string): Promise<void> {
  expect(await get(url)).toMatchObject({ status: 200, headers: bothGranted });
  await get(url);
  await get(url);
  // The minute guard refuses the fourth; the hour guard, after it, is not consulted.
  expect(await get(url)).toMatchObject({ status: 429, headers: { 'ratelimit-policy': '"minute";q=3;w=60', ratelimit: '"minute";r=0;t=60', 'retry-after': '20' } });
}

describe('two guards on one route', () => {
  it('Express: the response shows both policies, in the order the guards ran', async () => {
    const { minute, hour } = tiers();
    const url = await serveExpress((app) => app.get('/', rateLimit(minute), rateLimit(hour), (_req, res) => void res.send('ok')));
    await expectBothPolicies(url);
  });

  it('Fastify: two onRequest hooks show both policies', async () => {
    const { minute, hour } = tiers();
    const url = await serveFastify((app) => {
      app.addHook('onRequest', fastifyRateLimit(minute));
      app.addHook('onRequest', fastifyRateLimit(hour));
      app.get('/', async () => 'ok');
    });
    await expectBothPolicies(url);
  });

  it('fetch: each guard adds its member with withHeaders, to a success or to the other guard’s refusal', async () => {
    const { minute, hour } = tiers();
    const perMinute = fetchRateLimit(minute);
    const perHour = fetchRateLimit(hour);
    const url = await serveFetch(async (request) => {
      const response = (await perMinute(request)) ?? (await perHour(request)) ?? new Response('ok');
      return perHour.withHeaders(request, perMinute.withHeaders(request, response));
    });
    expect(await get(url)).toMatchObject({ status: 200, headers: bothGranted });
    await get(url);
    await get(url);
    const refused = await get(url);
    expect(refused).toMatchObject({ status: 429, headers: { ratelimit: '"minute";r=0;t=60', 'retry-after': '20' } });
  });

  it('fetch: a refusal of the second guard carries the first guard’s member too', async () => {
    const clock = manualClock();
    const wide = fetchRateLimit({ limiter: new KeyedLimiter({ capacity: 10, refillPerSecond: 1, clock }), policy: 'wide', key: () => 'k' });
    const narrow = fetchRateLimit({ limiter: new KeyedLimiter({ capacity: 1, refillPerSecond: 0.5, clock }), policy: 'narrow', key: () => 'k' });
    const url = await serveFetch(async (request) => {
      const response = (await wide(request)) ?? (await narrow(request)) ?? new Response('ok');
      return narrow.withHeaders(request, wide.withHeaders(request, response));
    });
    expect((await get(url)).headers.ratelimit).toBe('"wide";r=9;t=1, "narrow";r=0;t=2');
    const refused = await get(url);
    expect(refused).toMatchObject({ status: 429, headers: { ratelimit: '"narrow";r=0;t=2, "wide";r=8;t=2', 'retry-after': '2' } });
  });

  it('Hono: guards that set the fields through c.header with append show both', async () => {
    const { minute, hour } = tiers();
    const app = new Hono();
    for (const guard of [fetchRateLimit(minute), fetchRateLimit(hour)]) {
      app.use(async (c, next) => {
        const refused = await guard(c.req.raw);
        if (refused) return refused;
        for (const [name, value] of Object.entries(guard.headersFor(c.req.raw) ?? {})) c.header(name, value, { append: true });
        await next();
      });
    }
    app.get('/', (c) => c.text('ok'));
    const url = await serveHono(app);
    expect(await get(url)).toMatchObject({ status: 200, body: 'ok', headers: bothGranted });
  });

  it('Retry-After is the longest wait: a guard keeps a longer one already set and replaces a shorter one', async () => {
    const clock = manualClock();
    const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 0.05, clock });
    const url = await serveExpress((app) => {
      app.use((req, res, next) => {
        res.setHeader('Retry-After', String(req.headers['x-earlier-wait']));
        next();
      });
      app.get('/', rateLimit({ limiter, key: () => 'k' }), (_req, res) => void res.send('ok'));
    });
    await get(url, { 'x-earlier-wait': '0' });
    expect((await get(url, { 'x-earlier-wait': '120' })).headers['retry-after']).toBe('120');
    expect((await get(url, { 'x-earlier-wait': '5' })).headers['retry-after']).toBe('20');
  });
});
