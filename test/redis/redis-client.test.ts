import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redisDriver } from '../../src/redis-client.js';
import { hashSlot } from '../../src/redis-hash-slot.js';

// How the limiter drives each shape of client, on objects shaped like them (the real
// clients, standalone and cluster, run in the real-Redis suites).

/** Redis's keyHashSlot, naively: CRC16 bit by bit over the UTF-8 bytes the client sends (Buffer's encoding). */
function referenceSlot(key: string): number {
  let bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close !== -1 && close !== open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

describe('hashSlot', () => {
  it.each([
    ['', 0],
    ['foo', 12182],
    ['bar', 5061],
    ['123456789', 12739],
    ['{user1000}.following', 3443],
    ['{user1000}.followers', 3443],
    ['foo{}{bar}', 8363], // an empty first tag: the whole key is hashed
    ['foo{{bar}}zap', 4015], // the tag is "{bar"
  ])('puts %j in slot %i, as Redis does', (key, slot) => {
    expect(hashSlot(key)).toBe(slot);
  });

  // Checked against Redis's own CLUSTER KEYSLOT too, in cluster.long.test.ts.
  it('agrees with a naive reference on every string, tags, lone surrogates and any Unicode included', () => {
    const key = fc.oneof(fc.string({ unit: 'binary' }), fc.tuple(fc.string(), fc.string({ unit: 'binary' }), fc.string()).map(([a, b, c]) => `${a}{${b}}${c}`));
    fc.assert(fc.property(key, (k) => hashSlot(k) === referenceSlot(k)), { numRuns: 2_000 });
    for (const k of ['\uD800x', 'x\uDC00', '\uD800', '{\uD83D\uDD11}', '{}}']) expect(hashSlot(k), JSON.stringify(k)).toBe(referenceSlot(k));
  });
});

describe('redisDriver', () => {
  it('drives ioredis through call, and names one node for every key of a single Redis', async () => {
    const sent: unknown[][] = [];
    const client = { isCluster: false, call: (...args: unknown[]) => (sent.push(args), Promise.resolve('OK')), sendCommand: () => 'not this one' };
    const driver = redisDriver(client);
    expect(await driver.send(['GET', 'k'], 'k')).toBe('OK');
    expect(sent).toEqual([['GET', 'k']]);
    expect([driver.cluster, driver.nodeOf('a'), driver.nodeOf('b')]).toEqual([false, '', '']);
  });

  it("names an ioredis Cluster's node by its slot map, or by the slot before it has one", () => {
    const slots: string[][] = [];
    slots[hashSlot('a')] = ['127.0.0.1:7001'];
    const client = { isCluster: true, slots, call: async () => null };
    const driver = redisDriver(client);
    expect(driver.cluster).toBe(true);
    expect(driver.nodeOf('a')).toBe('127.0.0.1:7001');
    expect(driver.nodeOf('b')).toBe(`slot ${hashSlot('b')}`);
    expect(redisDriver({ isCluster: true, call: async () => null }).nodeOf('a')).toBe(`slot ${hashSlot('a')}`);
  });

  it('drives a node-redis cluster through sendCommand(firstKey, isReadonly, args), naming nodes by slot master', async () => {
    const sent: unknown[][] = [];
    const slots: { master: { address: string } }[] = [];
    slots[hashSlot('a')] = { master: { address: '127.0.0.1:7002' } };
    const client = {
      slots,
      getSlotMaster: () => undefined,
      sendCommand: (...args: unknown[]) => (sent.push(args), Promise.resolve(1)),
    };
    const driver = redisDriver(client);
    expect(await driver.send(['EVALSHA', 'sha', '1', 'a'], 'a')).toBe(1);
    expect(sent).toEqual([['a', false, ['EVALSHA', 'sha', '1', 'a']]]);
    expect([driver.cluster, driver.nodeOf('a'), driver.nodeOf('b')]).toEqual([true, '127.0.0.1:7002', `slot ${hashSlot('b')}`]);
    expect(redisDriver({ getSlotMaster: () => undefined, sendCommand: async () => null }).nodeOf('a')).toBe(`slot ${hashSlot('a')}`);
  });

  it('hashes only a non-empty tag between the first { and the next }', () => {
    expect(hashSlot('{}}')).toBe(hashSlot('{}}x'.slice(0, 3)));
    expect(hashSlot('a{b}c')).toBe(hashSlot('b'));
    expect(hashSlot('a{}c')).not.toBe(hashSlot('a{}d'));
    expect(hashSlot('a{b')).toBe(referenceSlot('a{b'));
  });

  it('drives node-redis, or any sendCommand(args), with the arguments alone', async () => {
    const sent: unknown[][] = [];
    const driver = redisDriver({ sendCommand: (...args: unknown[]) => (sent.push(args), Promise.resolve('PONG')) });
    expect(await driver.send(['PING'], 'k')).toBe('PONG');
    expect(sent).toEqual([[['PING']]]);
    expect([driver.cluster, driver.nodeOf('k')]).toEqual([false, '']);
  });
});
