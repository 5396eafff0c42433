import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { fastifyRateLimit, fetchRateLimit, rateLimit } from '../src/http.js';
import { KeyedLimiter } from '../src/index.js';
import { manualClock } from './support/fake-clock.js';
import { type Host, get, serveExpress, serveFastify, serveFetch, serveHono, serveNode, statuses } from './support/http-servers.js';

// The default key on real servers: IPv6 clients grouped by their /56 (a host holds a
// whole /64), IPv4-mapped addresses and ::1 keyed as IPv4, from the socket or a trusted
// X-Forwarded-For. The reproduction: 200 addresses of one /64 were all granted.
const oneClient = () => new KeyedLimiter({ capacity: 1, refillPerSecond: 0.001, clock: manualClock() });
const forwarded = (index: number) => ({ 'x-forwarded-for': `2001:db8:1:2::${index.toString(16)}` });

type Serve = (limiter: KeyedLimiter, options: { trustProxy?: boolean; ipv6Subnet?: number | false }, host?: Host) => Promise<string>;
const servers: [string, Serve][] = [
  ['Express', (limiter, options, host) => serveExpress((app) => app.get('/', rateLimit({ limiter, ...options }), (_req, res) => void res.send('ok')), host)],
  [
    'node:http',
    (limiter, options, host) => {
      const guard = rateLimit({ limiter, ...options });
      return serveNode((req, res) => void guard(req, res, () => res.end('ok')), host);
    },
  ],
  [
    'Fastify',
    (limiter, options, host) =>
      serveFastify((app) => {
        app.get('/', { onRequest: fastifyRateLimit({ limiter, ...options }) }, async () => 'ok');
      }, host),
  ],
  [
    'a fetch server passing { ip }',
    (limiter, options, host) => {
      const guard = fetchRateLimit({ limiter, ...options });
      return serveFetch(async (request, ip) => (await guard(request, { ip })) ?? guard.withHeaders(request, new Response('ok')), host);
    },
  ],
  [
    'Hono on @hono/node-server',
    (limiter, options, host) => {
      const guard = fetchRateLimit({ limiter, ...options });
      const app = new Hono();
      app.use(async (c, next) => {
        const refused = await guard(c.req.raw, { ip: getConnInfo(c).remote.address });
        if (refused) return refused;
        await next();
        guard.withHeaders(c.req.raw, c.res);
      });
      app.get('/', (c) => c.text('ok'));
      return serveHono(app, host);
    },
  ],
];

describe('the default key of an HTTP guard', () => {
  it('grants 1 of 200 requests forwarded from one /64 (2001:db8:1:2::0 to ::c7) against a capacity of 1', async () => {
    const limiter = oneClient();
    const url = await servers[0]![1](limiter, { trustProxy: true });
    const seen = await statuses(url, 200, forwarded);
    expect(seen.filter((status) => status === 200)).toHaveLength(1);
    expect(limiter.size).toBe(1);
    expect(limiter.available('2001:db8:1::/56')).toBe(0);
  });

  describe.each(servers)('on %s', (_name, serve) => {
    it('keys forwarded IPv6 addresses within one /56 alike, and the next /56 apart', async () => {
      const limiter = oneClient();
      const url = await serve(limiter, { trustProxy: true });
      const within = ['2001:db8:1:2::1', '2001:db8:1:2::c7', '2001:db8:1:ff:ffff::1', '2001:db8:1::9'];
      expect(await statuses(url, 4, (index) => ({ 'x-forwarded-for': within[index]! }))).toEqual([200, 429, 429, 429]);
      expect((await get(url, { 'x-forwarded-for': '2001:db8:1:100::1' })).status).toBe(200);
      expect(limiter.size).toBe(2);
    });

    it('keys an IPv6 client on ::1 and the IPv4 client of a dual-stack server alike', async () => {
      const limiter = oneClient();
      const url = await serve(limiter, {}, '::');
      const port = new URL(url).port;
      expect((await get(`http://[::1]:${port}/`)).status).toBe(200);
      expect((await get(`http://127.0.0.1:${port}/`)).status).toBe(429);
      expect(limiter.available('127.0.0.1')).toBe(0);
      expect(limiter.size).toBe(1);
    });
  });

  it('keys IPv6 clients by the ipv6Subnet given, or each address alone with false', async () => {
    const by64 = oneClient();
    const url64 = await servers[0]![1](by64, { trustProxy: true, ipv6Subnet: 64 });
    expect(await statuses(url64, 3, (index) => ({ 'x-forwarded-for': ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:3::1'][index]! }))).toEqual([200, 429, 200]);
    const alone = oneClient();
    const urlAlone = await servers[0]![1](alone, { trustProxy: true, ipv6Subnet: false });
    expect(await statuses(urlAlone, 3, (index) => ({ 'x-forwarded-for': ['2001:DB8:1:2::1', '2001:db8:1:2:0:0:0:1', '2001:db8:1:2::2'][index]! }))).toEqual([200, 429, 200]);
    expect(alone.available('2001:db8:1:2::1')).toBe(0);
  });

  it('keys an IPv4-mapped forwarded address as the IPv4 address', async () => {
    const limiter = oneClient();
    const url = await servers[0]![1](limiter, { trustProxy: true });
    expect(await statuses(url, 2, (index) => ({ 'x-forwarded-for': ['::ffff:192.0.2.7', '192.0.2.7'][index]! }))).toEqual([200, 429]);
    expect(limiter.available('192.0.2.7')).toBe(0);
  });

  it('keys the ip given to a fetch guard by its /56', async () => {
    const limiter = oneClient();
    const guard = fetchRateLimit({ limiter });
    const request = () => new Request('http://localhost/');
    expect(await guard(request(), { ip: '2001:db8:1:2::5' })).toBeUndefined();
    expect((await guard(request(), { ip: '2001:db8:1:3::9' }))?.status).toBe(429);
    expect(limiter.available('2001:db8:1::/56')).toBe(0);
  });

  it.each([[16], [65], [true], ['56']])('rejects ipv6Subnet %j at construction', (ipv6Subnet) => {
    expect(() => rateLimit({ limiter: oneClient(), ipv6Subnet: ipv6Subnet as never })).toThrow('`ipv6Subnet`');
  });
});
