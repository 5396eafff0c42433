/*
 * The options every HTTP guard takes, checked once at construction so that a mistake is
 * a clear error when the server starts, never a silent 503 on every request.
 */
import type { Decision } from './decision.js';
import { type HeaderSet, policyString } from './http-headers.js';
import { DEFAULT_IPV6_SUBNET, checkIpv6Subnet } from './ip-key.js';
import { checkKnownOptions } from './known-options.js';
import { invalid } from './validate.js';

/**
 * A keyed limiter that decides in one call: KeyedLimiter, RedisKeyedLimiter, or any with
 * the same `take`; `refund` is needed only by `skipSuccessfulRequests`/`skipFailedRequests`.
 * @example
 * ```ts
 * const limiter: KeyedTaker = new KeyedLimiter({ capacity: 10, refillPerSecond: 5 });
 * ```
 */
export interface KeyedTaker {
  take(key: string, cost?: number): Decision | Promise<Decision>;
  refund?(key: string, amount: number): unknown;
  readonly capacity: number;
  readonly refillPerSecond: number;
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

/**
 * Options shared by every HTTP guard; `Req` is the framework's request.
 * @example
 * ```ts
 * rateLimit({ limiter, key: (req) => String(req.headers.authorization), cost: () => 2, trustProxy: 1 });
 * ```
 */
export interface HttpLimitOptions<Req> {
  /** The limiter deciding each request, keyed by `key(req)`. A `TokenBucket` is refused: use a `KeyedLimiter` with `key: () => 'global'`. */
  readonly limiter: KeyedTaker;
  /**
   * Returns the key of a request: an API token, a user id. Default: the client's IP address
   * (see `ipv6Subnet`), from the socket (`{ ip }` for a fetch guard), or from
   * `X-Forwarded-For` only as `trustProxy` allows.
   */
  readonly key?: ((req: Req) => string | Promise<string>) | undefined;
  /**
   * Whether to believe `X-Forwarded-For`: `false` never (the socket's address), `true`
   * its first address, a number N the address N proxies from this server.
   * @default false
   */
  readonly trustProxy?: boolean | number | undefined;
  /**
   * The prefix length by which the default key groups IPv6 clients (a whole number from
   * 32 to 64), or `false` to key each IPv6 address alone. IPv4-mapped addresses key as IPv4.
   * @default 56
   */
  readonly ipv6Subnet?: number | false | undefined;
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
  /** Name of the quota policy in the draft headers: printable ASCII. @default 'default' */
  readonly policy?: string | undefined;
  /**
   * Builds the response to a refused request instead of the default 429
   * `application/problem+json` one, or returns undefined for the default. Rate-limit
   * headers and `Retry-After` are set first.
   */
  readonly onLimited?: ((req: Req, decision: Decision) => LimitedResponse | undefined | Promise<LimitedResponse | undefined>) | undefined;
  /**
   * Hears every error thrown by `key`, `cost`, `skip`, `onLimited` or the limiter (a
   * `LimiterTimeoutError` past `timeoutMs`), and by the limiter's `refund`. Return `'allow'`
   * to let the request through without headers (fail open); anything else answers
   * `errorStatus`. Default: the guard's first error is logged with `console.error`.
   */
  readonly onError?: ((error: unknown, req: Req) => 'allow' | undefined | void | Promise<'allow' | undefined | void>) | undefined;
  /** Status of the response when deciding fails (see `onError`), 400 to 599. @default 503 */
  readonly errorStatus?: number | undefined;
  /** Milliseconds the limiter's `take` may run before `onError` hears a `LimiterTimeoutError`; `Infinity` for no bound. @default 5000 */
  readonly timeoutMs?: number | undefined;
  /** Gives back the cost of a granted request whose response status is below 400 (needs the limiter's `refund`). @default false */
  readonly skipSuccessfulRequests?: boolean | undefined;
  /** Gives back the cost of a granted request whose response status is 400 or more, or that was aborted (needs the limiter's `refund`). @default false */
  readonly skipFailedRequests?: boolean | undefined;
}

/**
 * Options of the Express/node:http and Fastify guards: those of every guard, and where
 * the decision goes on the request.
 * @example
 * ```ts
 * app.use(rateLimit({ limiter, requestProperty: 'quota' })); // req.quota.remaining
 * ```
 */
export interface RequestLimitOptions<Req> extends HttpLimitOptions<Req> {
  /** The request property that receives the `Decision`, or `false` for none. @default 'rateLimit' */
  readonly requestProperty?: string | false | undefined;
}

// The skip… names before `skip`: checkKnownOptions suggests the first name a typo starts with.
const SHARED = ['limiter', 'key', 'trustProxy', 'ipv6Subnet', 'cost', 'skipSuccessfulRequests', 'skipFailedRequests', 'skip', 'headers', 'policy', 'onLimited', 'onError', 'errorStatus', 'timeoutMs'];

/** The checked options of one guard, with their defaults. */
export interface GuardSettings<Req> {
  readonly limiter: KeyedTaker;
  readonly key: ((req: Req) => string | Promise<string>) | undefined;
  readonly trustProxy: boolean | number;
  readonly ipv6Subnet: number | false;
  readonly cost: ((req: Req) => number) | undefined;
  readonly skip: ((req: Req) => boolean | Promise<boolean>) | undefined;
  readonly headers: HeaderSet;
  /** The policy name as an sf-string, quoted and escaped. */
  readonly policy: string;
  readonly onLimited: HttpLimitOptions<Req>['onLimited'];
  readonly onError: HttpLimitOptions<Req>['onError'];
  readonly errorStatus: number;
  readonly timeoutMs: number;
  readonly skipSuccessfulRequests: boolean;
  readonly skipFailedRequests: boolean;
  readonly requestProperty: string | false;
}

function optionalFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw invalid(name, 'a function', value);
}

