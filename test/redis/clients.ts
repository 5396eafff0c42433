import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { afterAll, beforeAll, inject } from 'vitest';
import type { RedisClientLike } from '../../src/redis.js';
import { RespClient } from '../support/resp-client.js';

/** The Redis these tests use ('' when none: the Redis suites are then skipped). */
export const redisUrl = inject('redisUrl');

/** Whether a test may start its own redis-server (to stop and restart it). */
export const redisServerBinary = inject('redisServerBinary');

/** A connected client of one kind, and how to close it. */
export interface TestClient {
  readonly redis: RedisClientLike;
  close(): Promise<void>;
}

/** The three kinds of client a user may pass: ioredis, node-redis, and a bare sendCommand. */
export const clientKinds: Record<string, (url?: string) => Promise<TestClient>> = {
  ioredis: async (url = redisUrl) => {
    const redis = new Redis(url, { lazyConnect: true });
    redis.on('error', () => {});
    await redis.connect();
    return { redis, close: async () => redis.disconnect() };
  },
  'node-redis': async (url = redisUrl) => {
    const redis = createClient({ url });
    redis.on('error', () => {});
    await redis.connect();
    return { redis, close: async () => void (await redis.close()) };
  },
  sendCommand: async (url = redisUrl) => {
    const redis = await RespClient.connect(url);
    return { redis, close: async () => redis.close() };
  },
};

/** Returns a key no other test uses. */
export function uniqueKey(name: string): string {
  return `${name}:${process.pid}:${Math.random().toString(36).slice(2)}`;
}

/** The two cluster clients a user may pass, connected to a cluster's seeds, as they are. */
export const clusterClientKinds: Record<string, (seeds: readonly { host: string; port: number }[]) => Promise<TestClient>> = {
  'ioredis Cluster': async (seeds) => {
    const redis = new Cluster([...seeds]);
    redis.on('error', () => {});
    await new Promise((resolve) => redis.once('ready', resolve));
    return { redis, close: async () => redis.disconnect() };
  },
  'node-redis createCluster': async (seeds) => {
    const redis = createCluster({ rootNodes: seeds.map(({ host, port }) => ({ url: `redis://${host}:${port}` })) });
    redis.on('error', () => {});
    await redis.connect();
    return { redis, close: async () => void (await redis.close()) };
  },
};

/** A client of `kind` and an admin connection, both on the tests' Redis, opened before a suite's tests and closed after. */
export function connectedForSuite(kind: string): { readonly client: TestClient; readonly admin: RespClient } {
  const connected = {} as { client: TestClient; admin: RespClient };
  beforeAll(async () => {
    connected.client = await clientKinds[kind]!();
    connected.admin = await RespClient.connect(redisUrl);
  });
  afterAll(async () => {
    await connected.client.close();
    connected.admin.close();
  });
  return connected;
}
