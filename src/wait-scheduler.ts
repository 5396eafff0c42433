import type { MonotonicTime } from './monotonic-time.js';
import { covers, refillMs } from './refill.js';

/** Longest delay `setTimeout` accepts (about 24.8 days); longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One caller waiting in `acquire`. */
interface Waiter {
  readonly need: number;
  readonly resolve: () => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  prev: Waiter | undefined;
  next: Waiter | undefined;
}

/**
 * Lane is the waiting state of one bucket that has callers queued: the bucket's level
 * (milli-tokens, see refill.ts) and its first-in first-out line of waiters. Buckets
 * without waiters have no Lane, so waiting costs nothing to the keys that do not wait.
 */
export class Lane {
  readonly key: string;
  level: number;
  head: Waiter | undefined;
  tail: Waiter | undefined;
  /** Milli-tokens wanted by all waiters in line. */
  queued = 0;
  /** When the first waiter is due, on the monotonic time line. */
  dueMs = 0;
  /** Position in the scheduler's heap; -1 when not in it. */
  index = -1;

  constructor(key: string, level: number) {
    this.key = key;
    this.level = level;
  }
}

/**
 * WaitScheduler serves the lanes of one limiter with a single timer, armed for the lane
 * whose first waiter is due soonest (a binary heap ordered by due time), however many
 * callers and keys wait. Grants are exact: a waiter is charged at its ideal instant, so a
 * late timer delays the promise but never the callers behind it.
 */
export class WaitScheduler {
  readonly #time: MonotonicTime;
  readonly #release: (lane: Lane) => void;
  readonly #heap: Lane[] = [];
  #refillPerSecond: number;
  #timer: unknown;
  /** The due time the timer is armed for; NaN when no timer is armed. */
  #timerDueMs = NaN;

  /** `release` is called with a lane whose last waiter has left, to store its level back. */
  constructor(time: MonotonicTime, refillPerSecond: number, release: (lane: Lane) => void) {
    this.#time = time;
    this.#refillPerSecond = refillPerSecond;
    this.#release = release;
  }

  /** Returns the milliseconds until a new caller wanting `need` would be served in `lane`. */
  waitMs(lane: Lane, need: number, nowMs: number): number {
    return refillMs(lane.level + nowMs * this.#refillPerSecond, lane.queued + need, nowMs, this.#refillPerSecond);
  }

  /** Returns the milliseconds until the next grant to any lane: when a waiting bucket may next change. */
  nextGrantMs(nowMs: number): number {
    return Math.max(0, (this.#heap[0]?.dueMs ?? nowMs) - nowMs);
  }

  /** Puts a caller wanting `need` milli-tokens at the end of `lane`'s line. */
  enqueue(lane: Lane, need: number, signal: AbortSignal | undefined, nowMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { need, resolve, reject, signal, onAbort: undefined, prev: lane.tail, next: undefined };
      if (lane.tail) lane.tail.next = waiter;
      else lane.head = waiter;
      lane.tail = waiter;
      lane.queued += need;
      if (signal) {
        waiter.onAbort = () => this.#abort(lane, waiter);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      if (lane.head === waiter) this.serve(lane, nowMs);
    });
  }

  /**
   * Grants every waiter at the front of `lane` whose tokens have refilled by `nowMs`,
   * then reschedules the lane, or releases it when its line is empty.
   */
  serve(lane: Lane, nowMs: number): void {
    this.#serve(lane, nowMs);
    this.#arm(nowMs);
  }

  #serve(lane: Lane, nowMs: number): void {
    const rate = this.#refillPerSecond;
    let waiter = lane.head;
    // No clamp to capacity here: each waiter is charged as at its ideal instant, when the
    // level was exactly its cost (<= capacity); clamping at a late timer would lose refill.
    while (waiter && covers(lane.level + nowMs * rate, waiter.need, nowMs, rate)) {
      lane.level -= waiter.need;
      lane.queued -= waiter.need;
      this.#unlink(lane, waiter);
      waiter.resolve();
      waiter = lane.head;
    }
    if (waiter) {
      lane.dueMs = nowMs + refillMs(lane.level + nowMs * rate, waiter.need, nowMs, rate);
      this.#place(lane);
    } else {
      lane.queued = 0;
      this.#remove(lane);
      this.#release(lane);
    }
  }

  #abort(lane: Lane, waiter: Waiter): void {
    const wasFirst = lane.head === waiter;
    lane.queued -= waiter.need;
    this.#unlink(lane, waiter);
    waiter.reject(waiter.signal!.reason);
    // The tokens saved up for an aborted first waiter stay in the bucket for the next one.
    if (wasFirst) this.serve(lane, this.#time.now());
  }

  #unlink(lane: Lane, waiter: Waiter): void {
    if (waiter.prev) waiter.prev.next = waiter.next;
    else lane.head = waiter.next;
    if (waiter.next) waiter.next.prev = waiter.prev;
    else lane.tail = waiter.prev;
    if (waiter.onAbort) waiter.signal!.removeEventListener('abort', waiter.onAbort);
  }

  #onTimer = (): void => {
    this.#timerDueMs = NaN;
    const nowMs = this.#time.now();
    // Serve every lane due within the next millisecond: serve() grants only what the
    // tokens cover and re-places the rest at their exact due time.
    const reachedMs = nowMs + 1;
    let lane = this.#heap[0];
    while (lane && lane.dueMs < reachedMs) {
      this.#serve(lane, nowMs);
      const next = this.#heap[0];
      if (next === lane && lane.dueMs < reachedMs) break;
      lane = next;
    }
    this.#arm(nowMs);
  };

  /** Keeps exactly one timer armed while any lane waits, for the soonest due lane. */
  #arm(nowMs: number): void {
    const first = this.#heap[0];
    if (first?.dueMs === this.#timerDueMs) return;
    if (this.#timerDueMs === this.#timerDueMs) {
      this.#time.clock.clearTimeout(this.#timer);
      this.#timerDueMs = NaN;
    }
    if (!first) return;
    // Whole milliseconds, rounded up (timers truncate fractions and must not fire early),
    // less a nanosecond so that float noise in dueMs never adds a millisecond.
    // A wait beyond setTimeout's limit fires at the limit and re-arms from there.
    const delayMs = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(first.dueMs - nowMs - 1e-6)));
    this.#timer = this.#time.clock.setTimeout(this.#onTimer, delayMs);
    this.#timerDueMs = first.dueMs;
  }

  #place(lane: Lane): void {
    if (lane.index < 0) {
      lane.index = this.#heap.length;
      this.#heap.push(lane);
    }
    this.#siftDown(this.#siftUp(lane.index));
  }

  #remove(lane: Lane): void {
    const index = lane.index;
    if (index < 0) return;
    lane.index = -1;
    const last = this.#heap.pop()!;
    if (last !== lane) {
      this.#heap[index] = last;
      last.index = index;
      this.#siftDown(this.#siftUp(index));
    }
  }

  #siftUp(index: number): number {
    const heap = this.#heap;
    const lane = heap[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (parent.dueMs <= lane.dueMs) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = lane;
    lane.index = index;
    return index;
  }

  #siftDown(index: number): void {
    const heap = this.#heap;
    const lane = heap[index]!;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1]!.dueMs < heap[child]!.dueMs) child++;
      const smaller = heap[child]!;
      if (smaller.dueMs >= lane.dueMs) break;
      heap[index] = smaller;
      smaller.index = index;
      index = child;
    }
    heap[index] = lane;
    lane.index = index;
  }
}