function flag(name: string, value: unknown): boolean {
  if (value === undefined || typeof value === 'boolean') return value === true;
  throw invalid(name, 'a boolean', value);
}

function checkLimiter(limiter: unknown): KeyedTaker {
  const candidate = limiter as Partial<KeyedTaker> & { available?: unknown } | null | undefined;
  if (typeof candidate?.available === 'number' && typeof candidate.take === 'function') {
    throw invalid('limiter', "a keyed limiter: a TokenBucket has one bucket and no key; use new KeyedLimiter(...) with key: () => 'global' for one limit shared by every request", limiter);
  }
  if (typeof candidate?.take !== 'function' || typeof candidate.capacity !== 'number' || typeof candidate.refillPerSecond !== 'number') {
    throw invalid('limiter', 'a keyed limiter with take(key, cost), capacity and refillPerSecond (a KeyedLimiter)', limiter);
  }
  return candidate as KeyedTaker;
}

/**
 * Returns the checked options of a guard with their defaults.
 * @throws {TypeError|RangeError} on an unknown option name or a bad value.
 */
export function guardSettings<Req>(options: RequestLimitOptions<Req>, withRequestProperty: boolean): GuardSettings<Req> {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
  checkKnownOptions(options, withRequestProperty ? [...SHARED, 'requestProperty'] : SHARED);
  const { trustProxy = false, headers = 'draft', errorStatus = 503, timeoutMs = 5000, requestProperty = 'rateLimit' } = options;
  const limiter = checkLimiter(options.limiter);
  for (const name of ['key', 'cost', 'skip', 'onLimited', 'onError'] as const) optionalFunction(name, options[name]);
  if (!['draft', 'legacy', 'both', 'none'].includes(headers)) throw invalid('headers', "'draft', 'legacy', 'both' or 'none'", headers);
  if (typeof trustProxy !== 'boolean' && !(Number.isInteger(trustProxy) && trustProxy >= 0)) throw invalid('trustProxy', 'a boolean or a whole number >= 0', trustProxy, true);
  if (!(Number.isInteger(errorStatus) && errorStatus >= 400 && errorStatus <= 599)) throw invalid('errorStatus', 'a whole number from 400 to 599', errorStatus, true);
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0)) throw invalid('timeoutMs', 'a number > 0 (Infinity for no bound)', timeoutMs, true);
  if (requestProperty !== false && (typeof requestProperty !== 'string' || requestProperty === '')) throw invalid('requestProperty', 'a non-empty string or false', requestProperty);
  const skipSuccessfulRequests = flag('skipSuccessfulRequests', options.skipSuccessfulRequests);
  const skipFailedRequests = flag('skipFailedRequests', options.skipFailedRequests);
  if ((skipSuccessfulRequests || skipFailedRequests) && typeof limiter.refund !== 'function') {
    throw invalid('limiter', 'a limiter with refund(key, amount), which skipSuccessfulRequests and skipFailedRequests need', limiter);
  }
  return {
    limiter,
    key: options.key,
    trustProxy,
    ipv6Subnet: options.ipv6Subnet === undefined ? DEFAULT_IPV6_SUBNET : checkIpv6Subnet(options.ipv6Subnet),
    cost: options.cost,
    skip: options.skip,
    headers,
    policy: policyString(options.policy === undefined ? 'default' : options.policy),
    onLimited: options.onLimited,
    onError: options.onError,
    errorStatus,
    timeoutMs,
    skipSuccessfulRequests,
    skipFailedRequests,
    requestProperty: withRequestProperty ? requestProperty : false,
  };
}
