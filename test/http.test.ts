import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fastifyRateLimit, fetchRateLimit, rateLimit } from '../src/http.js';
import { type Decision, KeyedLimiter } from '../src/index.js';
import { manualClock } from './support/fake-clock.js';

// Real servers on loopback and the global fetch as the client; the limiters run on a
// hand-set clock so that every header value is exact.
const servers: { close(): unknown }[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

async function listen(server: Server): Promise<string> {
  servers.push({ close: () => new Promise((resolve) => server.close(resolve)) });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function headersOf(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: headersOf(response), body: await response.text() };
}

const draftHeaders = (q: number, w: number, r: number, t: number) => ({ 'ratelimit-policy': `"default";q=${q};w=${w}`, ratelimit: `"default";r=${r};t=${t}` });

describe('HTTP guards', () => {
  describe('Express middleware', () => {
    it('sends the draft headers on every response and a problem+json 429 with Retry-After', async () => {
      const clock = manualClock();
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 0.5, clock });
      const app = express();
      app.get('/things', rateLimit({ limiter }), (_req, res) => void res.send('ok'));
      const url = await listen(createServer(app));
      const first = await get(`${url}/things`);
      expect(first).toMatchObject({ status: 200, body: 'ok', headers: draftHeaders(2, 4, 1, 2) });
      const second = await get(`${url}/things`);
      expect(second).toMatchObject({ status: 200, headers: draftHeaders(2, 4, 0, 4) });
      clock.ms = 500; // 0.25 tokens: the next one comes in 1.5 s
      const refused = await get(`${url}/things`);
      expect(refused.status).toBe(429);
      expect(refused.headers).toMatchObject({ ...draftHeaders(2, 4, 0, 4), 'retry-after': '2', 'content-type': 'application/problem+json' });
      expect(JSON.parse(refused.body)).toEqual({ type: 'about:blank', title: 'Too Many Requests', status: 429, detail: 'Rate limit exceeded: retry after 2 s.' });
    });

    it('keys by the socket address and ignores X-Forwarded-For unless trustProxy says so', async () => {
      const clock = manualClock();
      const untrusting = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock });
      const trusting = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock });
      const app = express();
      app.get('/a', rateLimit({ limiter: untrusting }), (_req, res) => void res.send('a'));
      app.get('/b', rateLimit({ limiter: trusting, trustProxy: true }), (_req, res) => void res.send('b'));
      const url = await listen(createServer(app));
      expect((await get(`${url}/a`, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(200);
      expect((await get(`${url}/a`, { 'x-forwarded-for': '203.0.113.2' })).status).toBe(429);
      expect((await get(`${url}/b`, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(200);
      expect((await get(`${url}/b`, { 'x-forwarded-for': '203.0.113.2, 10.0.0.1' })).status).toBe(200);
      expect((await get(`${url}/b`, { 'x-forwarded-for': '203.0.113.1' })).status).toBe(429);
      expect(trusting.size).toBe(2);
    });

    it('trusts a given number of proxy hops from the right', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      const app = express();
      app.get('/', rateLimit({ limiter, trustProxy: 1 }), (_req, res) => void res.send('ok'));
      const url = await listen(createServer(app));
      // One trusted proxy: the client is the last address it appended; a spoofed first entry is ignored.
      expect((await get(url, { 'x-forwarded-for': 'spoofed, 198.51.100.7' })).status).toBe(200);
      expect((await get(url, { 'x-forwarded-for': 'other, 198.51.100.7' })).status).toBe(429);
      expect(limiter.available('198.51.100.7')).toBe(0);
    });

    it('keeps tiers and keys independent', async () => {
      const clock = manualClock();
      const tiers = {
        default: new KeyedLimiter({ capacity: 10, refillPerSecond: 5, clock }),
        search: new KeyedLimiter({ capacity: 30, refillPerSecond: 10, clock }),
        login: new KeyedLimiter({ capacity: 5, refillPerSecond: 1, clock }),
      };
      const byToken = (req: IncomingMessage) => String(req.headers.authorization ?? 'anonymous');
      const app = express();
      app.post('/auth/login', rateLimit({ limiter: tiers.login, key: byToken, policy: 'auth_login' }), (_req, res) => void res.send('in'));
      app.get('/search', rateLimit({ limiter: tiers.search, key: byToken, policy: 'search' }), (_req, res) => void res.send('found'));
      const url = await listen(createServer(app));
      const statuses: number[] = [];
      for (let index = 0; index < 6; index++) statuses.push((await fetch(`${url}/auth/login`, { method: 'POST', headers: { authorization: 'alice' } })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      expect((await fetch(`${url}/auth/login`, { method: 'POST', headers: { authorization: 'bob' } })).status).toBe(200);
      const search = await get(`${url}/search`, { authorization: 'alice' });
      expect(search).toMatchObject({ status: 200, headers: { 'ratelimit-policy': '"search";q=30;w=3', ratelimit: '"search";r=29;t=1' } });
    });

    it('charges cost(req), skips skip(req), sends legacy headers when asked', async () => {
      const limiter = new KeyedLimiter({ capacity: 10, refillPerSecond: 1, clock: manualClock() });
      const app = express();
      app.use(rateLimit({ limiter, cost: (req) => (req.url === '/export' ? 4 : 1), skip: (req) => req.url === '/health', headers: 'legacy' }));
      app.get('/export', (_req, res) => void res.send('csv'));
      app.get('/health', (_req, res) => void res.send('up'));
      const url = await listen(createServer(app));
      const exported = await get(`${url}/export`);
      expect(exported.headers).toMatchObject({ 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '6', 'x-ratelimit-reset': '4' });
      expect(exported.headers).not.toHaveProperty('ratelimit');
      const health = await get(`${url}/health`);
      expect(health.headers).not.toHaveProperty('x-ratelimit-remaining');
      expect(limiter.available('127.0.0.1')).toBe(6);
    });

    it('answers 503 when the limiter fails, without an unhandled rejection', async () => {
      const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      const failing = { capacity: 1, refillPerSecond: 1, take: (): Promise<Decision> => Promise.reject(new Error('redis down')) };
      const app = express();
      app.get('/', rateLimit({ limiter: failing }), (_req, res) => void res.send('ok'));
      const url = await listen(createServer(app));
      const response = await get(url);
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(response.body)).toMatchObject({ status: 503, title: 'Service Unavailable' });
      expect(consoleError.mock.calls[0]![1]).toEqual(new Error('redis down'));
      consoleError.mockRestore();
    });

    it('lets onLimited build the refusal', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      const app = express();
      app.get('/', rateLimit({ limiter, onLimited: (_req, decision) => ({ status: 429, body: `slow down ${decision.retryAfterMs}`, headers: { 'Content-Type': 'text/plain' } }) }), (_req, res) => void res.send('ok'));
      const url = await listen(createServer(app));
      await get(url);
      const refused = await get(url);
      expect(refused).toMatchObject({ status: 429, body: 'slow down 1000', headers: { 'retry-after': '1', 'content-type': 'text/plain' } });
    });
  });

  describe('bare node:http server', () => {
    it('uses the middleware with a next() that runs the handler', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      const guard = rateLimit<IncomingMessage>({ limiter });
      const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        void guard(req, res, () => res.end('handled'));
      });
      const url = await listen(server);
      expect(await get(url)).toMatchObject({ status: 200, body: 'handled', headers: draftHeaders(1, 1, 0, 1) });
      expect((await get(url)).status).toBe(429);
    });
  });

  describe('Fastify hook', () => {
    it('limits with an onRequest hook and sends the headers', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 2, clock: manualClock() });
      const app = Fastify();
      app.addHook('onRequest', fastifyRateLimit({ limiter }));
      app.get('/', async () => 'ok');
      await app.listen({ port: 0, host: '127.0.0.1' });
      servers.push(app);
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      expect(await get(url)).toMatchObject({ status: 200, body: 'ok', headers: draftHeaders(1, 1, 0, 1) });
      const refused = await get(url);
      expect(refused).toMatchObject({ status: 429, headers: { 'retry-after': '1' } });
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/); // Fastify appends a charset
      expect(JSON.parse(refused.body)).toMatchObject({ status: 429 });
    });
  });

  describe('fetch-style guard', () => {
    /** Serves a fetch handler (Request => Response) on node:http, as Hono's or Bun's adapters do. */
    async function serveFetch(handler: (request: Request) => Promise<Response>): Promise<string> {
      const server = createServer(async (req, res) => {
        const request = new Request(`http://127.0.0.1${req.url}`, { method: req.method ?? 'GET', headers: req.headers as Record<string, string> });
        const response = await handler(request);
        res.writeHead(response.status, headersOf(response));
        res.end(Buffer.from(await response.arrayBuffer()));
      });
      return listen(server);
    }

    it('returns the 429 Response, or undefined and adds the headers to the success', async () => {
      const limiter = new KeyedLimiter({ capacity: 2, refillPerSecond: 1, clock: manualClock() });
      const guard = fetchRateLimit({ limiter, key: (request) => request.headers.get('authorization') ?? 'anonymous' });
      const url = await serveFetch(async (request) => (await guard(request)) ?? guard.withHeaders(request, Response.json({ ok: true })));
      expect(await get(url, { authorization: 'k1' })).toMatchObject({ status: 200, body: '{"ok":true}', headers: draftHeaders(2, 2, 1, 1) });
      expect((await get(url, { authorization: 'k1' })).status).toBe(200);
      const refused = await get(url, { authorization: 'k1' });
      expect(refused).toMatchObject({ status: 429, headers: { ...draftHeaders(2, 2, 0, 2), 'retry-after': '1' } });
      expect((await get(url, { authorization: 'k2' })).status).toBe(200);
    });

    it('keys by the client address given as guard(request, { ip }), and rejects with a TypeError when it has none', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      const guard = fetchRateLimit({ limiter });
      expect(await guard(new Request('http://127.0.0.1/'), { ip: '192.0.2.1' })).toBeUndefined();
      expect((await guard(new Request('http://127.0.0.1/'), { ip: '192.0.2.1' }))?.status).toBe(429);
      expect(await guard(new Request('http://127.0.0.1/'), { ip: '192.0.2.2' })).toBeUndefined();
      await expect(guard(new Request('http://127.0.0.1/'))).rejects.toThrow(TypeError);
      await expect(guard(new Request('http://127.0.0.1/'), {})).rejects.toThrow('pass it as guard(request, { ip })');
      await expect(guard(new Request('http://127.0.0.1/'), 'ip' as never)).rejects.toThrow('`connection`');
      expect(limiter.size).toBe(2); // never a shared 'unknown' bucket
    });
  });

  describe('header values', () => {
    const request = (headers: Record<string, string> = {}) => new Request('http://127.0.0.1/', { headers });

    it("sends both sets with headers: 'both', and no headers with 'none'", async () => {
      const limiter = new KeyedLimiter({ capacity: 5, refillPerSecond: 2, clock: manualClock() });
      const both = fetchRateLimit({ limiter, key: () => 'k', headers: 'both', policy: 'burst' });
      const req = request();
      expect(await both(req)).toBeUndefined();
      expect(headersOf(both.withHeaders(req, new Response('ok')))).toMatchObject({
        'ratelimit-policy': '"burst";q=5;w=3',
        ratelimit: '"burst";r=4;t=1',
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '4',
        'x-ratelimit-reset': '1',
      });
      const none = fetchRateLimit({ limiter, key: () => 'other', headers: 'none' });
      const plain = request();
      await none(plain);
      expect(headersOf(none.withHeaders(plain, new Response('ok')))).toEqual({ 'content-type': 'text/plain;charset=UTF-8' });
    });

    it('leaves out the window and the reset of a fixed quota, and Retry-After of a request that can never pass', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 0, clock: manualClock() });
      const guard = fetchRateLimit({ limiter, key: () => 'k', headers: 'both' });
      await guard(request());
      const refused = (await guard(request()))!;
      expect(refused.status).toBe(429);
      expect(headersOf(refused)).toMatchObject({ 'ratelimit-policy': '"default";q=1', ratelimit: '"default";r=0', 'x-ratelimit-remaining': '0' });
      expect(refused.headers.has('retry-after')).toBe(false);
      expect(refused.headers.has('x-ratelimit-reset')).toBe(false);
      expect(JSON.parse(await refused.text())).toMatchObject({ detail: 'Rate limit exceeded: this request cannot be granted.' });
    });

    it('skips requests, and returns a response untouched when nothing was decided for it', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      const guard = fetchRateLimit({ limiter, key: () => 'k', skip: (req) => req.url.endsWith('/health') });
      const health = new Request('http://127.0.0.1/health');
      expect(await guard(health)).toBeUndefined();
      const response = new Response('up');
      expect(guard.withHeaders(health, response)).toBe(response);
      expect(limiter.size).toBe(0);
    });

    it('keys a fetch Request by X-Forwarded-For when trusted, hop by hop', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      const first = fetchRateLimit({ limiter, trustProxy: true });
      await first(request({ 'x-forwarded-for': '192.0.2.1, 10.0.0.1' }));
      const hops = fetchRateLimit({ limiter, trustProxy: 1 });
      await hops(request({ 'x-forwarded-for': '192.0.2.9, 198.51.100.1' }));
      await hops(request({ 'x-forwarded-for': '192.0.2.9' }));
      await expect(hops(request())).rejects.toThrow(TypeError);
      await expect(first(request())).rejects.toThrow(TypeError);
      expect([limiter.available('192.0.2.1'), limiter.available('198.51.100.1'), limiter.available('192.0.2.9')]).toEqual([0, 0, 0]);
      expect(limiter.size).toBe(3);
    });

    it('joins repeated X-Forwarded-For headers of a Node request', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      const guard = rateLimit({ limiter, trustProxy: true });
      const headers: string[] = [];
      const res = { statusCode: 200, setHeader: (name: string) => void headers.push(name), end: () => undefined };
      let passed = false;
      await guard({ headers: { 'x-forwarded-for': ['203.0.113.5', '10.0.0.2'] }, socket: { remoteAddress: '127.0.0.1' } }, res, () => (passed = true));
      expect(passed).toBe(true);
      expect(limiter.available('203.0.113.5')).toBe(0);
    });

    it('answers errorStatus for a Node request that shows no address at all, never a shared bucket', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      const heard: unknown[] = [];
      const res = { statusCode: 200, setHeader: () => undefined, end: () => undefined };
      let passed = false;
      await rateLimit({ limiter, onError: (error) => void heard.push(error) })({ headers: {} }, res, () => (passed = true));
      expect([res.statusCode, passed, limiter.size]).toEqual([503, false, 0]);
      expect(heard[0]).toBeInstanceOf(TypeError);
    });

    it('sends an onLimited response without extra headers in every framework', async () => {
      const onLimited = () => ({ status: 418 });
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      const guard = fetchRateLimit({ limiter, key: () => 'k', onLimited });
      await guard(request());
      expect((await guard(request()))?.status).toBe(418);
      const res = { statusCode: 200, setHeader: () => undefined, end: () => undefined };
      const middleware = rateLimit({ limiter, key: () => 'k', onLimited });
      await middleware({ headers: {} }, res, () => undefined);
      expect(res.statusCode).toBe(418);
      const reply = { status: 0, header: () => undefined, code: (status: number) => void (reply.status = status), send: () => undefined };
      await fastifyRateLimit({ limiter, key: () => 'k', onLimited })({ headers: {} }, reply);
      expect(reply.status).toBe(418);
    });

    it('uses the default 429 when onLimited returns nothing', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      const guard = fetchRateLimit({ limiter, key: () => 'k', onLimited: () => undefined });
      await guard(request());
      expect((await guard(request()))?.headers.get('content-type')).toBe('application/problem+json');
    });

    it('answers errorStatus when a key function throws', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      const guard = fetchRateLimit({
        limiter,
        key: () => {
          throw new Error('no key');
        },
        errorStatus: 500,
        onError: () => undefined,
      });
      const refused = (await guard(request()))!;
      expect(refused.status).toBe(500);
      expect(JSON.parse(await refused.text())).toMatchObject({ title: 'Rate Limiter Failed', status: 500 });
    });
  });

  describe('Fastify hook, skipped routes', () => {
    it('lets skipped requests through without headers', async () => {
      const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1, clock: manualClock() });
      const app = Fastify();
      app.addHook('onRequest', fastifyRateLimit<{ url: string }>({ limiter, skip: (request) => request.url === '/health' }));
      app.get('/health', async () => 'up');
      await app.listen({ port: 0, host: '127.0.0.1' });
      servers.push(app);
      const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/health`;
      for (let index = 0; index < 3; index++) expect(await get(url)).toMatchObject({ status: 200, body: 'up' });
      expect((await get(url)).headers).not.toHaveProperty('ratelimit');
    });
  });

  describe('options', () => {
    const limiter = new KeyedLimiter({ capacity: 1, refillPerSecond: 1 });
    it.each([
      [{ limiter: {} }, '`limiter`'],
      [{ limiter: { take: () => undefined } }, '`limiter` to be a keyed limiter with take(key, cost), capacity and refillPerSecond'],
      [{ limiter, headers: 'all' }, '`headers`'],
      [{ limiter, trustProxy: -1 }, '`trustProxy`'],
      [{ limiter, key: 'user' }, 'Expected `key` to be a function'],
      [{ limiter, errorStatus: 200 }, 'Expected `errorStatus` to be a whole number from 400 to 599, got `200`'],
      [{ limiter, timeoutMs: 0 }, 'Expected `timeoutMs` to be a number > 0'],
      [{ limiter, timeoutMs: Number.NaN }, '`timeoutMs`'],
      [{ limiter, requestProperty: '' }, '`requestProperty`'],
      [{ limiter, skipFailedRequests: 'yes' }, 'Expected `skipFailedRequests` to be a boolean'],
      [{ limiter, maxWait: 1 }, 'Unknown option `maxWait`'],
      [{ limiter, skipSuccessful: true }, 'Unknown option `skipSuccessful` (did you mean `skipSuccessfulRequests`?)'],
      [{ limiter, onErorr: () => undefined }, 'Unknown option `onErorr` (did you mean `onError`?)'],
      [null, '`options`'],
    ])('rejects bad options %o', (options, message) => {
      for (const guard of [rateLimit, fastifyRateLimit]) expect(() => guard(options as never)).toThrow(message);
    });

    it('rejects requestProperty on a fetch guard: a Request is not written to', () => {
      expect(() => fetchRateLimit({ limiter, requestProperty: 'rateLimit' } as never)).toThrow('Unknown option `requestProperty`');
    });
  });

  describe('on real time', () => {
    it('a client honouring Retry-After never gets a second 429, and the rate holds', async () => {
      const limiter = new KeyedLimiter({ capacity: 3, refillPerSecond: 2 });
      const app = express();
      app.get('/', rateLimit({ limiter }), (_req, res) => void res.send('ok'));
      const url = await listen(createServer(app));
      const startMs = performance.now();
      const statuses: number[] = [];
      let honoured = 0;
      while (honoured < 2) {
        const response = await get(url);
        statuses.push(response.status);
        if (response.status === 429) {
          expect(statuses.at(-2)).toBe(200); // never two 429s in a row
          await new Promise((resolve) => setTimeout(resolve, Number(response.headers['retry-after']) * 1000));
          honoured++;
        }
      }
      const granted = statuses.filter((status) => status === 200).length;
      const elapsedSeconds = (performance.now() - startMs) / 1000;
      expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 429]); // the burst, then a refusal
      expect(granted).toBeLessThanOrEqual(3 + 2 * elapsedSeconds);
    });
  });
});
