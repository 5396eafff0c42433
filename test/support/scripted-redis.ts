import type { Denial, RedisKeyedLimiterOptions } from '../../src/redis.js';
import { RedisKeyedLimiter } from '../../src/redis.js';
import { fakeClock } from './fake-clock.js';

/** A client whose every command waits until the test answers or fails it. */
export function scriptedClient() {
  const pending: { args: string[]; resolve(reply: unknown): void; reject(error: unknown): void; answered?: boolean }[] = [];
  return {
    pending,
    redis: { sendCommand: (args: string[]) => new Promise<unknown>((resolve, reject) => pending.push({ args, resolve, reject })) },
    /** The operations (script op and cost, or command name) sent so far, in order. */
    sent: () => pending.map(({ args }) => (args[0] === 'EVALSHA' ? `${args[4]} ${args[7]}` : args[0])),
    /** Answers the oldest command not answered yet. */
    answer(reply: unknown) {
      const next = pending.find((command) => !command.answered)!;
      next.answered = true;
      next.resolve(reply);
    },
  };
}

/** Lets every settled promise run its callbacks. */
export const flush = () => new Promise((resolve) => setImmediate(resolve));

/**
 * A RedisKeyedLimiter on fake time over a scripted client (capacity 2, 1 per second,
 * timeoutMs 100 unless `options` say otherwise), with what it reports to onError and onDeny.
 */
export function scriptedLimiter(options: Partial<RedisKeyedLimiterOptions> = {}) {
  const { fake, clock, armedTimers, delaysMs } = fakeClock();
  const client = scriptedClient();
  const errors: unknown[] = [];
  const denials: Denial[] = [];
  const limiter = new RedisKeyedLimiter({
    redis: client.redis,
    capacity: 2,
    refillPerSecond: 1,
    timeoutMs: 100,
    clock,
    onError: (error) => errors.push(error),
    onDeny: (denial) => denials.push(denial),
    ...options,
  });
  return { fake, clock, armedTimers, delaysMs, client, errors, denials, limiter };
}
