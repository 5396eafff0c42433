import { RedisDataError } from './redis-data-error.js';
import type { LuaScript } from './redis-transport.js';

/**
 * Lua that reads the bucket at `key` (with `capacity`, `rate`, their texts `capacityText`
 * and `rateText`, and `time`, TIME's reply, in scope) into `tokens` (refilled up to now,
 * at most `capacity`), `state` (the stored string, or false), and `otherCapacity` and
 * `otherRate`: the settings (as text) of another limiter on this key that wrote the state
 * (nil when none). A key that is not a bucket (WRONGTYPE, or a string not written by this script)
 * ends the script with the reply { 3, why }: a fault of that key's data, not of Redis.
 */
const READ_BUCKET = `
local tokens = capacity
local otherCapacity, otherRate
local state = redis.pcall('GET', key)
if state then
  if type(state) == 'table' then return { 3, state.err, key } end
  local stored, seconds, micros, writerCapacity, writerRate = string.match(state, '^(%S+) (%d+) (%d+) ?(%S*) ?(%S*)$')
  stored = tonumber(stored)
  if not stored then return { 3, 'not a string this script wrote', key } end
  tokens = stored + ((time[1] - seconds) * 1000000 + (time[2] - micros)) * rate / 1000000
  if tokens < stored then tokens = stored end
  if tokens > capacity then tokens = capacity end
  if writerCapacity ~= '' and (writerCapacity ~= capacityText or writerRate ~= rateText) then
    otherCapacity, otherRate = writerCapacity, writerRate
  end
end`;

/**
 * Lua that stores `tokens` at `key` and sets `text` to the tokens in %.17g. The state
 * lives until the bucket is full again for this limiter, or for the other limiter that wrote it when that is later
 * (its settings are kept in the state then), so a limiter with other settings on the
 * prefix never erases nor shortens what another one spent; a bucket full for both is
 * deleted.
 */
const WRITE_BUCKET = `
local text = string.format('%.17g', tokens)
local toFullMs = tokens >= capacity and 0 or rate > 0 and (capacity - tokens) * 1000 / rate or 1e15
if otherCapacity then
  local other, otherPerSecond = tonumber(otherCapacity), tonumber(otherRate)
  if other and otherPerSecond and tokens < other then
    local otherToFullMs = otherPerSecond > 0 and (other - tokens) * 1000 / otherPerSecond or 1e15
    if otherToFullMs > toFullMs then toFullMs, capacityText, rateText = otherToFullMs, otherCapacity, otherRate end
  end
end
if toFullMs == 0 then
  if state then redis.call('DEL', key) end
else
  local value = text .. ' ' .. time[1] .. ' ' .. time[2] .. ' ' .. capacityText .. ' ' .. rateText
  if toFullMs < 1e15 then
    redis.call('SET', key, value, 'PXAT', math.ceil(time[1] * 1000 + time[2] / 1000 + toFullMs))
  else
    redis.call('SET', key, value)
  end
end`;

