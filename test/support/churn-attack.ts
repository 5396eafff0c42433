import { KeyedLimiter } from '../../src/index.js';
import { manualClock } from './fake-clock.js';

/**
 * Runs issue 13's key-churn attack: an honest key (capacity 5, 0.1/s) requests every 10 ms,
 * and between two of its requests an attacker creates `maxKeys` (1,000) new keys, each
 * left fuller than the honest key (cost 0.5). Returns what the honest key was granted,
 * its limit counted from its first request (when its full bucket starts to drain), and
 * the buckets held at the end.
 */
export function churnAttack(rounds: number): { honest: number; limit: number; size: number } {
  const clock = manualClock();
  const limiter = new KeyedLimiter({ capacity: 5, refillPerSecond: 0.1, maxKeys: 1_000, clock });
  let honest = 0;
  let attackerKey = 0;
  for (let round = 0; round < rounds; round++) {
    clock.ms += 10;
    if (limiter.tryAcquire('honest')) honest++;
    for (let index = 0; index < 1_000; index++) limiter.tryAcquire(`attacker:${attackerKey++}`, 0.5);
  }
  return { honest, limit: 5 + (0.1 * (clock.ms - 10)) / 1_000, size: limiter.size };
}
