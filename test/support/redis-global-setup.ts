import type { TestProject } from 'vitest/node';
import { type RedisServer, hasRedisServerBinary, startRedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Redis the tests use; '' when there is none (the Redis tests are then skipped). */
    redisUrl: string;
    /** Whether tests may start their own redis-server (for stop/restart faults). */
    redisServerBinary: boolean;
  }
}

let server: RedisServer | undefined;

/**
 * Gives the tests a Redis: REDIS_URL when set (.ci/run sets it), else a redis-server of
 * our own when the binary is installed. Without either, the Redis tests are skipped with
 * one line saying how to run them — except under CI=true, where that is a failure.
 */
export async function setup(project: TestProject): Promise<void> {
  const binary = hasRedisServerBinary();
  let url = process.env.REDIS_URL ?? '';
  if (!url && binary) {
    server = await startRedisServer();
    url = server.url;
  }
  if (!url) {
    const how = 'install redis-server (apt-get install redis-server) or set REDIS_URL=redis://127.0.0.1:6379, then run npm test';
    if (process.env.CI === 'true') throw new Error(`CI=true but no Redis: ${how}`);
    console.warn(`\nRedis tests skipped: no Redis here. To run them, ${how}.\n`);
  }
  if (process.env.CI === 'true' && !binary) throw new Error('CI=true but redis-server is not installed: the restart tests need it');
  project.provide('redisUrl', url);
  project.provide('redisServerBinary', binary);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
