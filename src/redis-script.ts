import type { LuaScript } from './redis-transport.js';

/**
 * The one Lua script behind every Redis decision. It runs atomically on one key (so it
 * is safe on Redis Cluster), reads the time from the Redis server (`TIME`), never from
 * the app servers, and keeps only buckets that are not full: a full bucket is no key.
 *
 * KEYS[1]: the bucket. ARGV: operation, capacity, refillPerSecond, cost, and for
 * `reserve` the longest wait in milliseconds (-1: no limit).
 * State: the string "<tokens> <seconds> <microseconds>": the tokens (negative while
 * reservations are owed) at that server instant, as TIME gave it. It expires (PXAT, on
 * the same server clock) at the first whole millisecond at or after the instant the bucket
 * is full again; since Redis drops a key only once its clock has passed that millisecond,
 * a key is never gone before its bucket is full, so an expiry never changes a decision. A
 * fixed quota (refillPerSecond 0), or one that would take over 1e15 ms to refill, never
 * expires. Needs Redis 6.2 or later (PXAT).
 *
 * Operations:
 * - take: take `cost` tokens if they are there (within a few ulps, as in memory);
 * - reserve: the same, and when they are not there, take them anyway (going into debt)
 *   if the wait for them, (cost - tokens) / rate, is within the limit;
 * - refund: give `cost` tokens back, never above the capacity;
 * - peek: change nothing.
 * Reply: {outcome, tokens after}: outcome 0 refused (nothing changed), 1 granted now,
 * 2 granted after a wait of -tokens / rate; the tokens in `%.17g`, so that they cross
 * exactly (a Lua number reply would be truncated to an integer), followed by the rest of
 * the state when it was written. Everything else a caller needs (waits, time to full)
 * follows from the tokens, the cost and the limits, in JavaScript.
 *
 * Written for speed, since Redis runs it for every decision of every process: no closures,
 * three Redis calls at most (TIME, GET, SET or DEL), one number formatted per decision
 * (the time is kept as TIME's own strings).
 */
export const DECIDE_SCRIPT = `
local capacity = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local time = redis.call('TIME')
local tokens = capacity
local state = redis.call('GET', KEYS[1])
if state then
  local stored, seconds, micros = string.match(state, '^(%S+) (%d+) (%d+)$')
  local elapsed = (time[1] - seconds) * 1000000 + (time[2] - micros)
  if elapsed < 0 then elapsed = 0 end
  tokens = stored + elapsed * rate / 1000000
  if tokens > capacity then tokens = capacity end
end
local op = ARGV[1]
local outcome = 1
if op == 'peek' then
  return { 0, string.format('%.17g', tokens) }
elseif op == 'refund' then
  tokens = tokens + cost
  if tokens > capacity then tokens = capacity end
elseif tokens + (capacity + (tokens < 0 and -tokens or tokens) + cost) * 3.5e-15 >= cost then
  tokens = tokens - cost
elseif op == 'reserve' and rate > 0 and (ARGV[5] == '-1' or (cost - tokens) * 1000 / rate <= tonumber(ARGV[5])) then
  tokens = tokens - cost
  outcome = 2
else
  return { 0, string.format('%.17g', tokens) }
end
if tokens >= capacity then
  if state then redis.call('DEL', KEYS[1]) end
  return { outcome, string.format('%.17g', tokens) }
end
local value = string.format('%.17g', tokens) .. ' ' .. time[1] .. ' ' .. time[2]
local toFullMs = rate > 0 and (capacity - tokens) * 1000 / rate or 1e15
if toFullMs < 1e15 then
  redis.call('SET', KEYS[1], value, 'PXAT', math.ceil(time[1] * 1000 + time[2] / 1000 + toFullMs))
else
  redis.call('SET', KEYS[1], value)
end
return { outcome, value }
`;

/** SHA-1 of DECIDE_SCRIPT, for EVALSHA; a test checks it against the script. */
export const DECIDE_SCRIPT_SHA1 = '5dfe49d2a4167855fa4e281e8d4467e283f3c08f';

/** The decision script, as the transport runs it. */
export const DECIDE: LuaScript = { source: DECIDE_SCRIPT, sha1: DECIDE_SCRIPT_SHA1 };

/** What one call of the script does to its bucket. */
export type Operation = 'take' | 'reserve' | 'refund' | 'peek';

/** What the script decided: refused, granted now, or granted after a wait (a reservation). */
export const enum Outcome {
  Refused = 0,
  Granted = 1,
  Reserved = 2,
}

/** The script's reply, read: the outcome and the bucket's tokens after it (negative while reservations are owed). */
export type Reply = readonly [outcome: Outcome, tokens: number];

/** Reads the script's reply; throws a TypeError when it is not one. */
export function readReply(reply: unknown): Reply {
  if (Array.isArray(reply) && reply.length === 2) {
    const outcome = Number(reply[0]);
    // The tokens, and after a write the rest of the stored state: "<tokens> <seconds> <microseconds>".
    const text = String(reply[1]);
    const space = text.indexOf(' ');
    const tokens = Number(space === -1 ? text : text.slice(0, space));
    if ((outcome === 0 || outcome === 1 || outcome === 2) && text !== '' && !Number.isNaN(tokens)) return [outcome, tokens];
  }
  throw new TypeError(`Unexpected reply from the Redis script: ${String(reply)}`);
}
