/*
 * The rate-limit header fields of one decision, and how a guard adds them to a response
 * that other guards may have written to already: the draft's fields are lists, so each
 * guard appends its own member; `Retry-After` keeps the longest wait.
 */
import type { Decision } from './decision.js';
import { invalid } from './validate.js';

/**
 * Which rate-limit header fields to send on every response.
 * @example
 * ```ts
 * rateLimit({ limiter, headers: 'both' }); // draft and X-RateLimit-* fields
 * ```
 */
export type HeaderSet = 'draft' | 'legacy' | 'both' | 'none';

/** A limiter's numbers that the `RateLimit-Policy` field shows. */
interface Quota {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/**
 * Returns `policy` serialised as an RFC 8941 sf-string (`"name"`, with `\` and `"` escaped).
 * @throws {TypeError} when `policy` is not a non-empty string of printable ASCII.
 */
export function policyString(policy: unknown): string {
  if (typeof policy !== 'string' || !/^[\x20-\x7e]+$/.test(policy)) {
    throw invalid('policy', 'a non-empty string of printable ASCII (an RFC 8941 sf-string)', policy);
  }
  return `"${policy.replace(/[\\"]/g, '\\$&')}"`;
}

function seconds(ms: number): number {
  return Math.ceil(ms / 1000);
}

/**
 * Returns the header fields for a decision, with `policy` already an sf-string. Numbers are
 * exact for a token bucket: remaining floored, times rounded up; `Retry-After` (at least 1 s)
 * only on a refusal that can pass later.
 */
export function rateLimitHeaders(decision: Decision, quota: Quota, set: HeaderSet, policy: string): Record<string, string> {
  const headers: Record<string, string> = {};
  const remaining = Math.floor(decision.remaining);
  const resetSeconds = seconds(decision.resetAfterMs);
  const limit = Math.floor(decision.limit);
  if (set === 'draft' || set === 'both') {
    const windowSeconds = quota.refillPerSecond > 0 ? `;w=${seconds((quota.capacity / quota.refillPerSecond) * 1000)}` : '';
    headers['RateLimit-Policy'] = `${policy};q=${limit}${windowSeconds}`;
    headers.RateLimit = `${policy};r=${remaining}${Number.isFinite(resetSeconds) ? `;t=${resetSeconds}` : ''}`;
  }
  if (set === 'legacy' || set === 'both') {
    headers['X-RateLimit-Limit'] = String(limit);
    headers['X-RateLimit-Remaining'] = String(remaining);
    if (Number.isFinite(resetSeconds)) headers['X-RateLimit-Reset'] = String(resetSeconds);
  }
  if (!decision.granted && Number.isFinite(decision.retryAfterMs)) headers['Retry-After'] = String(Math.max(1, seconds(decision.retryAfterMs)));
  return headers;
}

/**
 * Returns the value of field `name` once `value` is added to what the response holds
 * already (`existing`): a list member appended to `RateLimit` and `RateLimit-Policy`,
 * the longer wait for `Retry-After`, and `value` for the others (legacy fields hold one
 * policy: the last guard's).
 */
export function mergedHeader(name: string, existing: unknown, value: string): string {
  if (existing === undefined || existing === null || existing === '') return value;
  const before = Array.isArray(existing) ? existing.join(', ') : String(existing);
  const lower = name.toLowerCase();
  if (lower === 'ratelimit' || lower === 'ratelimit-policy') return `${before}, ${value}`;
  if (lower === 'retry-after') return Number(before) > Number(value) ? before : value;
  return value;
}
