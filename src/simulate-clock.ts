import type { Clock } from './clock.js';

/** One timer armed on a VirtualClock. */
interface VirtualTimer {
  readonly dueMs: number;
  /** Arming order, so that timers due at the same instant fire first-armed first. */
  readonly order: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** Returns whether timer `a` fires before timer `b`. */
function before(a: VirtualTimer, b: VirtualTimer): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.order < b.order);
}

/**
 * VirtualClock is the time of a replay: `now()` returns `nowMs`, which the replay sets
 * before each event, and timers wait in a small binary heap until the replay fires them
 * with `fireUntil`. Reading it costs one property load, so the limiter's own clock read
 * adds nothing measurable to a replayed decision.
 * @example
 * ```ts
 * const clock = new VirtualClock();
 * const limiter = new KeyedLimiter({ capacity: 5, refillPerSecond: 1, clock });
 * clock.nowMs = 1_000;
 * limiter.tryAcquire('a');
 * ```
 */
export class VirtualClock implements Clock {
  /** The current time in milliseconds; set it forward only. */
  nowMs = 0;
  readonly #heap: VirtualTimer[] = [];
  #armed = 0;

  /** Returns `nowMs`. */
  now(): number {
    return this.nowMs;
  }

  /** Arms a timer for `nowMs + ms`; it fires when the replay reaches that instant. */
  setTimeout(callback: () => void, ms: number): unknown {
    const timer: VirtualTimer = { dueMs: this.nowMs + ms, order: this.#armed++, callback, cancelled: false };
    const heap = this.#heap;
    let index = heap.push(timer) - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(timer, heap[parent]!)) break;
      heap[index] = heap[parent]!;
      index = parent;
    }
    heap[index] = timer;
    return timer;
  }

  /** Cancels a timer; it stays in the heap, skipped when it comes up. */
  clearTimeout(handle: unknown): void {
    (handle as VirtualTimer).cancelled = true;
  }

  /** The instant the next live timer is due; Infinity when none is armed. */
  get nextDueMs(): number {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0]!.cancelled) this.#pop();
    return heap.length > 0 ? heap[0]!.dueMs : Infinity;
  }

  /**
   * Fires the earliest timer due at or before `untilMs`, with `nowMs` set to its due
   * time (never back). Returns whether one fired; call again until false.
   */
  fireNext(untilMs: number): boolean {
    const dueMs = this.nextDueMs;
    if (dueMs > untilMs || dueMs === Infinity) return false;
    const timer = this.#pop();
    if (dueMs > this.nowMs) this.nowMs = dueMs;
    timer.callback();
    return true;
  }

  /** Removes and returns the earliest timer (the heap must not be empty). */
  #pop(): VirtualTimer {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const child = left + 1 < heap.length && before(heap[left + 1]!, heap[left]!) ? left + 1 : left;
      if (!before(heap[child]!, last)) break;
      heap[index] = heap[child]!;
      index = child;
    }
    heap[index] = last;
    return top;
  }
}
