// One hello-world server of the HTTP benchmark, in its own process: a framework, a
// limiter (none, the framework's best-known peer, or fairbucket) and a path (every
// request allowed, or every request refused). Started by bench/http-run.mjs with an IPC
// channel: it sends { port } once listening, and answers { cpu } to 'start' and 'stop'
// with the process's CPU time (user + system, µs) spent between them.
// Usage: node bench/http-server.mjs <express|fastify|hono> <none|peer|fairbucket> <allowed|refused>
import { KeyedLimiter } from '../dist/index.js';
import { fastifyRateLimit, fetchRateLimit, rateLimit } from '../dist/http.js';

const [framework, contender, path] = process.argv.slice(2);
const allowed = path === 'allowed';
// Allowed: a quota no run can spend. Refused: one request a minute, spent by the warm-up.
const quota = allowed ? 1e9 : 1;
const WINDOW_MS = 60_000;
const limiter = () => new KeyedLimiter({ capacity: quota, refillPerSecond: quota / (WINDOW_MS / 1000) });

async function express() {
  const { default: createApp } = await import('express');
  const app = createApp();
  if (contender === 'peer') {
    const { rateLimit: expressRateLimit } = await import('express-rate-limit');
    app.use(expressRateLimit({ windowMs: WINDOW_MS, limit: quota, standardHeaders: 'draft-8', legacyHeaders: false }));
  }
  if (contender === 'fairbucket') app.use(rateLimit({ limiter: limiter() }));
  app.get('/', (_req, res) => void res.send('hello'));
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

async function fastify() {
  const { default: Fastify } = await import('fastify');
  const app = Fastify();
  if (contender === 'peer') {
    const { default: fastifyPeer } = await import('@fastify/rate-limit');
    await app.register(fastifyPeer, { max: quota, timeWindow: WINDOW_MS });
  }
  if (contender === 'fairbucket') app.addHook('onRequest', fastifyRateLimit({ limiter: limiter() }));
  app.get('/', async () => 'hello');
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app.server.address().port;
}

async function hono() {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const { getConnInfo } = await import('@hono/node-server/conninfo');
  const app = new Hono();
  if (contender === 'peer') {
    const { rateLimiter } = await import('hono-rate-limiter');
    app.use(rateLimiter({ windowMs: WINDOW_MS, limit: quota, keyGenerator: (c) => getConnInfo(c).remote.address }));
  }
  if (contender === 'fairbucket') {
    const guard = fetchRateLimit({ limiter: limiter() });
    app.use(async (c, next) => {
      const refused = await guard(c.req.raw, { ip: getConnInfo(c).remote.address });
      if (refused) return refused;
      await next();
      guard.withHeaders(c.req.raw, c.res);
    });
  }
  app.get('/', (c) => c.text('hello'));
  return new Promise((resolve) => {
    serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
  });
}

const port = await { express, fastify, hono }[framework]();
let startedAt;
process.on('message', (message) => {
  const usage = process.cpuUsage();
  const cpu = usage.user + usage.system;
  if (message === 'start') startedAt = cpu;
  process.send({ cpu: message === 'stop' ? cpu - startedAt : 0 });
});
process.send({ port });
