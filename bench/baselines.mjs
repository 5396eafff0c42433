// Speed-of-light baselines: the simplest correct implementations, to measure the library against.

/** The simplest correct lazy-refill token bucket: two numbers in an object, one clock read. */
export class MinimalBucket {
  constructor(capacity, refillPerSecond) {
    this.capacity = capacity;
    this.ratePerMs = refillPerSecond / 1000;
    this.tokens = capacity;
    this.lastMs = performance.now();
  }

  tryAcquire(cost = 1) {
    const nowMs = performance.now();
    const tokens = Math.min(this.capacity, this.tokens + (nowMs - this.lastMs) * this.ratePerMs);
    this.lastMs = nowMs;
    if (tokens < cost) {
      this.tokens = tokens;
      return false;
    }
    this.tokens = tokens - cost;
    return true;
  }
}

/** The same bucket for many keys: a Map of two-number objects (no eviction). */
export class MinimalKeyed {
  constructor(capacity, refillPerSecond) {
    this.capacity = capacity;
    this.ratePerMs = refillPerSecond / 1000;
    this.buckets = new Map();
  }

  tryAcquire(key, cost = 1) {
    const nowMs = performance.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.capacity, lastMs: nowMs };
      this.buckets.set(key, bucket);
    }
    const tokens = Math.min(this.capacity, bucket.tokens + (nowMs - bucket.lastMs) * this.ratePerMs);
    bucket.lastMs = nowMs;
    if (tokens < cost) {
      bucket.tokens = tokens;
      return false;
    }
    bucket.tokens = tokens - cost;
    return true;
  }
}

/** GCRA: one number per key, the theoretical arrival time (Map<string, number>, no eviction). */
export class MinimalGcra {
  constructor(capacity, refillPerSecond) {
    this.intervalMs = 1000 / refillPerSecond;
    this.burstMs = capacity * this.intervalMs;
    this.arrivals = new Map();
  }

  tryAcquire(key, cost = 1) {
    const nowMs = performance.now();
    const tat = this.arrivals.get(key) ?? nowMs;
    const next = (tat > nowMs ? tat : nowMs) + cost * this.intervalMs;
    if (next - nowMs > this.burstMs) return false;
    this.arrivals.set(key, next);
    return true;
  }
}

/**
 * A minimal reservation-based waiter: each caller reserves the next slot at once
 * (first-in first-out), and one timer wakes the callers whose slot has come.
 */
export class MinimalWaiter {
  constructor(refillPerSecond) {
    this.intervalMs = 1000 / refillPerSecond;
    this.nextSlotMs = -Infinity;
    this.queue = [];
    this.head = 0;
    this.timer = undefined;
  }

  acquire() {
    const nowMs = performance.now();
    const slotMs = Math.max(nowMs, this.nextSlotMs);
    this.nextSlotMs = slotMs + this.intervalMs;
    if (slotMs <= nowMs) return Promise.resolve();
    return new Promise((resolve) => {
      this.queue.push({ slotMs, resolve });
      if (this.timer === undefined) this.arm();
    });
  }

  arm() {
    const first = this.queue[this.head];
    if (first === undefined) {
      this.timer = undefined;
      return;
    }
    this.timer = setTimeout(() => {
      const nowMs = performance.now();
      while (this.head < this.queue.length && this.queue[this.head].slotMs <= nowMs) this.queue[this.head++].resolve();
      this.arm();
    }, Math.max(1, Math.ceil(first.slotMs - performance.now())));
  }
}
