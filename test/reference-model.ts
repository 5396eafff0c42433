/**
 * A deliberately naive token bucket to test against: two numbers, the textbook formula,
 * a plain array as the waiting line, and a Map that never forgets a key. Integers only
 * (milli-tokens and whole milliseconds), so it is exact and needs no tolerance.
 */
export class ReferenceBucket {
  tokens: number;
  lastMs: number;
  constructor(
    readonly capacityMilli: number,
    readonly ratePerSecond: number,
    nowMs: number,
    tokens = capacityMilli,
  ) {
    this.tokens = tokens;
    this.lastMs = nowMs;
  }

  refill(nowMs: number): void {
    if (nowMs > this.lastMs) this.tokens = Math.min(this.capacityMilli, this.tokens + (nowMs - this.lastMs) * this.ratePerSecond);
    this.lastMs = nowMs;
  }

  tryTake(costMilli: number, nowMs: number): boolean {
    this.refill(nowMs);
    if (costMilli > this.tokens) return false;
    this.tokens -= costMilli;
    return true;
  }
}

export class ReferenceKeyed {
  readonly buckets = new Map<string, ReferenceBucket>();
  constructor(
    readonly capacityMilli: number,
    readonly ratePerSecond: number,
  ) {}

  tryTake(key: string, costMilli: number, nowMs: number): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new ReferenceBucket(this.capacityMilli, this.ratePerSecond, nowMs)));
    return bucket.tryTake(costMilli, nowMs);
  }
}
