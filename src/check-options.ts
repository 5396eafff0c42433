import { RateLimitError } from './errors.js';
import { checkKnownOptions } from './known-options.js';
import type { AcquireOptions, Denial, LimitOptions } from './limit-options.js';
import { MILLI, type MilliTokens } from './refill.js';
import { aboveCapacity, finiteNumber, invalid } from './validate.js';

/**
 * Largest capacity, and largest amount one `refund` or `charge` moves, in tokens. With the
 * rate's bound it keeps every level, wait and product of the arithmetic finite and exact
 * to far below a token: 1e12 tokens are 1e15 milli-tokens, within a float64's 2^53.
 */
export const MAX_TOKENS = 1e12;

/** Largest refill rate, in tokens per second (a billion: bytes of a 8 Gbit/s link). */
export const MAX_REFILL_PER_SECOND = 1e9;

const ACQUIRE_OPTIONS = ['signal', 'maxWaitMs'] as const;

/** Checks the `signal` and `maxWaitMs` of acquire options, and that it has no others; throws on bad input. */
export function checkAcquireOptions(options: AcquireOptions): void {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
  checkKnownOptions(options, ACQUIRE_OPTIONS);
  const { signal, maxWaitMs = Infinity } = options;
  if (signal !== undefined && (typeof signal !== 'object' || signal === null || typeof signal.addEventListener !== 'function')) {
    throw invalid('signal', 'an AbortSignal', signal);
  }
  if (maxWaitMs !== Infinity) finiteNumber('maxWaitMs', maxWaitMs, 0);
}

/** Returns `onDeny` when it is a function or undefined; throws a TypeError otherwise. */
export function checkOnDeny(onDeny: unknown): ((denial: Denial) => void) | undefined {
  if (onDeny === undefined || typeof onDeny === 'function') return onDeny as ((denial: Denial) => void) | undefined;
  throw invalid('onDeny', 'a function', onDeny);
}

/** Returns `amount` tokens in milli-tokens when it is a finite number from 0 to MAX_TOKENS; throws otherwise. */
export function checkAmount(name: string, amount: unknown): MilliTokens {
  return finiteNumber(name, amount, 0, MAX_TOKENS) * MILLI;
}

/**
 * Returns `cost` in milli-tokens when it is a finite number >= 0; throws a TypeError or
 * RangeError. A cost above the capacity is not an error here (tryAcquire refuses it); one
 * so large that it overflows in milli-tokens is Infinity, which no bucket covers.
 */
export function checkCost(cost: unknown): MilliTokens {
  if (typeof cost === 'number' && cost >= 0 && cost !== Infinity) return cost * MILLI;
  return finiteNumber('cost', cost, 0);
}

/** A settled promise shared by every `acquire` that needs no wait. */
export const granted: Promise<void> = /* @__PURE__ */ Promise.resolve();

/** Why an `acquire` is refused before it may wait: bad input, an aborted signal, a cost above the capacity. */
export interface Refusal {
  readonly refusal: unknown;
}

/**
 * Checks what every `acquire` checks before it may wait, and returns the milli-tokens
 * wanted, or the reason to refuse at once. Allocates nothing when the call is admitted
 * (acquire's fast path runs millions of times a second); the checked signal and
 * `maxWaitMs` are then `options?.signal` and `options?.maxWaitMs ?? Infinity`.
 */
export function admit(cost: unknown, options: AcquireOptions | undefined, capacity: number): MilliTokens | Refusal {
  try {
    const need = checkCost(cost);
    if (options !== undefined) {
      checkAcquireOptions(options);
      if (options.signal?.aborted) return { refusal: options.signal.reason };
    }
    if (need > capacity * MILLI) return { refusal: aboveCapacity(cost, capacity) };
    return need;
  } catch (error) {
    return { refusal: error };
  }
}

/** Returns the refusal for a wait of `waitMs` when it is over `maxWaitMs` or endless, else undefined. */
export function tooLong(waitMs: number, maxWaitMs: number): RateLimitError | undefined {
  return waitMs > maxWaitMs || waitMs === Infinity ? new RateLimitError(waitMs) : undefined;
}

/** Returns a checked `capacity`: a finite number > 0 and <= MAX_TOKENS. */
export function checkCapacity(capacity: unknown): number {
  return finiteNumber('capacity', capacity, 0, MAX_TOKENS, true);
}

/** Returns a checked `refillPerSecond`: a finite number from 0 to MAX_REFILL_PER_SECOND. */
export function checkRefillPerSecond(refillPerSecond: unknown): number {
  return finiteNumber('refillPerSecond', refillPerSecond, 0, MAX_REFILL_PER_SECOND);
}

/** Returns the checked capacity and refillPerSecond of limiter options that may have only the `known` names. */
export function checkLimitOptions(options: LimitOptions, known?: readonly string[]): [capacity: number, refillPerSecond: number] {
  if (typeof options !== 'object' || options === null) throw invalid('options', 'an object', options);
  if (known) checkKnownOptions(options, known);
  return [checkCapacity(options.capacity), checkRefillPerSecond(options.refillPerSecond)];
}