/**
 * The one Lua script behind every Redis decision of one key. It runs atomically on one
 * key (so it is safe on Redis Cluster), reads the time from the Redis server (`TIME`),
 * never from the app servers, and keeps only buckets that are not full: a full bucket is
 * no key.
 *
 * KEYS[1]: the bucket. ARGV: operation, capacity, refillPerSecond, cost, and for
 * `reserve` the longest wait in milliseconds (-1: no limit).
 * State: the string "<tokens> <seconds> <microseconds> <capacity> <refillPerSecond>":
 * the tokens (negative while reservations are owed) at that server instant, as TIME gave
 * it, and the settings the expiry was computed for. It expires (PXAT, on the same server
 * clock) at the first whole millisecond at or after the instant the bucket is full again
 * for those settings: the writer's, or those of the limiter that wrote before when its
 * bucket is full later (settings that differ on one prefix, as in a rolling deploy). Since
 * Redis drops a key only once its clock has passed that millisecond, a key is never gone
 * before its bucket is full, so an expiry never changes a decision. A fixed quota
 * (refillPerSecond 0), or one that would take over 1e15 ms to refill, never expires. States
 * of the earlier form "<tokens> <seconds> <microseconds>" are read too. Needs Redis 6.2 or later.
 *
 * Operations:
 * - take: take `cost` tokens if they are there (within a few ulps, as in memory);
 * - reserve: the same, and when they are not there, take them anyway (going into debt)
 *   if the wait for them, (cost - tokens) / rate, is within the limit;
 * - refund: give `cost` tokens back, never above the capacity;
 * - charge: take `cost` tokens whatever the bucket holds (what a process granted on its
 *   own while this Redis was away);
 * - peek: change nothing.
 * Reply: one string, the outcome's digit then the tokens after it in `%.17g` (so that
 * they cross exactly; a Lua number reply would be truncated to an integer): outcome 0
 * refused (nothing changed), 1 granted now, 2 granted after a wait of -tokens / rate. When
 * the key holds something else: the table { 3, why, key }. Everything else a caller needs
 * (waits, time to full) follows from the tokens, the cost and the limits, in JavaScript.
 *
 * Written for speed, since Redis runs it for every decision of every process: no closures,
 * three Redis calls at most (TIME, GET, SET or DEL), and a reply that is one string (a
 * table reply cost Redis about a third more per decision, measured).
 */
export const DECIDE_SCRIPT = `
local key = KEYS[1]
local capacityText, rateText = ARGV[2], ARGV[3]
local capacity = tonumber(capacityText)
local rate = tonumber(rateText)
local cost = tonumber(ARGV[4])
local time = redis.call('TIME')${READ_BUCKET}
local op = ARGV[1]
local outcome = '1'
if op == 'peek' then
  return '0' .. string.format('%.17g', tokens)
elseif op == 'refund' then
  tokens = tokens + cost
  if tokens > capacity then tokens = capacity end
elseif op == 'charge' then
  tokens = tokens - cost
elseif tokens + (capacity + (tokens < 0 and -tokens or tokens) + cost) * 3.5e-15 >= cost then
  tokens = tokens - cost
elseif op == 'reserve' and rate > 0 and (ARGV[5] == '-1' or (cost - tokens) * 1000 / rate <= tonumber(ARGV[5])) then
  tokens = tokens - cost
  outcome = '2'
else
  return '0' .. string.format('%.17g', tokens)
end${WRITE_BUCKET}
return outcome .. text
`;

/**
 * The script that decides several buckets at once, all or nothing: KEYS are the buckets
 * (in a cluster, of one hash slot); ARGV: the operation (`take`, `refund` or `peek`),
 * then capacity, refillPerSecond and cost of each bucket in turn. `take` takes every cost
 * when every bucket holds it, else nothing. Reply: {outcome, tokens of each bucket after}
 * (outcome 0 refused, 1 granted, 3 a key holds something else); the same state and expiry
 * rules as DECIDE_SCRIPT, whose buckets these are.
 */
export const DECIDE_ALL_SCRIPT = `
local time = redis.call('TIME')
local op = ARGV[1]
local count = #KEYS
local levels = {}
local reply = { 1 }
for index = 1, count do
  local key = KEYS[index]
  local capacityText, rateText = ARGV[index * 3 - 1], ARGV[index * 3]
  local capacity = tonumber(capacityText)
  local rate = tonumber(rateText)
  local cost = tonumber(ARGV[index * 3 + 1])${READ_BUCKET}
  levels[index] = { tokens, state, otherCapacity, otherRate }
  if op == 'take' and tokens + (capacity + (tokens < 0 and -tokens or tokens) + cost) * 3.5e-15 < cost then reply[1] = 0 end
  reply[index + 1] = string.format('%.17g', tokens)
end
if op == 'peek' or reply[1] == 0 then
  if op == 'peek' then reply[1] = 0 end
  return reply
end
for index = 1, count do
  local key = KEYS[index]
  local capacityText, rateText = ARGV[index * 3 - 1], ARGV[index * 3]
  local capacity = tonumber(capacityText)
  local rate = tonumber(rateText)
  local cost = tonumber(ARGV[index * 3 + 1])
  local level = levels[index]
  local tokens, state, otherCapacity, otherRate = level[1], level[2], level[3], level[4]
  if op == 'take' then tokens = tokens - cost else tokens = tokens + cost end
  if tokens > capacity then tokens = capacity end${WRITE_BUCKET}
  reply[index + 1] = text
end
return reply
`;

