/*
 * Inbound HTTP: rate-limit routes of Connect/Express, node:http, Fastify and fetch-style
 * servers with 429 responses and rate-limit headers. Structural types only: no framework
 * and no Node module is imported, so this entry runs wherever the core does.
 */
export type { NodeLikeRequest } from './http-client-address.js';
export { type ConnectionInfo, type FetchGuard, fetchRateLimit } from './http-fetch.js';
export type { HeaderSet } from './http-headers.js';
export { type FastifyHook, type FastifyLikeReply, type NodeLikeResponse, fastifyRateLimit, rateLimit } from './http-node.js';
export type { HttpLimitOptions, KeyedTaker, LimitedResponse, RequestLimitOptions } from './http-options.js';
export { ipKey } from './ip-key.js';
export { LimiterTimeoutError } from './limiter-timeout-error.js';
