import { describe, expect, it } from 'vitest';
import { fastifyRateLimit, fetchRateLimit, rateLimit } from '../src/http.js';
import { type Decision, KeyedLimiter } from '../src/index.js';
import { manualClock } from './support/fake-clock.js';
import { get, headersOf, serveExpress, serveFastify, serveFetch, serveNode, statuses } from './support/http-servers.js';

// What users of the peers reach for: the decision on the request, refunds by response
// status, an async onLimited; and withHeaders that writes in place, copying only
// immutable headers (before, it always copied, which pushed Hono onto its slow path).
const limiterOf = (capacity: number) => new KeyedLimiter({ capacity, refillPerSecond: 1, clock: manualClock() });
type WithDecision = { rateLimit?: Decision; quota?: Decision };

describe('the decision on the request', () => {
  it('Express: req.rateLimit holds the Decision, under the name requestProperty gives', async () => {
    const url = await serveExpress((app) => {
      app.get('/default', rateLimit({ limiter: limiterOf(5) }), (req, res) => void res.json((req as WithDecision).rateLimit));
      app.get('/named', rateLimit({ limiter: limiterOf(5), requestProperty: 'quota' }), (req, res) => void res.json(Object.keys(req).includes('rateLimit') ? 'both' : (req as WithDecision).quota));
      app.get('/none', rateLimit({ limiter: limiterOf(5), requestProperty: false }), (req, res) => void res.json('rateLimit' in req));
    });
    expect(JSON.parse((await get(`${url}/default`)).body)).toEqual({ granted: true, remaining: 4, retryAfterMs: 0, resetAfterMs: 1000, limit: 5 });
    expect(JSON.parse((await get(`${url}/named`)).body)).toMatchObject({ granted: true, remaining: 4 });
    expect(JSON.parse((await get(`${url}/none`)).body)).toBe(false);
  });

  it('Fastify: request.rateLimit holds the Decision', async () => {
    const url = await serveFastify((app) => {
      app.addHook('onRequest', fastifyRateLimit({ limiter: limiterOf(3) }));
      app.get('/', async (request) => (request as WithDecision).rateLimit);
    });
    expect(JSON.parse((await get(url)).body)).toMatchObject({ granted: true, remaining: 2, limit: 3 });
  });

  it('fetch: decisionFor and headersFor return what was decided for a request', async () => {
    const guard = fetchRateLimit({ limiter: limiterOf(1), key: () => 'k', skip: (request) => request.url.endsWith('/health') });
    const first = new Request('http://localhost/');
    await guard(first);
    expect(guard.decisionFor(first)).toMatchObject({ granted: true, remaining: 0 });
    expect(guard.headersFor(first)).toEqual({ 'RateLimit-Policy': '"default";q=1;w=1', RateLimit: '"default";r=0;t=1' });
    const second = new Request('http://localhost/');
    await guard(second);
    expect(guard.decisionFor(second)).toMatchObject({ granted: false, retryAfterMs: 1000 });
    expect(guard.headersFor(second)).toMatchObject({ 'Retry-After': '1' });
    const health = new Request('http://localhost/health');
    await guard(health);
    expect([guard.decisionFor(health), guard.headersFor(health)]).toEqual([undefined, undefined]);
  });
});

