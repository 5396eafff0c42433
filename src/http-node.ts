/*
 * The guards of Node-based servers: a Connect/Express middleware (which also serves a bare
 * node:http server) and a Fastify onRequest hook.
 */
import { type NodeLikeRequest, socketAddress } from './http-client-address.js';
import { ABORTED, type Outcome, decider, isPromise } from './http-decider.js';
import { mergedHeader } from './http-headers.js';
import { type RequestLimitOptions, guardSettings } from './http-options.js';

/**
 * The response a Connect/Express middleware writes to: Node's ServerResponse shape.
 * `getHeader` lets stacked guards add to each other's fields; `once` lets
 * `skipSuccessfulRequests`/`skipFailedRequests` see the response finish.
 * @example
 * ```ts
 * createServer((req, res) => void guard(req, res, () => res.end('ok'))); // a ServerResponse fits
 * ```
 */
export interface NodeLikeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  getHeader?(name: string): unknown;
  end(body?: string): unknown;
  readonly headersSent?: boolean;
  once?(event: 'finish' | 'close', listener: () => void): unknown;
}

/** Gives back the cost per `settle` when the response finishes, or as failed when it closes unfinished. */
function settleOnFinish(res: Pick<NodeLikeResponse, 'once' | 'statusCode'> | undefined, settle: (status: number) => void): void {
  res?.once?.('finish', () => settle(res.statusCode));
  res?.once?.('close', () => settle(ABORTED));
}

/** Adds a guard's fields to a response, merged with what it holds when it can tell (`getHeader`). */
function addFields<Target extends { getHeader?(name: string): unknown }>(
  target: Target,
  set: (target: Target, name: string, value: string) => unknown,
  headers: Readonly<Record<string, string>>,
): void {
  for (const name in headers) {
    const value = headers[name]!;
    set(target, name, target.getHeader ? mergedHeader(name, target.getHeader(name), value) : value);
  }
}

const setOnResponse = (res: NodeLikeResponse, name: string, value: string): unknown => res.setHeader(name, value);
const setOnReply = (reply: FastifyLikeReply, name: string, value: string): unknown => reply.header(name, value);

function setOn(req: object, property: string | false, outcome: Outcome): void {
  if (property !== false && outcome.decision) (req as Record<string, unknown>)[property] = outcome.decision;
}

/**
 * Returns a Connect/Express-style middleware `(req, res, next)`, which also serves a bare
 * `node:http` server (pass a `next` that runs your handler). It adds the rate-limit
 * headers (after those of other guards), puts the decision on `req.rateLimit`, answers a
 * refused request itself (429 by default) and calls `next()` otherwise. It never rejects:
 * an error goes to `onError`, then the `errorStatus` response.
 * @throws {TypeError|RangeError} on bad options.
 * @example
 * ```ts
 * app.use('/search', rateLimit({ limiter: new KeyedLimiter({ capacity: 30, refillPerSecond: 10 }) }));
 * ```
 */
