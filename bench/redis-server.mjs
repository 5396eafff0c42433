// The bench's Redis: REDIS_URL, or a redis-server of its own.
import { spawn } from 'node:child_process';

/** REDIS_URL, or a redis-server of our own on a free loopback port; undefined when neither is there. */
export async function localRedis() {
  if (process.env.REDIS_URL) return { url: process.env.REDIS_URL, stop: async () => {} };
  const { createServer } = await import('node:net');
  const port = await new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address();
      server.close(() => resolve(free));
    });
  });
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const ready = await new Promise((resolve) => {
    let output = '';
    server.once('error', () => resolve(false));
    server.once('exit', () => resolve(false));
    server.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) resolve(true);
    });
  });
  if (!ready) return undefined;
  return { url: `redis://127.0.0.1:${port}`, stop: async () => void server.kill() };
}
