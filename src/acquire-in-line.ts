import { ENLIST, type Enlisting, type Part, type Party } from './enlist.js';
import { RateLimitError } from './errors.js';

/** One place to take: a limiter that can enlist, the key (undefined for one bucket) and the tokens. */
export interface LinePlace {
  readonly limiter: Enlisting;
  readonly key: string | undefined;
  readonly cost: number;
}

/** Returns whether `limiter` can wait in line for `acquireAll` (TokenBucket, KeyedLimiter). */
export function canEnlist(limiter: unknown): limiter is Enlisting {
  return typeof (limiter as Partial<Enlisting> | null)?.[ENLIST] === 'function';
}

/**
 * Waits in the lines of every limiter at once and takes all the places together, when
 * every one can be served: a caller of `acquireAll`. It holds its place in each line from
 * the call on, so refunds, charges, pauses and reconfiguration reach it as they reach
 * `acquire`; it is first-in first-out in each line, and places taken at one call keep one
 * order across lines, so that no two callers can wait on each other (no deadlock) and a
 * caller at the head of a line blocks the callers behind it there (no starvation).
 * Places on the same limiter and key are taken as one (else the second would wait behind
 * the first forever). Rejects, taking nothing, with a RateLimitError when the planned wait
 * exceeds `maxWaitMs` or can never end, with `signal.reason` when aborted, and with what a
 * limiter rejects its own callers with (a bad cost, a cost above the capacity, `abortAll`).
 */
export function acquireInLine(places: readonly LinePlace[], signal: AbortSignal | undefined, maxWaitMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const merged = merge(places);
    if (merged.length === 0) return resolve();
    const parts: Part[] = [];
    let finished = false;
    const finish = (): boolean => {
      if (finished) return false;
      finished = true;
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (reason: unknown): void => {
      if (!finish()) return;
      for (const part of parts) part.cancel();
      reject(reason);
    };
    const onAbort = (): void => fail(signal!.reason);
    const party: Party = {
      ready(entry) {
        if (finished || parts.length < merged.length || !parts.every((part) => part.isReady())) return false;
        for (const part of parts) part.commit();
        finish();
        // The line of `entry` is being served already; the others are served now.
        for (const part of parts) if (part.entry !== entry) part.settle();
        resolve();
        return true;
      },
    };
    try {
      for (const place of merged) parts.push(place.limiter[ENLIST](place.key, place.cost, party, fail));
    } catch (error) {
      return fail(error);
    }
    const waitMs = Math.max(0, ...parts.map((part) => part.waitMs));
    if (waitMs > maxWaitMs || waitMs === Infinity) {
      for (const part of parts) if (part.waitMs > maxWaitMs || part.waitMs === Infinity) part.deny(part.waitMs);
      return fail(new RateLimitError(waitMs));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    for (const part of parts) {
      if (finished) break;
      part.settle();
    }
  });
}

/** Returns `places` with those on the same limiter and key taken as one, their costs added, in first-seen order. */
function merge(places: readonly LinePlace[]): LinePlace[] {
  const merged: LinePlace[] = [];
  for (const place of places) {
    const index = merged.findIndex((other) => other.limiter === place.limiter && other.key === place.key);
    if (index < 0) merged.push(place);
    else merged[index] = { ...merged[index]!, cost: merged[index]!.cost + place.cost };
  }
  return merged;
}
