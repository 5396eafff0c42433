/*
 * The guard of fetch-standard servers (Bun, Deno, Hono, Next.js route handlers, edge
 * workers): a Request in, a refusal Response or undefined out, the headers added after.
 */
import type { Decision } from './decision.js';
import { type Outcome, decider, isPromise } from './http-decider.js';
import { mergedHeader } from './http-headers.js';
import { type HttpLimitOptions, guardSettings } from './http-options.js';
import { invalid } from './validate.js';

/**
 * What a fetch server knows of the connection: the client's address, which a `Request`
 * does not carry (Bun: `server.requestIP(request)?.address`, Deno: `info.remoteAddr.hostname`,
 * Hono: `getConnInfo(c).remote.address`).
 * @example
 * ```ts
 * await guard(request, { ip: server.requestIP(request)?.address });
 * ```
 */
export interface ConnectionInfo {
  /** The client's address (the socket's peer), IPv4 or IPv6. */
  readonly ip?: string | undefined;
}

/**
 * A fetch-standard guard: resolves to the refusal Response, or undefined to go on.
 * @example
 * ```ts
 * const refused = await guard(request, { ip });
 * return refused ?? guard.withHeaders(request, await handle(request));
 * ```
 */
export interface FetchGuard {
  /**
   * Decides `request`. Resolves to the refusal Response (429, or `errorStatus` when deciding
   * failed), or undefined to go on. Rejects with a TypeError when the default key has no
   * client address: no `connection.ip` and no trusted `X-Forwarded-For`.
   */
  (request: Request, connection?: ConnectionInfo): Promise<Response | undefined>;
  /**
   * Returns `response` with the rate-limit headers decided for `request` added (after
   * other guards' members; `Retry-After` the longer wait); sets them in place, or on a
   * copy when its headers are immutable (a `fetch` response, `Response.redirect`).
   * Returns this guard's own refusal, and a response to a request it did not decide,
   * unchanged. Refunds the cost here for `skipSuccessfulRequests`/`skipFailedRequests`,
   * by `response.status`.
   */
  withHeaders(request: Request, response: Response): Response;
  /** Returns the header fields decided for `request` (for `c.header` in Hono), or undefined when it was not limited. */
  headersFor(request: Request): Readonly<Record<string, string>> | undefined;
  /** Returns the limiter's decision for `request`, or undefined when it was not limited or deciding failed. */
  decisionFor(request: Request): Decision | undefined;
}

/** Adds a guard's fields to `target`: the draft's list fields appended (Headers joins them with `, `), the others merged. */
function addHeaders(target: Headers, headers: Readonly<Record<string, string>>): void {
  for (const name in headers) {
    if (name === 'RateLimit' || name === 'RateLimit-Policy') target.append(name, headers[name]!);
    else target.set(name, mergedHeader(name, target.get(name), headers[name]!));
  }
}

/**
 * Returns a guard for fetch-style servers (Hono, Next.js route handlers, Bun, Deno, edge
 * workers). A `Request` carries no client address: pass it as `guard(request, { ip })`,
 * or give `key`, or set `trustProxy` behind a proxy.
 * @throws {TypeError|RangeError} on bad options.
 * @example
 * ```ts
 * const guard = fetchRateLimit({ limiter });
 * Bun.serve({
 *   async fetch(request, server) {
 *     const refused = await guard(request, { ip: server.requestIP(request)?.address });
 *     return refused ?? guard.withHeaders(request, new Response('ok'));
 *   },
 * });
 * ```
 */
export function fetchRateLimit(options: HttpLimitOptions<Request>): FetchGuard {
  const { decide } = decider(guardSettings(options, false), true);
  // The outcome rides on the request under this guard's own symbol: cheaper than a
  // WeakMap's ephemeron per request, which showed in the Hono benchmark.
  const decided = Symbol('fairbucket.outcome');
  const refusedWith = Symbol('fairbucket.refusal');
  const slots = (request: Request) => request as unknown as { [decided]?: Outcome; [refusedWith]?: Response };
  const outcomeOf = (request: Request): Outcome | undefined => slots(request)[decided];
  const answer = (request: Request, outcome: Outcome | undefined): Response | undefined => {
    if (!outcome) return undefined;
    slots(request)[decided] = outcome;
    if (!outcome.refusal) return undefined;
    const { status, body, headers } = outcome.refusal;
    // Copied field by field: an object spread of two records cost 2 µs a refusal here.
    const fields: Record<string, string> = {};
    for (const name in outcome.headers) fields[name] = outcome.headers[name]!;
    for (const name in headers) fields[name] = headers[name]!;
    return (slots(request)[refusedWith] = new Response(body ?? null, { status, headers: fields }));
  };
  // Not an async function: a synchronous decision resolves without awaiting anything.
  const guard = (request: Request, connection?: ConnectionInfo): Promise<Response | undefined> => {
    try {
      if (connection !== undefined && (typeof connection !== 'object' || connection === null)) throw invalid('connection', 'an object like { ip }', connection);
      const outcome = decide(request, connection?.ip);
      return isPromise(outcome) ? outcome.then((decided) => answer(request, decided)) : Promise.resolve(answer(request, outcome));
    } catch (error) {
      return Promise.reject(error);
    }
  };
  return Object.assign(guard, {
    withHeaders(request: Request, response: Response): Response {
      const outcome = outcomeOf(request);
      // This guard's own refusal carries its fields already; any other response gets them.
      if (!outcome || response === slots(request)[refusedWith]) return response;
      outcome.settle(response.status);
      try {
        addHeaders(response.headers, outcome.headers);
        return response;
      } catch {
        // Immutable headers (a fetch() response, Response.redirect): copy once.
        const copy = new Response(response.body, response);
        addHeaders(copy.headers, outcome.headers);
        return copy;
      }
    },
    headersFor: (request: Request) => outcomeOf(request)?.headers,
    decisionFor: (request: Request) => outcomeOf(request)?.decision,
  });
}
