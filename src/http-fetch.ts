/*
 * The guard of fetch-standard servers (Bun, Deno, Hono, Next.js route handlers, edge
 * workers): a Request in, a refusal Response or undefined out, the headers added after.
 */
import type { Decision } from './decision.js';
import { type Outcome, decider } from './http-decider.js';
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
   * other guards' members); sets them in place, or on a copy when its headers are
   * immutable (a `fetch` response, `Response.redirect`). Refunds the cost here for
   * `skipSuccessfulRequests`/`skipFailedRequests`, by `response.status`.
   */
  withHeaders(request: Request, response: Response): Response;
  /** Returns the header fields decided for `request` (for `c.header` in Hono), or undefined when it was not limited. */
  headersFor(request: Request): Readonly<Record<string, string>> | undefined;
  /** Returns the limiter's decision for `request`, or undefined when it was not limited or deciding failed. */
  decisionFor(request: Request): Decision | undefined;
}

function addHeaders(target: Headers, headers: Readonly<Record<string, string>>): void {
  for (const name in headers) target.set(name, mergedHeader(name, target.get(name), headers[name]!));
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
  const decided = new WeakMap<Request, Outcome>();
  const guard = async (request: Request, connection?: ConnectionInfo): Promise<Response | undefined> => {
    if (connection !== undefined && (typeof connection !== 'object' || connection === null)) throw invalid('connection', 'an object like { ip }', connection);
    const outcome = await decide(request, connection?.ip);
    if (!outcome) return undefined;
    decided.set(request, outcome);
    if (!outcome.refusal) return undefined;
    const { status, body, headers } = outcome.refusal;
    return new Response(body ?? null, { status, headers: { ...outcome.headers, ...headers } });
  };
  return Object.assign(guard, {
    withHeaders(request: Request, response: Response): Response {
      const outcome = decided.get(request);
      if (!outcome || outcome.refusal) return response;
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
    headersFor: (request: Request) => decided.get(request)?.headers,
    decisionFor: (request: Request) => decided.get(request)?.decision,
  });
}