/** SHA-1 of DECIDE_SCRIPT, for EVALSHA; a test checks it against the script. */
export const DECIDE_SCRIPT_SHA1 = 'f5d6eaf8ff4c9cacc3107a0ef021d5e4ea270b88';

/** SHA-1 of DECIDE_ALL_SCRIPT; a test checks it against the script. */
export const DECIDE_ALL_SCRIPT_SHA1 = '69093dff664bf034fd9e1ed6df017176caba0b19';

/** The decision script, as the transport runs it: a reply starting 1 or 2 granted tokens. */
export const DECIDE: LuaScript = {
  source: DECIDE_SCRIPT,
  sha1: DECIDE_SCRIPT_SHA1,
  granted: (reply) => typeof reply === 'string' && (reply.charCodeAt(0) === 49 || reply.charCodeAt(0) === 50),
};

/** The all-or-nothing script of several buckets, as the transport runs it: a reply { 1, … } granted tokens. */
export const DECIDE_ALL: LuaScript = {
  source: DECIDE_ALL_SCRIPT,
  sha1: DECIDE_ALL_SCRIPT_SHA1,
  granted: (reply) => Array.isArray(reply) && Number(reply[0]) === 1,
};

/** What one call of the script does to its bucket. */
export type Operation = 'take' | 'reserve' | 'refund' | 'charge' | 'peek';

/** What the script decided: refused, granted now, granted after a wait (a reservation), or that the key holds no bucket. */
export const enum Outcome {
  Refused = 0,
  Granted = 1,
  Reserved = 2,
  NotABucket = 3,
}

/** The script's reply, read: the outcome and the bucket's tokens after it (negative while reservations are owed). */
export type Reply = readonly [outcome: Outcome, tokens: number];

/**
 * Returns the milliseconds until a bucket of `capacity` refilling `refillPerSecond` that
 * holds `tokens` holds `cost`: the script's own test, within a few ulps. 0 means now;
 * Infinity when nothing refills.
 */
export function waitMs(tokens: number, cost: number, capacity: number, refillPerSecond: number): number {
  if (tokens + (capacity + Math.abs(tokens) + cost) * 3.5e-15 >= cost) return 0;
  return ((cost - tokens) * 1000) / refillPerSecond;
}

/** The tokens a reply gives as text; NaN when there are none. */
export function tokensOf(figure: unknown): number {
  const text = String(figure);
  return text === '' ? Number.NaN : Number(text);
}

/**
 * Reads the script's reply about the Redis key `key`.
 * @throws {RedisDataError} when the script found no bucket at `key`.
 * @throws {TypeError} when the reply is not one of the script's.
 */
export function readReply(reply: unknown, key: string): Reply {
  if (typeof reply === 'string' && reply.length > 1) {
    const outcome = reply.charCodeAt(0) - 48;
    const tokens = Number(reply.slice(1));
    if ((outcome === 0 || outcome === 1 || outcome === 2) && !Number.isNaN(tokens)) return [outcome, tokens];
  }
  if (Array.isArray(reply) && Number(reply[0]) === Outcome.NotABucket) throw new RedisDataError(key, String(reply[1]));
  throw new TypeError(`Unexpected reply from the Redis script: ${String(reply)}`);
}
