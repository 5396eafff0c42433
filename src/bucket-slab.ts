import type { BucketStore } from './bucket-store.js';
import type { LimitState } from './limit-state.js';
import { type MilliTokens, covers, spend } from './refill.js';

/** Slots the arrays start with; they double as keys are added. */
const INITIAL_SLOTS = 16;

/**
 * Buckets compared when one must go to make room under `maxKeys`: the least recently used
 * few, of which the one closest to full goes (Redis samples 5 for its LRU eviction too).
 */
const EVICTION_SAMPLE = 5;

/**
 * BucketSlab is the store of a KeyedLimiter: the levels (see refill.ts) of many keyed
 * buckets in a packed layout: a Map from key to a small-integer slot, and per slot one
 * float64 level, two int32 links of a least-recently-used list, and the key. A
 * Map<string, number> of levels would box every non-integer level in its own heap object
 * and need a delete and a re-insert to track recency; here updating a level or marking a
 * key used allocates nothing and touches no hash table.
 *
 * It forgets, as decisions pass by (no timer, no scan), buckets that have been full for one
 * refill period, and under `maxKeys` the one closest to full among the least recently used.
 */
export class BucketSlab implements BucketStore {
  readonly #slots = new Map<string, number>();
  readonly #maxKeys: number;
  readonly #state: LimitState;
  /** Slot 0 is the list's sentinel: #newer[0] is the least recently used slot, #older[0] the most. */
  #keys: (string | undefined)[] = [];
  /** Levels by slot; the sentinel's is -Infinity, so an empty slab is never due a sweep. */
  #levels = new Float64Array(0);
  #older = new Int32Array(0);
  #newer = new Int32Array(0);
  /** First free slot, chained through #newer; 0 when none. */
  #free = 0;
  /** Slots ever handed out, including the sentinel. */
  #used = 1;
  /** A bucket whose level plus the refill so far reaches this has been full for one refill period (see #dropFull). */
  #dropAtMilli = 0;
  evicted = 0;

  /** `maxKeys` counts the buckets held here and those held elsewhere (see makeRoom). */
  constructor(state: LimitState, maxKeys: number) {
    this.#state = state;
    this.#maxKeys = maxKeys;
    this.configure();
    this.clear();
  }

  get size(): number {
    return this.#slots.size;
  }

  /**
   * Sets the level past which a bucket goes: the level plus refill at which it has been
   * full for one refill period (uncapped, it would hold twice its capacity). A fixed
   * quota's full bucket never changes, so it goes at once.
   */
  configure(): void {
    const { fullMilli, refillPerSecond } = this.#state;
    this.#dropAtMilli = refillPerSecond > 0 ? 2 * fullMilli : fullMilli;
  }

  take(key: string, needMilli: MilliTokens, accruedMilli: MilliTokens): boolean | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    this.#touch(slot);
    // takeFrom written out: this is every keyed decision's path (see ARCHITECTURE.md).
    const levels = this.#levels;
    const level = levels[slot]!;
    const tokens = level + accruedMilli;
    const fullMilli = this.#state.fullMilli;
    if (tokens >= fullMilli) levels[slot] = fullMilli - needMilli - accruedMilli;
    else if (covers(tokens, needMilli, Math.abs(accruedMilli) + this.#state.originScaleMilli)) levels[slot] = spend(level, needMilli);
    else return false;
    return true;
  }

  levelOf(key: string): MilliTokens | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? undefined : this.#levels[slot];
  }

  setLevel(key: string, levelMilli: MilliTokens): void {
    const slot = this.#slots.get(key);
    if (slot === undefined) this.#add(key, levelMilli);
    else this.#levels[slot] = levelMilli;
  }

  drop(key: string): boolean {
    const slot = this.#slots.get(key);
    if (slot === undefined) return false;
    this.#remove(slot);
    return true;
  }

  touch(key: string): void {
    this.#touch(this.#slots.get(key)!);
  }

  rebase(map: (levelMilli: MilliTokens) => MilliTokens): void {
    for (let slot = this.#newer[0]!; slot !== 0; slot = this.#newer[slot]!) this.#levels[slot] = map(this.#levels[slot]!);
  }

  /** Removes every bucket and gives the memory back. */
  clear(): void {
    this.#slots.clear();
    this.#keys = new Array<string | undefined>(INITIAL_SLOTS);
    this.#levels = new Float64Array(INITIAL_SLOTS);
    this.#levels[0] = -Infinity;
    this.#older = new Int32Array(INITIAL_SLOTS);
    this.#newer = new Int32Array(INITIAL_SLOTS);
    this.#free = 0;
    this.#used = 1;
  }

  /**
   * Drops, when due, up to two buckets that have been full for at least one refill period
   * from the least recently used end, stopping at the first that has not: every later one
   * was used more recently. So each decision removes more than it can add, and a bucket
   * outlives its last use by at most about two refill periods. The period of grace keeps a
   * key used steadily below its limit from being dropped and re-created on each use
   * (measured: it doubled the cost of a decision). The check is one comparison: the
   * sentinel's level is -Infinity.
   */
  sweep(accruedMilli: MilliTokens): void {
    if (this.#levels[this.#newer[0]!]! + accruedMilli >= this.#dropAtMilli) this.#dropFull(accruedMilli);
  }

  /**
   * Makes room for one more bucket under `maxKeys`, `elsewhere` being the buckets held
   * outside the slab (those with waiters, which never go): past it, of the few least
   * recently used buckets the one closest to full goes, as the one whose loss forgets
   * least (a full bucket reads as new). Returns false when the slab is empty.
   */
  makeRoom(elsewhere: number, accruedMilli: MilliTokens): boolean {
    if (this.#slots.size + elsewhere < this.#maxKeys) return true;
    let victim = 0;
    let best = -Infinity;
    let slot = this.#newer[0]!;
    for (let sampled = 0; slot !== 0 && sampled < EVICTION_SAMPLE; sampled++, slot = this.#newer[slot]!) {
      const tokens = this.#levels[slot]! + accruedMilli;
      if (tokens > best) {
        victim = slot;
        best = tokens;
      }
    }
    if (victim === 0) return false;
    this.#remove(victim);
    this.evicted++;
    return true;
  }

  #dropFull(accruedMilli: MilliTokens): void {
    for (let budget = 2; budget > 0 && this.#levels[this.#newer[0]!]! + accruedMilli >= this.#dropAtMilli; budget--) {
      this.#remove(this.#newer[0]!);
      this.evicted++;
    }
  }

  /** Marks `slot` as the most recently used. Written out: it is on every decision's path. */
  #touch(slot: number): void {
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

  #add(key: string, levelMilli: MilliTokens): void {
    let slot = this.#free;
    if (slot !== 0) this.#free = this.#newer[slot]!;
    else {
      slot = this.#used++;
      if (slot === this.#levels.length) this.#grow();
    }
    this.#keys[slot] = key;
    this.#levels[slot] = levelMilli;
    this.#slots.set(key, slot);
    const newest = this.#older[0]!;
    this.#older[slot] = newest;
    this.#newer[slot] = 0;
    this.#newer[newest] = slot;
    this.#older[0] = slot;
  }

  #remove(slot: number): void {
    this.#slots.delete(this.#keys[slot]!);
    this.#keys[slot] = undefined;
    const older = this.#older[slot]!;
    const newer = this.#newer[slot]!;
    this.#newer[older] = newer;
    this.#older[newer] = older;
    this.#newer[slot] = this.#free;
    this.#free = slot;
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
