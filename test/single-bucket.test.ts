import { describe, expect, it } from 'vitest';
import { LimitState } from '../src/limit-state.js';
import { SingleBucket } from '../src/single-bucket.js';

// The store of a TokenBucket, as the engine drives it: one level, whatever the key.
describe('SingleBucket', () => {
  const state = new LimitState(4, 2, 0);

  it('holds one level, whatever the key, until a line takes it', () => {
    const store = new SingleBucket(state, 1_000);
    expect([store.size, store.levelOf(), store.take('any', 1_000, 0), store.levelOf()]).toEqual([1, 1_000, true, 0]);
    expect(store.take('other', 1, 0)).toBe(false);
    expect([store.drop(), store.size, store.levelOf(), store.take('k', 0, 0), store.drop()]).toEqual([true, 0, undefined, undefined, false]);
    store.setLevel('k', 3_000);
    expect([store.size, store.levelOf()]).toEqual([1, 3_000]);
  });

  it('moves its level with the origin only while it holds it, forgets nothing it does not hold, and always has room', () => {
    const store = new SingleBucket(state, 1_000);
    store.rebase((level) => level + 500);
    expect(store.levelOf()).toBe(1_500);
    store.clear();
    store.rebase((level) => level + 500);
    expect([store.size, store.levelOf(), store.makeRoom(), store.evicted]).toEqual([0, undefined, true, 0]);
    store.touch();
    store.sweep();
    store.configure();
    store.setLevel('', 7);
    expect(store.levelOf()).toBe(7);
  });
});
