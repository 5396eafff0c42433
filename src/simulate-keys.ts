import type { KeyCounts } from './simulate-report.js';

/** Returns `array` copied into one of `length` elements, the rest filled with `fill`. */
function grown<T extends Uint32Array | Int32Array>(array: T, length: number, fill: number): T {
  const next = new (array.constructor as new (length: number) => T)(length);
  next.set(array);
  next.fill(fill, array.length);
  return next;
}

/**
 * Returns a copy of `text` that holds no larger string: a key sliced out of a log's line
 * would otherwise keep the whole chunk of the file it came from alive for as long as the
 * key is remembered (measured: 1,000 IPv6 keys held 250 MB). Property names are stored
 * flat, so this is one copy, made once per new key.
 */
export function ownString(text: string): string {
  return Object.keys({ [text]: 0 })[0]!;
}

/**
 * KeyTable numbers the keys of a replay in order of first sight and keeps their counts in
 * typed arrays, so that counting a request allocates nothing.
 */
export class KeyTable {
  readonly #indexes = new Map<string, number>();
  readonly #names: string[] = [];
  /** Requests of each key. */
  events = new Uint32Array(1024);
  /** Refusals of each key. */
  refused = new Uint32Array(1024);
  /** Each key's slot among the traced keys; -1 when not traced. */
  traced = new Int32Array(1024).fill(-1);

  /** Keys seen. */
  get size(): number {
    return this.#names.length;
  }

  /** Returns the index of `key`, numbering it if it is new. */
  indexOf(key: string): number {
    const index = this.#indexes.get(key);
    return index === undefined ? this.#add(key) : index;
  }

  /** Returns the key numbered `index`, a string of its own (see `ownString`): the one to hand a limiter, which keeps it. */
  name(index: number): string {
    return this.#names[index]!;
  }

  /** Returns how many keys were refused at least once. */
  refusedKeys(): number {
    let count = 0;
    for (let index = 0; index < this.size; index++) if (this.refused[index]! > 0) count++;
    return count;
  }

  /** Returns the `limit` keys refused most (ties: most requests, then first seen), most first; only keys refused at all. */
  mostRefused(limit: number): KeyCounts[] {
    const chosen: number[] = [];
    const ahead = (a: number, b: number): boolean => this.refused[a]! > this.refused[b]! || (this.refused[a] === this.refused[b] && (this.events[a]! > this.events[b]! || (this.events[a] === this.events[b] && a < b)));
    for (let index = 0; index < this.size && limit > 0; index++) {
      if (this.refused[index] === 0 || (chosen.length === limit && !ahead(index, chosen[limit - 1]!))) continue;
      if (chosen.length === limit) chosen.pop();
      let at = chosen.length;
      while (at > 0 && ahead(index, chosen[at - 1]!)) at--;
      chosen.splice(at, 0, index);
    }
    return chosen.map((index) => {
      const events = this.events[index]!;
      const refused = this.refused[index]!;
      return { key: this.#names[index]!, events, granted: events - refused, refused, refusedShare: refused / events };
    });
  }

  #add(sliced: string): number {
    const key = ownString(sliced);
    const index = this.#names.push(key) - 1;
    this.#indexes.set(key, index);
    if (index === this.events.length) {
      const length = index * 2;
      this.events = grown(this.events, length, 0);
      this.refused = grown(this.refused, length, 0);
      this.traced = grown(this.traced, length, -1);
    }
    return index;
  }
}
