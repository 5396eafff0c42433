import { acquireInLine, canEnlist } from './acquire-in-line.js';
import { TAKE_ALL, type TakingAll, takesAll } from './take-all.js';
import { type Clock, checkClock } from './clock.js';
import { RateLimitError } from './errors.js';
import { checkLimits, type Limit } from './limit.js';
import type { AcquireOptions, Reservation } from './limit-options.js';
import { sleep } from './sleep.js';
import { finiteNumber } from './validate.js';

/**
 * Options of `acquireAll`.
 * @example
 * ```ts
 * await acquireAll(limits, { maxWaitMs: 10_000, signal: request.signal });
 * ```
 */
export interface AcquireAllOptions extends AcquireOptions {
  /** The clock to wait on. @default the clock of the first limit's limiter (so fake time works), else defaultClock */
  readonly clock?: Clock | undefined;
}

/**
 * Takes several limits all-or-nothing: an API's requests-per-minute and tokens-per-minute
 * together, or a per-user and a global limit. With TokenBucket and KeyedLimiter limits the
 * caller waits in line in each of them, as `acquire` does, from the call on: a refund, a
 * charge, a pause, `setRate` or `setCapacity` reaches it at once; it is served when every
 * limit can serve it, and takes all its tokens at that one instant; first-in first-out
 * holds in every line (callers never wait on each other in a cycle); it is counted in each
 * limiter's `stats()` and `queued`, heard by its `onDeny`, and rejected by its `abortAll`.
 * Two limits on the same limiter and key are taken as one. Other limiters (any with
 * `reserve` and `refund`) are taken by reservation instead, a commitment made at the call.
 * If the wait would exceed `maxWaitMs` or can never end, nothing is taken and it rejects
 * with a RateLimitError. An abort gives every place back and rejects with `signal.reason`.
 * An empty list resolves at once. Never throws synchronously: a malformed list rejects
 * with a TypeError naming the entry (``limits[1]``) and the expected shape.
 * @example
 * ```ts
 * await acquireAll([[requestsPerMinute, 1], [tokensPerMinute, 1_500]]);
 * ```
 */
export async function acquireAll(limits: readonly Limit[] | readonly (readonly [TakingAll, string, number])[], options: AcquireAllOptions = {}): Promise<void> {
  if (Array.isArray(limits) && takesAll(limits)) return acquireTakingAll(limits, options);
  checkLimits('limits', limits, ['reserve', 'refund']);
  const { signal, maxWaitMs = Infinity, clock: givenClock } = options;
  if (maxWaitMs !== Infinity) finiteNumber('maxWaitMs', maxWaitMs, 0);
  const clock = checkClock(givenClock ?? (limits as readonly Limit[])[0]?.[0].clock);
  signal?.throwIfAborted();
  if (limits.length !== 0 && limits.every((limit) => canEnlist(limit[0]))) {
    const places = (limits as readonly Limit[]).map((limit) => (limit.length === 3 ? { limiter: limit[0], key: limit[1], cost: limit[2] } : { limiter: limit[0], key: undefined, cost: limit[1] }));
    // Every limiter was checked by canEnlist just above.
    return acquireInLine(places as never, signal, maxWaitMs);
  }
  const reservations: Reservation[] = [];
  const reserving = limits as readonly Limit[];
  // Gives every place back; one whose instant has passed (it was granted at once, or
  // before the latest) is refunded, since this caller never acted on it.
  const cancelAll = () => {
    reservations.forEach((reservation, index) => {
      if (reservation.cancel()) return;
      const limit = reserving[index]!;
      if (limit.length === 3) limit[0].refund(limit[1], limit[2]);
      else limit[0].refund(limit[1]);
    });
  };
  let delayMs = 0;
  try {
    for (const limit of reserving) {
      const reservation = limit.length === 3 ? limit[0].reserve(limit[1], limit[2]) : limit[0].reserve(limit[1]);
      reservations.push(reservation);
      delayMs = Math.max(delayMs, reservation.delayMs);
    }
  } catch (error) {
    cancelAll();
    throw error;
  }
  if (delayMs > maxWaitMs) {
    cancelAll();
    throw new RateLimitError(delayMs);
  }
  if (delayMs === 0) return;
  try {
    // Whole milliseconds, rounded up: it must not wake before the latest reservation.
    await sleep(clock, delayMs, signal);
  } catch (error) {
    cancelAll();
    throw error;
  }
}

/**
 * `acquireAll` over RedisKeyedLimiter limits on one client: one script call decides every
 * bucket, all or nothing; refused, it sleeps until all could serve and asks again. Not
 * first-in first-out across callers (each asks Redis afresh), but never partial.
 */
async function acquireTakingAll(limits: readonly (readonly [TakingAll, string, number])[], options: AcquireAllOptions): Promise<void> {
  const { signal, maxWaitMs = Infinity, clock: givenClock } = options;
  if (maxWaitMs !== Infinity) finiteNumber('maxWaitMs', maxWaitMs, 0);
  const clock = checkClock(givenClock ?? limits[0]![0].clock);
  let waitedMs = 0;
  for (;;) {
    signal?.throwIfAborted();
    const { granted, retryAfterMs } = await limits[0]![0][TAKE_ALL](limits);
    if (granted) return;
    if (retryAfterMs === Infinity || waitedMs + retryAfterMs > maxWaitMs) throw new RateLimitError(retryAfterMs);
    await sleep(clock, retryAfterMs, signal);
    waitedMs += retryAfterMs;
  }
}