describe('skipSuccessfulRequests and skipFailedRequests', () => {
  const statusOf = (url: string) => Number(new URL(url, 'http://localhost').searchParams.get('status') ?? 200);

  it('Express: refunds the cost of a response below 400 when it finishes', async () => {
    const limiter = limiterOf(1);
    const url = await serveExpress((app) => app.get('/', rateLimit({ limiter, skipSuccessfulRequests: true }), (req, res) => void res.status(statusOf(req.url)).send('done')));
    expect(await statuses(`${url}/`, 3)).toEqual([200, 200, 200]);
    expect(await statuses(`${url}/?status=404`, 2)).toEqual([404, 429]);
  });

  it('node:http: refunds the cost of a response of 400 or more, and of one the client abandoned', async () => {
    const limiter = limiterOf(1);
    const guard = rateLimit({ limiter, skipFailedRequests: true });
    const url = await serveNode((req, res) => {
      void guard(req, res, () => {
        if (req.url === '/hang') return; // never answered: the client gives up
        res.statusCode = statusOf(req.url!);
        res.end();
      });
    });
    expect(await statuses(`${url}/?status=500`, 3)).toEqual([500, 500, 500]);
    await expect(fetch(`${url}/hang`, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    await expect.poll(() => limiter.available('127.0.0.1')).toBe(1);
    expect(await statuses(`${url}/`, 2)).toEqual([200, 429]);
  });

  it('Fastify: refunds when the response finishes, by its status', async () => {
    const limiter = limiterOf(1);
    const url = await serveFastify((app) => {
      app.addHook('onRequest', fastifyRateLimit({ limiter, skipFailedRequests: true }));
      app.get('/', async (request, reply) => reply.code(statusOf(request.url)).send('done'));
    });
    expect(await statuses(`${url}/?status=503`, 2)).toEqual([503, 503]);
    expect(await statuses(`${url}/`, 2)).toEqual([200, 429]);
  });

  it('fetch: refunds in withHeaders, by the response status, once', async () => {
    const limiter = limiterOf(1);
    const guard = fetchRateLimit({ limiter, key: () => 'k', skipSuccessfulRequests: true });
    const url = await serveFetch(async (request) => (await guard(request)) ?? guard.withHeaders(request, new Response('ok', { status: statusOf(request.url) })));
    expect(await statuses(`${url}/`, 3)).toEqual([200, 200, 200]);
    const request = new Request('http://localhost/');
    await guard(request);
    guard.withHeaders(request, new Response('ok'));
    guard.withHeaders(request, new Response('ok'));
    expect(limiter.available('k')).toBe(1);
    expect(await statuses(`${url}/?status=400`, 2)).toEqual([400, 429]);
  });

  it('needs a limiter with refund, checked at construction', () => {
    const limiter = { capacity: 1, refillPerSecond: 1, take: (key: string) => limiterOf(1).take(key) };
    expect(() => rateLimit({ limiter, skipFailedRequests: true })).toThrow('a limiter with refund(key, amount)');
    expect(() => rateLimit({ limiter })).not.toThrow();
  });
});

describe('onLimited', () => {
  const slowDown = async (_req: unknown, decision: Decision) => {
    await new Promise((resolve) => setImmediate(resolve));
    return { status: 429, body: `wait ${decision.retryAfterMs} ms`, headers: { 'Content-Type': 'text/plain' } };
  };

  it('may return a promise, on Express, Fastify and fetch', async () => {
    const express = await serveExpress((app) => app.get('/', rateLimit({ limiter: limiterOf(1), onLimited: slowDown }), (_req, res) => void res.send('ok')));
    const fastify = await serveFastify((app) => {
      app.addHook('onRequest', fastifyRateLimit({ limiter: limiterOf(1), onLimited: slowDown }));
      app.get('/', async () => 'ok');
    });
    const guard = fetchRateLimit({ limiter: limiterOf(1), key: () => 'k', onLimited: slowDown });
    const fetchServer = await serveFetch(async (request) => (await guard(request)) ?? new Response('ok'));
    for (const url of [express, fastify, fetchServer]) {
      await get(url);
      expect(await get(url)).toMatchObject({ status: 429, body: 'wait 1000 ms', headers: { 'retry-after': '1' } });
    }
  });
});

describe('withHeaders', () => {
  it('sets the fields in place on a response whose headers are mutable', async () => {
    const guard = fetchRateLimit({ limiter: limiterOf(2), key: () => 'k' });
    const request = new Request('http://localhost/');
    await guard(request);
    const response = new Response('ok');
    expect(guard.withHeaders(request, response)).toBe(response);
    expect(response.headers.get('ratelimit')).toBe('"default";r=1;t=1');
  });

  it('copies a response whose headers are immutable', async () => {
    const guard = fetchRateLimit({ limiter: limiterOf(2), key: () => 'k' });
    const request = new Request('http://localhost/');
    await guard(request);
    const redirect = Response.redirect('http://localhost/elsewhere', 302);
    const copy = guard.withHeaders(request, redirect);
    expect(copy).not.toBe(redirect);
    expect(headersOf(copy)).toMatchObject({ location: 'http://localhost/elsewhere', ratelimit: '"default";r=1;t=1' });
    expect(copy.status).toBe(302);
    const url = await serveNode((_req, res) => void res.end('upstream'));
    const upstream = await fetch(url);
    expect(await guard.withHeaders(request, upstream).text()).toBe('upstream');
  });
});
