import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KeyedLimiter, RateLimitError, TokenBucket } from '../src/index.js';
import { limitFetch } from '../src/outbound.js';

// Real servers on loopback and the global fetch; real time, since what is tested is what
// reaches a server and when. Every bound is one that cannot flake: a pause starts when the
// client has the refusal, so after the server sent it.

interface Answer {
  readonly status?: number;
  readonly retryAfter?: string | string[];
  readonly body?: string;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** Starts a server answering each request with `answer(index, body)`; records arrivals and when each refusal was sent. */
async function serve(answer: (index: number, body: string) => Answer) {
  const arrivalsMs: number[] = [];
  const refusalsSentMs: number[] = [];
  const bodies: string[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const index = arrivalsMs.push(performance.now()) - 1;
    let body = '';
    for await (const chunk of req) body += String(chunk);
    bodies[index] = body;
    const { status = 200, retryAfter, body: answerBody = String(index) } = answer(index, body);
    if (retryAfter !== undefined) res.setHeader('Retry-After', retryAfter);
    res.statusCode = status;
    res.end(answerBody, () => {
      if (status !== 200) refusalsSentMs.push(performance.now());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return { url, host: new URL(url).host, arrivalsMs, refusalsSentMs, bodies };
}

/** Arrivals strictly inside the window that opened when refusal `index` was sent. */
function inWindow(server: Awaited<ReturnType<typeof serve>>, index: number, windowMs: number): number[] {
  const sentMs = server.refusalsSentMs[index]!;
  return server.arrivalsMs.filter((atMs) => atMs > sentMs && atMs < sentMs + windowMs);
}

describe('limitFetch against real servers', () => {
  it('pauses on 429 with Retry-After in seconds and retries after the pause, under the limit', async () => {
    const server = await serve((index) => (index === 2 ? { status: 429, retryAfter: '1' } : {}));
    const bucket = new TokenBucket({ capacity: 3, refillPerSecond: 3 });
    const limitedFetch = limitFetch(fetch, bucket, { retries: 1 });
    const statuses = await Promise.all(Array.from({ length: 6 }, () => limitedFetch(server.url).then((response) => response.status)));
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(inWindow(server, 0, 1_000)).toEqual([]);
    expect(server.arrivalsMs.length).toBe(7);
    // Never more than the limit allows in any window, capacity + rate x window, allowing
    // 20 ms for the jitter between a grant and its request reaching the server.
    const arrivals = [...server.arrivalsMs].sort((a, b) => a - b);
    for (let i = 0; i < arrivals.length; i++) {
      for (let j = i; j < arrivals.length; j++) expect(j - i + 1).toBeLessThanOrEqual(3 + (3 * (arrivals[j]! - arrivals[i]! + 20)) / 1000);
    }
  });

  it('pauses on 503 with Retry-After as an HTTP date, and returns the response when retries are spent', async () => {
    const server = await serve((index) => (index === 0 ? { status: 503, retryAfter: new Date(Date.now() + 2_000).toUTCString() } : {}));
    const limitedFetch = limitFetch(fetch, new TokenBucket({ capacity: 5, refillPerSecond: 5 }));
    expect((await limitedFetch(server.url)).status).toBe(503);
    expect((await limitedFetch(server.url)).status).toBe(200);
    // An HTTP date has whole seconds: the pause was between 1 and 2 seconds.
    expect(server.arrivalsMs[1]! - server.refusalsSentMs[0]!).toBeGreaterThanOrEqual(1_000);
  });

  // The per-host case: one host's Retry-After: 3600 paused every host. Passes once
  // KeyedLimiter.pauseFor(ms, key) pauses one key (the engine's part of #14).
  it('serves host B while host A is paused', async () => {
    const hostA = await serve(() => ({ status: 429, retryAfter: '3600' }));
    const hostB = await serve(() => ({}));
    const perHost = new KeyedLimiter({ capacity: 5, refillPerSecond: 5 });
    const limitedFetch = limitFetch(fetch, perHost, { key: (input) => new URL(String(input)).host, maxWaitMs: 2_000 });
    expect((await limitedFetch(hostA.url)).status).toBe(429);
    expect((await limitedFetch(hostB.url)).status).toBe(200);
    // Host A is paused for the cap, 15 minutes, not the hour it asked for.
    await expect(limitedFetch(hostA.url)).rejects.toBeInstanceOf(RateLimitError);
    expect(perHost.retryAfter(hostA.host)).toBeGreaterThan(899_000);
    expect(perHost.retryAfter(hostA.host)).toBeLessThanOrEqual(900_000);
    expect([hostA.arrivalsMs.length, hostB.arrivalsMs.length]).toEqual([1, 1]);
  });

  // Each was read as "retry now": with retries: 5, a server got 6 hits in under 160 ms.
  it('never retries at once after an unreadable Retry-After: waits the backoff, 1 s at least', async () => {
    const hostile = [['5', '10'], '-5', '+5', '1.', '.5', '1e3'];
    const servers = await Promise.all(hostile.map((retryAfter) => serve((index) => (index === 0 ? { status: 429, retryAfter } : {}))));
    const responses = await Promise.all(
      servers.map((server) => limitFetch(fetch, new TokenBucket({ capacity: 5, refillPerSecond: 5 }), { retries: 5, random: () => 0 })(server.url)),
    );
    expect(responses.map((response) => response.status)).toEqual(hostile.map(() => 200));
    for (const server of servers) {
      expect(server.arrivalsMs).toHaveLength(2);
      expect(inWindow(server, 0, 1_000)).toEqual([]);
    }
  });

  it('caps a Retry-After that would stall the client (a date 10 years ahead, 1e20 s) and returns the refusal', async () => {
    const tenYears = new Date(Date.now() + 10 * 365 * 86_400_000).toUTCString();
    const servers = await Promise.all([tenYears, '99999999999999999999'].map((retryAfter) => serve(() => ({ status: 503, retryAfter }))));
    for (const server of servers) {
      const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 5 });
      const response = await limitFetch(fetch, bucket, { retries: 5 })(server.url);
      expect([response.status, server.arrivalsMs.length]).toEqual([503, 1]);
      expect(bucket.retryAfter()).toBeGreaterThan(899_000);
      expect(bucket.retryAfter()).toBeLessThanOrEqual(900_000);
    }
  });

  it('settles two budgets by the usage each response reports, leaving the caller its body', async () => {
    const usedTokens = [400, 900, 1_300];
    const server = await serve((index) => ({ body: JSON.stringify({ usage: { total_tokens: usedTokens[index] } }) }));
    // Fixed quotas (no refill), so that what is left is exact.
    const requestsPerMinute = new TokenBucket({ capacity: 60, refillPerSecond: 0 });
    const tokensPerMinute = new TokenBucket({ capacity: 10_000, refillPerSecond: 0 });
    const limitedFetch = limitFetch(
      fetch,
      [
        [requestsPerMinute, 1],
        [tokensPerMinute, (_input, init) => (JSON.parse(String(init?.body)) as { max_tokens: number }).max_tokens],
      ],
      { settle: async (response) => [undefined, ((await response.json()) as { usage: { total_tokens: number } }).usage.total_tokens] },
    );
    const bodies: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await limitedFetch(server.url, { method: 'POST', body: JSON.stringify({ max_tokens: 1_500 }) });
      bodies.push(await response.json());
    }
    expect(bodies).toEqual(usedTokens.map((total_tokens) => ({ usage: { total_tokens } })));
    expect([requestsPerMinute.available, tokensPerMinute.available]).toEqual([57, 10_000 - 2_600]);
  });

  it('sends a Request with a string body again after a 429 (it threw "already been used"), and returns the 429 of a stream body', async () => {
    const server = await serve((index) => (index === 0 || index === 2 ? { status: 429, retryAfter: '0' } : {}));
    const limitedFetch = limitFetch(fetch, new TokenBucket({ capacity: 5, refillPerSecond: 5 }), { retries: 2 });
    const request = new Request(server.url, { method: 'POST', body: 'payload' });
    expect((await limitedFetch(request)).status).toBe(200);
    const stream = new Blob(['streamed']).stream();
    expect((await limitedFetch(server.url, { method: 'POST', body: stream, duplex: 'half' } as RequestInit)).status).toBe(429);
    expect(server.bodies).toEqual(['payload', 'payload', 'streamed']);
  });

  // Callers already waiting when the first is refused must wait out its Retry-After. Passes
  // once acquireAll waits in line (the engine's part of #14): it sent them at 203, 402 and 602 ms.
  it('sends nothing inside the Retry-After window with two budgets, callers already waiting included', async () => {
    const server = await serve((index) => (index === 0 ? { status: 429, retryAfter: '1' } : {}));
    const requestsPerSecond = new TokenBucket({ capacity: 1, refillPerSecond: 5 });
    const tokensPerSecond = new TokenBucket({ capacity: 1_000, refillPerSecond: 1_000 });
    const limitedFetch = limitFetch(fetch, [[requestsPerSecond, 1], [tokensPerSecond, 10]], { retries: 1 });
    const statuses = await Promise.all(Array.from({ length: 4 }, () => limitedFetch(server.url).then((response) => response.status)));
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(inWindow(server, 0, 1_000)).toEqual([]);
  });
});

describe('limitFetch bookkeeping (real server on loopback)', () => {
  async function serve(status: number, retryAfter: string | undefined) {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      if (retryAfter !== undefined) res.setHeader('Retry-After', retryAfter);
      res.statusCode = status;
      res.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, requests: () => requests, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it('sends a request at most 1 + retries times, then returns the last refusal', async () => {
    const server = await serve(429, '0');
    try {
      const limitedFetch = limitFetch(fetch, new TokenBucket({ capacity: 10, refillPerSecond: 10 }), { retries: 2 });
      expect((await limitedFetch(server.url)).status).toBe(429);
      expect(server.requests()).toBe(3);
    } finally {
      await server.close();
    }
  });

  it('returns a 429 without Retry-After when no retries are left, and lets init.signal abort the wait', async () => {
    const server = await serve(429, undefined);
    try {
      const bucket = new TokenBucket({ capacity: 1, refillPerSecond: 0.001 });
      const limitedFetch = limitFetch(fetch, bucket);
      expect((await limitedFetch(server.url)).status).toBe(429);
      expect(server.requests()).toBe(1);
      const controller = new AbortController();
      const waiting = limitedFetch(server.url, { signal: controller.signal });
      controller.abort('no more');
      await expect(waiting).rejects.toBe('no more');
      expect(server.requests()).toBe(1);
    } finally {
      await server.close();
    }
  });
});
