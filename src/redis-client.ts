import { hashSlot } from './redis-hash-slot.js';
import { invalid } from './validate.js';

/**
 * A Redis client the Redis limiter can talk through, passed as it is:
 * - an `ioredis` client or `Cluster` (through its `call`);
 * - a `redis` (node-redis) client (`createClient`, through its `sendCommand(args)`);
 * - a `redis` cluster (`createCluster`, through its `sendCommand(firstKey, isReadonly, args)`);
 * - any object whose `sendCommand(args)` sends one command given as strings and resolves
 *   with its reply.
 * @example
 * ```ts
 * const redis: RedisClientLike = { sendCommand: (args) => myDriver.send(args) };
 * ```
 */
export type RedisClientLike =
  | { call(command: string, ...args: string[]): Promise<unknown> }
  | { sendCommand(args: string[]): Promise<unknown> }
  | { sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>; getSlotMaster(slot: number): unknown };

/** How the limiter drives a client: sending a command, and naming the node that serves a key. */
export interface RedisDriver {
  /** Sends `args`, a command on the Redis key `key`, and resolves with its reply. */
  send(args: string[], key: string): Promise<unknown>;
  /** Names the node serving `key`: `''` on a single Redis; in a cluster, its slot owner's address (or the slot, before the client knows it). */
  nodeOf(key: string): string;
  /** Whether the client is a cluster's, whose keys are spread over nodes by hash slot. */
  readonly cluster: boolean;
}

/** The shapes of client accepted, as the TypeError for any other lists them. */
const ACCEPTED =
  'an ioredis client or Cluster (with call), a node-redis client (sendCommand(args)) or cluster (createCluster: sendCommand(firstKey, isReadonly, args)), or an object with sendCommand(args)';

/** One command as ioredis's `call` takes it. */
type Call = (command: string, ...args: string[]) => Promise<unknown>;

/** Names a cluster node by the slot owner `ownerOf` gives for the key's slot, or by the slot. */
function clusterNodeOf(ownerOf: (slot: number) => string | undefined): (key: string) => string {
  return (key) => {
    const slot = hashSlot(key);
    return ownerOf(slot) ?? `slot ${slot}`;
  };
}

/**
 * Returns how to drive `redis`. ioredis is recognised by its `call` first, since its own
 * `sendCommand` takes a Command object, not an array; a node-redis cluster by its
 * `getSlotMaster`, since its `sendCommand` takes the first key before the arguments.
 * @throws {TypeError} when `redis` is none of the accepted shapes, naming them.
 */
export function redisDriver(redis: unknown): RedisDriver {
  const client = redis as Record<string, unknown> | null;
  if (typeof client === 'object' && client !== null) {
    if (typeof client.call === 'function') {
      const call = client.call as Call;
      const send = (args: string[]) => call.apply(client, args as [string, ...string[]]);
      if (client.isCluster !== true) return { send, nodeOf: () => '', cluster: false };
      const slots = () => client.slots as (string[] | undefined)[] | undefined;
      return { send, nodeOf: clusterNodeOf((slot) => slots()?.[slot]?.[0]), cluster: true };
    }
    if (typeof client.sendCommand === 'function') {
      if (typeof client.getSlotMaster === 'function') {
        const sendCommand = client.sendCommand as (firstKey: string, isReadonly: boolean, args: string[]) => Promise<unknown>;
        const slots = () => client.slots as ({ master?: { address?: string } } | undefined)[] | undefined;
        return { send: (args, key) => sendCommand.call(client, key, false, args), nodeOf: clusterNodeOf((slot) => slots()?.[slot]?.master?.address), cluster: true };
      }
      // node_redis 3 also has sendCommand, as an alias of its callback-taking send_command.
      if (typeof client.send_command !== 'function') {
        const sendCommand = client.sendCommand as (args: string[]) => Promise<unknown>;
        return { send: (args) => sendCommand.call(client, args), nodeOf: () => '', cluster: false };
      }
    }
  }
  throw invalid('redis', ACCEPTED, redis);
}