export function rateLimit<Req extends object = NodeLikeRequest>(
  options: RequestLimitOptions<Req>,
): (req: Req, res: NodeLikeResponse, next: (error?: unknown) => void) => void | Promise<void> {
  const settings = guardSettings(options, true);
  const { decide, hear } = decider(settings, false);
  const refunds = settings.skipSuccessfulRequests || settings.skipFailedRequests;
  const apply = (req: Req, res: NodeLikeResponse, next: (error?: unknown) => void, outcome: Outcome | undefined): void => {
    if (!outcome) return next();
    try {
      addFields(res, setOnResponse, outcome.headers);
      setOn(req, settings.requestProperty, outcome);
      const refusal = outcome.refusal;
      if (refusal) {
        res.statusCode = refusal.status;
        for (const name in refusal.headers) res.setHeader(name, refusal.headers[name]!);
        res.end(refusal.body);
        return;
      }
      if (refunds) settleOnFinish(res, outcome.settle);
    } catch (error) {
      hear(error, req);
      if (!res.headersSent) {
        res.statusCode = settings.errorStatus;
        res.end();
      }
      return;
    }
    next();
  };
  return (req, res, next) => {
    const outcome = decide(req, socketAddress(req as NodeLikeRequest));
    if (isPromise(outcome)) return outcome.then((decided) => apply(req, res, next, decided));
    apply(req, res, next, outcome);
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
  getHeader?(name: string): unknown;
  code(status: number): unknown;
  send(body?: string): unknown;
  readonly raw?: Pick<NodeLikeResponse, 'once' | 'statusCode'> | undefined;
}

/**
 * Returns a Fastify `onRequest` hook: `app.addHook('onRequest', fastifyRateLimit({ ... }))`,
 * or on one route with `{ onRequest: fastifyRateLimit({ ... }) }`. It adds the headers,
 * puts the decision on `request.rateLimit` and answers a refused request. The default key
 * is the socket's address (Fastify's own `trustProxy` is not consulted; set ours).
 * `skipSuccessfulRequests`/`skipFailedRequests` refund when the response finishes (when
 * Fastify's `onResponse` runs).
 * @throws {TypeError|RangeError} on bad options.
 * @example
 * ```ts
 * app.addHook('onRequest', fastifyRateLimit({ limiter: new KeyedLimiter({ capacity: 10, refillPerSecond: 5 }) }));
 * ```
 */
export function fastifyRateLimit<Req extends object = NodeLikeRequest>(options: RequestLimitOptions<Req>): FastifyHook<NotInferred<Req>> {
  const settings = guardSettings(options, true);
  const { decide, hear } = decider(settings, false);
  const refunds = settings.skipSuccessfulRequests || settings.skipFailedRequests;
  /** Writes the outcome; returns the reply when it answered the request itself. */
  const apply = (request: Req, reply: FastifyLikeReply, outcome: Outcome | undefined): FastifyLikeReply | undefined => {
    if (!outcome) return undefined;
    try {
      addFields(reply, setOnReply, outcome.headers);
      setOn(request, settings.requestProperty, outcome);
      const refusal = outcome.refusal;
      if (!refusal) {
        if (refunds) settleOnFinish(reply.raw, outcome.settle);
        return undefined;
      }
      for (const name in refusal.headers) reply.header(name, refusal.headers[name]!);
      reply.code(refusal.status);
    } catch (error) {
      hear(error, request);
      reply.code(settings.errorStatus);
    }
    reply.send(outcome.refusal?.body);
    return reply;
  };
  return (request, reply, done) => {
    const outcome = decide(request, socketAddress(request as NodeLikeRequest));
    if (typeof done !== 'function') return Promise.resolve(outcome).then((decided) => apply(request, reply, decided));
    // Fastify's callback style: a synchronous decision goes on without a promise; a reply
    // sent here ends the request, so done() is called only to go on.
    const proceed = (decided: Outcome | undefined): void => void (apply(request, reply, decided) ?? done());
    if (isPromise(outcome)) void outcome.then(proceed);
    else proceed(outcome);
    return undefined;
  };
}

/** `T`, hidden from inference (TypeScript's NoInfer before 5.4): a route's hook type must not pick `Req`. */
type NotInferred<T> = [T][T extends unknown ? 0 : never];

/**
 * A Fastify `onRequest` hook as fastifyRateLimit returns it. Fastify calls it with `done`
 * (callback style: no promise on a synchronous decision) and it returns undefined; called
 * without `done`, it returns a promise of the reply it answered, or of undefined to go on.
 * @example
 * ```ts
 * const hook: FastifyHook<FastifyRequest> = fastifyRateLimit({ limiter });
 * ```
 */
export type FastifyHook<Req> = (request: Req, reply: FastifyLikeReply, done?: (error?: Error) => void) => Promise<FastifyLikeReply | undefined> | undefined;
