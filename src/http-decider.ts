/*
 * Deciding one request, for every framework: skip, key, cost, the limiter's take (bounded
 * by `timeoutMs`), the refusal; every error goes to `onError` or, once, to console.error.
 * Synchronous while every step is: a KeyedLimiter's decision costs no promise.
 */
import type { Decision } from './decision.js';
import { type NodeLikeRequest, clientAddress, forwardedFor } from './http-client-address.js';
import { rateLimitHeaders } from './http-headers.js';
import type { GuardSettings, LimitedResponse } from './http-options.js';
import { ipKey } from './ip-key.js';
import { LimiterTimeoutError } from './limiter-timeout-error.js';
import { invalid } from './validate.js';

/** What a guard decided for one request that it limited. */
export interface Outcome {
  /** The header fields to add to the response (with `Retry-After` on a refusal). */
  readonly headers: Readonly<Record<string, string>>;
  /** The limiter's decision; undefined when deciding failed. */
  readonly decision: Decision | undefined;
  /** The response to send instead of going on; undefined to go on. */
  readonly refusal: LimitedResponse | undefined;
  /** Gives back the cost when the response's status says so; called once, when it is known. */
  readonly settle: (status: number) => void;
}

/** Decides one request: an Outcome, or undefined to go on without headers (skipped, or allowed by onError). */
export type Decide<Req> = (req: Req, socket: string | undefined) => Outcome | undefined | Promise<Outcome | undefined>;

/** A guard's decision function, and where it reports an error met later (writing, refunding). */
export interface Decider<Req> {
  readonly decide: Decide<Req>;
  readonly hear: (error: unknown, req: Req) => void;
}

/** The TypeError of a fetch guard given no way to key a request. */
export class MissingClientAddress extends TypeError {}

/** The status standing for a response that never finished (the client went away). */
export const ABORTED = 499;

type Maybe<T> = T | Promise<T>;

