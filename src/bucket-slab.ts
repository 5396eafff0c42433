import { covers, spend } from './refill.js';

/** Slots the arrays start with; they double as keys are added. */
const INITIAL_SLOTS = 16;

/**
 * BucketSlab holds the levels (see refill.ts) of many keyed buckets in a packed layout:
 * a Map from key to a small-integer slot, and per slot one float64 level, two int32 links
 * of a least-recently-used list, and the key. A Map<string, number> of levels would box
 * every non-integer level in its own heap object and need a delete and a re-insert to
 * track recency; here updating a level or marking a key used allocates nothing and
 * touches no hash table.
 */
export class BucketSlab {
  readonly #slots = new Map<string, number>();
  /** Slot 0 is the list's sentinel: #newer[0] is the least recently used slot, #older[0] the most. */
  #keys: (string | undefined)[] = new Array<string | undefined>(INITIAL_SLOTS);
  #levels = new Float64Array(INITIAL_SLOTS);
  #older = new Int32Array(INITIAL_SLOTS);
  #newer = new Int32Array(INITIAL_SLOTS);
  /** First free slot, chained through #newer; 0 when none. */
  #free = 0;
  /** Slots ever handed out, including the sentinel. */
  #used = 1;

  /** Buckets held. */
  get size(): number {
    return this.#slots.size;
  }

  /** Returns the slot of `key`, or undefined when it holds no bucket. */
  slot(key: string): number | undefined {
    return this.#slots.get(key);
  }

  /** Returns the least recently used slot, or 0 when empty. */
  oldest(): number {
    return this.#newer[0]!;
  }

  /** Returns the level of the least recently used bucket, or -Infinity when empty. */
  oldestLevel(): number {
    const oldest = this.#newer[0]!;
    return oldest === 0 ? -Infinity : this.#levels[oldest]!;
  }

  level(slot: number): number {
    return this.#levels[slot]!;
  }

  setLevel(slot: number, level: number): void {
    this.#levels[slot] = level;
  }

  /**
   * Takes `need` milli-tokens from `key`'s bucket if it covers them, a full bucket
   * holding `full` and `accrued` being the refill so far (`nowMs * refillPerSecond`, see
   * refill.ts), and marks it the most recently used; undefined when `key` holds none.
   */
  take(key: string, need: number, accrued: number, full: number): boolean | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    this.touch(slot);
    const levels = this.#levels;
    const level = levels[slot]!;
    const tokens = level + accrued;
    if (tokens >= full) levels[slot] = full - need - accrued;
    else if (covers(tokens, need, accrued)) levels[slot] = spend(level, need);
    else return false;
    return true;
  }

  /** Marks `slot` as the most recently used. Written out: it is on every decision's path. */
  touch(slot: number): void {
    const older = this.#older;
    const newer = this.#newer;
    // Unlinking and linking again is right for the newest slot too (no test needed).
    const before = older[slot]!;
    const after = newer[slot]!;
    newer[before] = after;
    older[after] = before;
    const newest = older[0]!;
    older[slot] = newest;
    newer[slot] = 0;
    newer[newest] = slot;
    older[0] = slot;
  }

  /** Adds a bucket for `key` (which must hold none), as the most recently used; returns its slot. */
  add(key: string, level: number): number {
    let slot = this.#free;
    if (slot !== 0) this.#free = this.#newer[slot]!;
    else {
      slot = this.#used++;
      if (slot === this.#levels.length) this.#grow();
    }
    this.#keys[slot] = key;
    this.#levels[slot] = level;
    this.#slots.set(key, slot);
    this.#link(slot);
    return slot;
  }

  /** Removes the bucket in `slot`; returns its key. */
  remove(slot: number): string {
    const key = this.#keys[slot]!;
    this.#slots.delete(key);
    this.#keys[slot] = undefined;
    this.#unlink(slot);
    this.#newer[slot] = this.#free;
    this.#free = slot;
    return key;
  }

  /** Replaces every level with `map(level)`. */
  rebase(map: (level: number) => number): void {
    for (let slot = this.#newer[0]!; slot !== 0; slot = this.#newer[slot]!) this.#levels[slot] = map(this.#levels[slot]!);
  }

  /** Removes every bucket and gives the memory back. */
  clear(): void {
    this.#slots.clear();
    this.#keys = new Array<string | undefined>(INITIAL_SLOTS);
    this.#levels = new Float64Array(INITIAL_SLOTS);
    this.#older = new Int32Array(INITIAL_SLOTS);
    this.#newer = new Int32Array(INITIAL_SLOTS);
    this.#free = 0;
    this.#used = 1;
  }

  #link(slot: number): void {
    const newest = this.#older[0]!;
    this.#older[slot] = newest;
    this.#newer[slot] = 0;
    this.#newer[newest] = slot;
    this.#older[0] = slot;
  }

  #unlink(slot: number): void {
    const older = this.#older[slot]!;
    const newer = this.#newer[slot]!;
    this.#newer[older] = newer;
    this.#older[newer] = older;
  }

  #grow(): void {
    const slots = this.#levels.length * 2;
    const levels = new Float64Array(slots);
    const older = new Int32Array(slots);
    const newer = new Int32Array(slots);
    // The keys grow to the same length rather than by the engine's own growth factor
    // (1.5x), which would leave up to half a pointer per key unused.
    const keys = new Array<string | undefined>(slots);
    for (let slot = 0; slot < this.#used; slot++) keys[slot] = this.#keys[slot];
    levels.set(this.#levels);
    older.set(this.#older);
    newer.set(this.#newer);
    this.#keys = keys;
    this.#levels = levels;
    this.#older = older;
    this.#newer = newer;
  }
}
