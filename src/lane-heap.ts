/** What the heap orders: anything with a due time and a slot for its position. */
export interface HeapItem {
  /** When the item is next due, on the monotonic time line. */
  dueMs: number;
  /** Position in the heap; -1 when not in it. */
  index: number;
}

/**
 * LaneHeap is a binary min-heap of items ordered by `dueMs`, each item keeping its own
 * position so that it can be moved or removed in O(log n).
 */
export class LaneHeap<T extends HeapItem> {
  readonly #items: T[] = [];

  /** Returns the item due soonest, or undefined when empty. */
  first(): T | undefined {
    return this.#items[0];
  }

  /** Returns a copy of the items, in no particular order. */
  items(): T[] {
    return [...this.#items];
  }

  /** Puts `item` in the heap, or moves it to where its `dueMs` now belongs. */
  place(item: T): void {
    if (item.index < 0) {
      item.index = this.#items.length;
      this.#items.push(item);
    }
    this.#siftDown(this.#siftUp(item.index));
  }

  /** Takes `item` out of the heap, if it is there. */
  remove(item: T): void {
    const index = item.index;
    if (index < 0) return;
    item.index = -1;
    const last = this.#items.pop()!;
    if (last !== item) {
      this.#items[index] = last;
      last.index = index;
      this.#siftDown(this.#siftUp(index));
    }
  }

  #siftUp(index: number): number {
    const items = this.#items;
    const item = items[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex]!;
      if (parent.dueMs <= item.dueMs) break;
      items[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    items[index] = item;
    item.index = index;
    return index;
  }

  #siftDown(index: number): void {
    const items = this.#items;
    const item = items[index]!;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= items.length) break;
      if (child + 1 < items.length && items[child + 1]!.dueMs < items[child]!.dueMs) child++;
      const smaller = items[child]!;
      if (smaller.dueMs >= item.dueMs) break;
      items[index] = smaller;
      smaller.index = index;
      index = child;
    }
    items[index] = item;
    item.index = index;
  }
}