export function isPromise<T>(value: Maybe<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

function then<T, U>(value: Maybe<T>, next: (value: T) => Maybe<U>): Maybe<U> {
  return isPromise(value) ? value.then(next) : next(value);
}

function bounded(taken: Maybe<Decision>, timeoutMs: number): Maybe<Decision> {
  if (!isPromise(taken) || timeoutMs > 2 ** 31 - 1) return taken;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new LimiterTimeoutError(timeoutMs)), timeoutMs);
    taken.then(
      (decision) => {
        clearTimeout(timer);
        resolve(decision);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

const PROBLEM_HEADERS = { 'Content-Type': 'application/problem+json' };

/** Returns an RFC 9457 problem response; `title` and `detail` need no JSON escaping (built here from fixed text and digits). */
function problem(status: number, title: string, detail: string): LimitedResponse {
  return { status, body: `{"type":"about:blank","title":"${title}","status":${status},"detail":"${detail}"}`, headers: PROBLEM_HEADERS };
}

const ignore = (): void => undefined;

/** The ways a guard answers errors: `fail` while deciding (to `onError`, or the failure), `hear` later (writing, refunding). */
function errorHandlers<Req>(
  { onError, policy, errorStatus }: GuardSettings<Req>,
  failure: Outcome,
  rejectsWithoutAddress: boolean,
): { fail: (error: unknown, req: Req) => Maybe<Outcome | undefined>; hear: (error: unknown, req: Req) => void } {
  let reported = false;
  const report = (error: unknown): void => {
    if (reported) return;
    reported = true;
    console.error(`fairbucket/http: the guard of policy ${policy} failed; answering ${errorStatus}. Pass onError to hear every error (only this first one is logged).`, error);
  };
  const fail = (error: unknown, req: Req): Maybe<Outcome | undefined> => {
    if (rejectsWithoutAddress && error instanceof MissingClientAddress) throw error;
    if (!onError) {
      report(error);
      return failure;
    }
    const verdicts = (verdict: unknown): Outcome | undefined => (verdict === 'allow' ? undefined : failure);
    const reportFailure = (thrown: unknown): Outcome => {
      report(thrown);
      return failure;
    };
    try {
      const verdict = onError(error, req);
      return isPromise(verdict) ? verdict.then(verdicts, reportFailure) : verdicts(verdict);
    } catch (thrown) {
      return reportFailure(thrown);
    }
  };
  const hear = (error: unknown, req: Req): void => {
    try {
      const heard = onError ? onError(error, req) : report(error);
      if (isPromise(heard)) heard.then(undefined, report);
    } catch (thrown) {
      report(thrown);
    }
  };
  return { fail, hear };
}

/**
 * Returns the function that decides one request for a guard. A fetch guard passes
 * `rejectsWithoutAddress`: a request it cannot key rejects the call with a TypeError
 * instead of answering `errorStatus`.
 */
export function decider<Req>(settings: GuardSettings<Req>, rejectsWithoutAddress: boolean): Decider<Req> {
  const { limiter, key, trustProxy, ipv6Subnet, cost, skip, headers, policy, onLimited, errorStatus, timeoutMs } = settings;
  const refunds = settings.skipSuccessfulRequests || settings.skipFailedRequests;
  const failure: Outcome = {
    headers: {},
    decision: undefined,
    refusal: problem(errorStatus, errorStatus === 503 ? 'Service Unavailable' : 'Rate Limiter Failed', 'The rate limiter failed; try again later.'),
    settle: ignore,
  };
  const { fail, hear } = errorHandlers(settings, failure, rejectsWithoutAddress);
  const settler = (req: Req, keyOfRequest: string, tokens: number): ((status: number) => void) => {
    let settled = false;
    return (status) => {
      if (settled) return;
      settled = true;
      if (!(status < 400 ? settings.skipSuccessfulRequests : settings.skipFailedRequests)) return;
      try {
        const refunded = limiter.refund!(keyOfRequest, tokens);
        if (isPromise(refunded)) refunded.then(undefined, (error: unknown) => hear(error, req));
      } catch (error) {
        hear(error, req);
      }
    };
  };
  const outcome = (req: Req, decision: Decision, keyOfRequest: string, tokens: number): Maybe<Outcome> => {
    if (typeof decision?.granted !== 'boolean') throw invalid("the limiter's take()", 'a Decision', decision);
    const sent = rateLimitHeaders(decision, limiter, headers, policy);
    if (decision.granted) return { headers: sent, decision, refusal: undefined, settle: refunds ? settler(req, keyOfRequest, tokens) : ignore };
    return then(onLimited ? onLimited(req, decision) : undefined, (custom) => ({
      headers: sent,
      decision,
      refusal:
        custom ??
        problem(429, 'Too Many Requests', sent['Retry-After'] ? `Rate limit exceeded: retry after ${sent['Retry-After']} s.` : 'Rate limit exceeded: this request cannot be granted.'),
      settle: ignore,
    }));
  };
  const keyOf = (req: Req, socket: string | undefined): Maybe<string> => {
    if (key) return key(req);
    const address = clientAddressOf(req, socket);
    if (address === undefined) {
      throw new MissingClientAddress(
        rejectsWithoutAddress
          ? 'fetchRateLimit: no client address to key this request by: pass it as guard(request, { ip }), give a `key` option, or set `trustProxy` behind a proxy that sends X-Forwarded-For'
          : 'fairbucket/http: the request shows no client address (its socket is gone)',
      );
    }
    return ipKey(address, ipv6Subnet);
  };
  const clientAddressOf = (req: Req, socket: string | undefined): string | undefined =>
    clientAddress(trustProxy === false ? undefined : forwardedFor(req as NodeLikeRequest), socket, trustProxy);
  const decide = (req: Req, socket: string | undefined): Maybe<Outcome | undefined> =>
    then(keyOf(req, socket), (keyOfRequest) => {
      const tokens = cost ? cost(req) : 1;
      return then(bounded(limiter.take(keyOfRequest, tokens), timeoutMs), (decision) => outcome(req, decision, keyOfRequest, tokens));
    });
  return {
    decide: (req, socket) => {
      let result: Maybe<Outcome | undefined>;
      try {
        result = skip ? then(skip(req), (skipped) => (skipped ? undefined : decide(req, socket))) : decide(req, socket);
      } catch (error) {
        return fail(error, req);
      }
      return isPromise(result) ? result.then(undefined, (error: unknown) => fail(error, req)) : result;
    },
    hear,
  };
}
