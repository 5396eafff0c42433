import { invalid } from './validate.js';

/**
 * A Redis client the Redis limiter can talk through, passed as it is: an `ioredis` client
 * or Cluster (through its `call`), a `redis` (node-redis) client (through its
 * `sendCommand`), or any object whose `sendCommand(args)` sends one command given as
 * strings and resolves with its reply.
 * @example
 * ```ts
 * const redis: RedisClientLike = { sendCommand: (args) => myDriver.send(args) };
 * ```
 */
export type RedisClientLike =
  | { call(command: string, ...args: string[]): Promise<unknown> }
  | { sendCommand(args: string[]): Promise<unknown> };

/** Sends one command, given as strings, and resolves with its reply. */
export type SendCommand = (args: string[]) => Promise<unknown>;

/**
 * Returns a function that sends one command through `redis`. ioredis is recognised by its
 * `call` first, since its own `sendCommand` takes a Command object, not an array.
 * @throws {TypeError} when `redis` has neither method.
 */
export function commandSender(redis: unknown): SendCommand {
  const client = redis as { call?: unknown; sendCommand?: unknown } | null;
  if (typeof client === 'object' && client !== null) {
    if (typeof client.call === 'function') {
      const call = client.call as (command: string, ...args: string[]) => Promise<unknown>;
      return (args) => call.apply(client, args as [string, ...string[]]);
    }
    if (typeof client.sendCommand === 'function') {
      const send = client.sendCommand as (args: string[]) => Promise<unknown>;
      return (args) => send.call(client, args);
    }
  }
  throw invalid('redis', 'an ioredis or node-redis client, or an object with sendCommand(args)', redis);
}
