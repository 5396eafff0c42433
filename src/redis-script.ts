/**
 * The one Lua script behind every Redis decision. It runs atomically on one key (so it
 * is safe on Redis Cluster), reads the time from the Redis server (`TIME`), never from
 * the app servers, and keeps only buckets that are not full: a full bucket is no key.
 *
 * KEYS[1]: the bucket. ARGV: operation, capacity, refillPerSecond, cost, and for
 * `reserve` the longest wait in milliseconds (-1: no limit).
 * State: the string "<tokens> <microseconds>" — tokens (negative while reservations are
 * owed) at that server instant. It expires 1 ms after the instant the bucket is full again,
 * so that an expiry never changes a decision (the margin covers the script's own run time:
 * Redis takes the expiry's base from the script's start).
 *
 * Operations, each replying {granted (0/1), tokens after, wait ms, ms until full}, the
 * numbers as strings in `%.17g` so that they cross exactly (a Lua number reply would be
 * truncated to an integer); -1 stands for "never":
 * - take: take `cost` tokens if they are there;
 * - reserve: take them, going into debt when they are not, if the wait for them is within
 *   the limit; the wait is how long the caller sleeps before acting;
 * - refund: give `cost` tokens back, never above the capacity;
 * - peek: change nothing.
 */
export const DECIDE_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local op = ARGV[1]
local capacity = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tokens = capacity
local state = redis.call('GET', KEYS[1])
if state then
  local stored, at = string.match(state, '^(%S+) (%S+)$')
  local elapsed = now - tonumber(at)
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(capacity, tonumber(stored) + elapsed * rate / 1000000)
end
local function fmt(x) return string.format('%.17g', x) end
local function msUntil(n)
  if tokens + (capacity + math.abs(tokens) + n) * 3.5e-15 >= n then return 0 end
  if rate == 0 then return -1 end
  return (n - tokens) * 1000 / rate
end
local function save()
  if tokens >= capacity then
    redis.call('DEL', KEYS[1])
    return
  end
  local value = fmt(tokens) .. ' ' .. fmt(now)
  local ttl = rate > 0 and math.ceil((capacity - tokens) * 1000 / rate) + 1 or 0
  if ttl > 0 and ttl < 1e15 then
    redis.call('SET', KEYS[1], value, 'PX', fmt(ttl))
  else
    redis.call('SET', KEYS[1], value)
  end
end
local function reply(granted, waitMs)
  local full = 0
  if tokens < capacity then full = rate > 0 and (capacity - tokens) * 1000 / rate or -1 end
  return { granted, fmt(tokens), fmt(waitMs), fmt(full) }
end
if op == 'peek' then return reply(0, msUntil(cost)) end
if op == 'refund' then
  tokens = math.min(capacity, tokens + cost)
  save()
  return reply(1, 0)
end
local waitMs = msUntil(cost)
if waitMs == 0 then
  tokens = tokens - cost
  save()
  return reply(1, 0)
end
local maxWaitMs = tonumber(ARGV[5])
if op ~= 'reserve' or waitMs < 0 or (maxWaitMs >= 0 and waitMs > maxWaitMs) then return reply(0, waitMs) end
tokens = tokens - cost
save()
return reply(1, waitMs)
`;

/** SHA-1 of DECIDE_SCRIPT, for EVALSHA; a test checks it against the script. */
export const DECIDE_SCRIPT_SHA1 = '2ac4b6454de0144de88e0f984770b2cba5494616';
