/*
 * Inbound HTTP: rate-limit routes of Connect/Express, node:http, Fastify and fetch-style
 * servers with 429 responses and rate-limit headers. Structural types only: no framework
 * and no Node module is imported, so this entry runs wherever the core does.
 */
import type { Decision } from './decision.js';
import { invalid } from './validate.js';

/**
 * A keyed limiter that decides in one call: KeyedLimiter, or any with the same `take`.
 * @example
 * ```ts
 * const limiter: KeyedTaker = new KeyedLimiter({ capacity: 10, refillPerSecond: 5 });
 * ```
 */
export interface KeyedTaker {
  take(key: string, cost?: number): Decision | Promise<Decision>;
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/**
 * Which rate-limit header fields to send on every response.
 * @example
 * ```ts
 * rateLimit({ limiter, headers: 'both' }); // draft and X-RateLimit-* fields
 * ```
 */
export type HeaderSet = 'draft' | 'legacy' | 'both' | 'none';

/**
 * Options shared by every HTTP guard; `Req` is the framework's request.
 * @example
 * ```ts
 * rateLimit({ limiter, key: (req) => String(req.headers.authorization), cost: () => 2, trustProxy: 1 });
 * ```
 */
export interface HttpLimitOptions<Req> {
  /** The limiter deciding each request, keyed by `key(req)`. */
  readonly limiter: KeyedTaker;
  /**
   * Returns the key of a request: an API token, a user id. Default: the client's IP
   * address, from the socket, or from `X-Forwarded-For` only as `trustProxy` allows.
   */
  readonly key?: ((req: Req) => string | Promise<string>) | undefined;
  /**
   * Whether to believe `X-Forwarded-For`: `false` never (the socket's address), `true`
   * its first address, a number N the address N proxies from this server.
   * @default false
   */
  readonly trustProxy?: boolean | number | undefined;
  /** Returns the tokens a request costs, a finite number >= 0. @default () => 1 */
  readonly cost?: ((req: Req) => number) | undefined;
  /** Returns true for requests that are not limited (no headers either). */
  readonly skip?: ((req: Req) => boolean | Promise<boolean>) | undefined;
  /**
   * Header fields sent on every limited route's response: `'draft'` the IETF draft's
   * `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers-10),
   * `'legacy'` `X-RateLimit-Limit`, `-Remaining` and `-Reset`, `'both'` or `'none'`.
   * @default 'draft'
   */
  readonly headers?: HeaderSet | undefined;
  /** Name of the quota policy in the draft headers. @default 'default' */
  readonly policy?: string | undefined;
  /**
   * Builds the response to a refused request instead of the default 429
   * `application/problem+json` one. Rate-limit headers and `Retry-After` are set first.
   */
  readonly onLimited?: ((req: Req, decision: Decision) => LimitedResponse | undefined) | undefined;
  /**
   * Status of the response when the limiter's `take` throws or rejects (RedisKeyedLimiter's
   * does not: its `onRedisError` decides during a Redis outage).
   * @default 503
   */
  readonly errorStatus?: number | undefined;
}

/**
 * A response to send instead of the default: status, body and extra headers.
 * @example
 * ```ts
 * rateLimit({ limiter, onLimited: () => ({ status: 429, body: 'slow down', headers: { 'Content-Type': 'text/plain' } }) });
 * ```
 */
export interface LimitedResponse {
  readonly status: number;
  readonly body?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** What a guard decided for one request: the headers to send, and the response to refuse with. */
interface Outcome {
  readonly headers: Record<string, string>;
  readonly refusal: LimitedResponse | undefined;
}

/** The request shapes guards read: Node's, Express's, Fastify's (`raw`) and fetch's. */
interface NodeLikeRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>> | { get(name: string): string | null };
  readonly socket?: { readonly remoteAddress?: string | undefined } | undefined;
  readonly raw?: NodeLikeRequest | undefined;
}

function header(req: NodeLikeRequest, name: string): string | undefined {
  const headers = req.headers;
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Returns the client address of a request, trusting `X-Forwarded-For` only as told. */
function clientAddress(req: NodeLikeRequest, trustProxy: boolean | number): string {
  const socketAddress = (req.socket ?? req.raw?.socket)?.remoteAddress;
  if (trustProxy === false || trustProxy === 0) return socketAddress ?? 'unknown';
  const forwarded = (header(req, 'x-forwarded-for') ?? '')
    .split(',')
    .map((address) => address.trim())
    .filter(Boolean);
  if (trustProxy === true) return forwarded[0] ?? socketAddress ?? 'unknown';
  // The socket's peer is the nearest proxy (unknown to a fetch Request): N trusted proxies
  // put the client N entries back from it.
  const hops = [...forwarded, socketAddress ?? 'unknown'];
  return hops[Math.max(0, hops.length - 1 - trustProxy)]!;
}

function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

/** Returns the header fields for a decision. Numbers are exact for a token bucket: remaining floored, times rounded up. */
function rateLimitHeaders(decision: Decision, limiter: KeyedTaker, set: HeaderSet, policy: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const remaining = Math.floor(decision.remaining);
  const resetSeconds = seconds(decision.resetAfterMs);
  if (set === 'draft' || set === 'both') {
    const windowSeconds = limiter.refillPerSecond > 0 ? `;w=${seconds((limiter.capacity / limiter.refillPerSecond) * 1000)}` : '';
    headers['RateLimit-Policy'] = `${JSON.stringify(policy)};q=${Math.floor(decision.limit)}${windowSeconds}`;
    headers.RateLimit = `${JSON.stringify(policy)};r=${remaining}${Number.isFinite(resetSeconds) ? `;t=${resetSeconds}` : ''}`;
  }
  if (set === 'legacy' || set === 'both') {
    headers['X-RateLimit-Limit'] = String(Math.floor(decision.limit));
    headers['X-RateLimit-Remaining'] = String(remaining);
    if (Number.isFinite(resetSeconds)) headers['X-RateLimit-Reset'] = String(resetSeconds);
  }
  return headers;
}

function problem(status: number, title: string, detail: string): LimitedResponse {
  return {
    status,
    body: JSON.stringify({ type: 'about:blank', title, status, detail }),
    headers: { 'Content-Type': 'application/problem+json' },
  };
}

/**
 * Returns a function that decides one request: the headers to send and, when refused,
 * the response. It never rejects: a failing limiter gives the `errorStatus` response.
 */
function decider<Req>(options: HttpLimitOptions<Req>, needsKey: boolean): (req: Req) => Promise<Outcome | undefined> {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
  const { limiter, key, trustProxy = false, cost, skip, headers = 'draft', policy = 'default', onLimited, errorStatus = 503 } = options;
  if (typeof limiter?.take !== 'function') throw invalid('limiter', 'a keyed limiter with take(key, cost)', limiter);
  if (!['draft', 'legacy', 'both', 'none'].includes(headers)) throw invalid('headers', "'draft', 'legacy', 'both' or 'none'", headers);
  if (typeof trustProxy !== 'boolean' && !(Number.isInteger(trustProxy) && trustProxy >= 0)) throw invalid('trustProxy', 'a boolean or a whole number >= 0', trustProxy, true);
  if (needsKey && key === undefined && !trustProxy) {
    throw invalid('key', 'a function (a fetch Request carries no client address; or set trustProxy)', key);
  }
  const keyOf = key ?? ((req: Req) => clientAddress(req as NodeLikeRequest, trustProxy));
  return async (req) => {
    try {
      if (skip && (await skip(req))) return undefined;
      const decision = await limiter.take(await keyOf(req), cost ? cost(req) : 1);
      const sent = rateLimitHeaders(decision, limiter, headers, policy);
      if (decision.granted) return { headers: sent, refusal: undefined };
      const retrySeconds = seconds(decision.retryAfterMs);
      if (Number.isFinite(retrySeconds)) sent['Retry-After'] = String(Math.max(1, retrySeconds));
      const refusal =
        onLimited?.(req, decision) ??
        problem(
          429,
          'Too Many Requests',
          Number.isFinite(retrySeconds) ? `Rate limit exceeded: retry after ${Math.max(1, retrySeconds)} s.` : 'Rate limit exceeded: this request cannot be granted.',
        );
      return { headers: sent, refusal };
    } catch {
      return { headers: {}, refusal: problem(errorStatus, 'Service Unavailable', 'The rate limiter failed; try again later.') };
    }
  };
}

/**
 * The response a Connect/Express middleware writes to: Node's ServerResponse shape.
 * @example
 * ```ts
 * createServer((req, res) => void guard(req, res, () => res.end('ok'))); // a ServerResponse fits
 * ```
 */
export interface NodeLikeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

/**
 * Returns a Connect/Express-style middleware `(req, res, next)`, which also serves a bare
 * `node:http` server (pass a `next` that runs your handler). It sets the rate-limit
 * headers, answers a refused request itself (429 by default) and calls `next()` otherwise.
 * @throws {TypeError|RangeError} on bad options.
 * @example
 * ```ts
 * app.use('/search', rateLimit({ limiter: new KeyedLimiter({ capacity: 30, refillPerSecond: 10 }) }));
 * ```
 */
export function rateLimit<Req extends object = NodeLikeRequest>(
  options: HttpLimitOptions<Req>,
): (req: Req, res: NodeLikeResponse, next: (error?: unknown) => void) => Promise<void> {
  const decide = decider(options, false);
  return async (req, res, next) => {
    const outcome = await decide(req);
    if (!outcome) return next();
    for (const [name, value] of Object.entries(outcome.headers)) res.setHeader(name, value);
    const refusal = outcome.refusal;
    if (!refusal) return next();
    res.statusCode = refusal.status;
    for (const [name, value] of Object.entries(refusal.headers ?? {})) res.setHeader(name, value);
    res.end(refusal.body);
  };
}

/**
 * The reply a Fastify hook writes to: Fastify's FastifyReply shape.
 * @example
 * ```ts
 * app.addHook('onRequest', fastifyRateLimit({ limiter })); // a FastifyReply fits
 * ```
 */
export interface FastifyLikeReply {
  header(name: string, value: string): unknown;
  code(status: number): unknown;
  send(body?: string): unknown;
}

/**
 * Returns a Fastify `onRequest` hook: `app.addHook('onRequest', fastifyRateLimit({ ... }))`,
 * or on one route with `{ onRequest: fastifyRateLimit({ ... }) }`. The default key is
 * the socket's address (Fastify's own `trustProxy` is not consulted; set ours).
 * @throws {TypeError|RangeError} on bad options.
 * @example
 * ```ts
 * app.addHook('onRequest', fastifyRateLimit({ limiter: new KeyedLimiter({ capacity: 10, refillPerSecond: 5 }) }));
 * ```
 */
export function fastifyRateLimit<Req extends object = NodeLikeRequest>(
  options: HttpLimitOptions<Req>,
): (request: Req, reply: FastifyLikeReply) => Promise<FastifyLikeReply | undefined> {
  const decide = decider(options, false);
  return async (request, reply) => {
    const outcome = await decide(request);
    if (!outcome) return undefined;
    for (const [name, value] of Object.entries(outcome.headers)) reply.header(name, value);
    const refusal = outcome.refusal;
    if (!refusal) return undefined;
    for (const [name, value] of Object.entries(refusal.headers ?? {})) reply.header(name, value);
    reply.code(refusal.status);
    reply.send(refusal.body);
    return reply;
  };
}

/**
 * A fetch-standard guard: resolves to the refusal Response, or undefined to go on.
 * @example
 * ```ts
 * const refused = await guard(request);
 * return refused ?? guard.withHeaders(request, await handle(request));
 * ```
 */
export interface FetchGuard {
  (request: Request): Promise<Response | undefined>;
  /** Returns `response` with the rate-limit headers decided for `request` (a copy when its headers are immutable). */
  withHeaders(request: Request, response: Response): Response;
}

/**
 * Returns a guard for fetch-style servers (Hono, Next.js route handlers, Bun, Deno, edge
 * workers). `key` is required unless `trustProxy` is set: a `Request` carries no client address.
 * @throws {TypeError|RangeError} on bad options.
 * @example
 * ```ts
 * const guard = fetchRateLimit({ limiter, key: (request) => request.headers.get('authorization') ?? 'anonymous' });
 * async function handle(request: Request) {
 *   const refused = await guard(request);
 *   if (refused) return refused;
 *   return guard.withHeaders(request, new Response('ok'));
 * }
 * ```
 */
export function fetchRateLimit(options: HttpLimitOptions<Request>): FetchGuard {
  const decide = decider(options, true);
  const decided = new WeakMap<Request, Record<string, string>>();
  const guard = async (request: Request): Promise<Response | undefined> => {
    const outcome = await decide(request);
    if (!outcome) return undefined;
    if (!outcome.refusal) {
      decided.set(request, outcome.headers);
      return undefined;
    }
    const { status, body, headers } = outcome.refusal;
    return new Response(body ?? null, { status, headers: { ...outcome.headers, ...headers } });
  };
  return Object.assign(guard, {
    withHeaders(request: Request, response: Response): Response {
      const headers = decided.get(request);
      if (!headers) return response;
      const copy = new Response(response.body, response);
      for (const [name, value] of Object.entries(headers)) copy.headers.set(name, value);
      return copy;
    },
  });
}
