import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './redis-server.js';
import { RespClient } from './resp-client.js';

const run = promisify(execFile);

/** One master of a test cluster: a redis-server child process in its own directory. */
export interface ClusterNode {
  readonly port: number;
  readonly url: string;
  /** The node's cluster ID. */
  readonly id: string;
  /** Kills it (SIGKILL) and waits for its exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory: it rejoins with its ID and slots. */
  restart(): Promise<void>;
}

/** A Redis Cluster of masters only, on free loopback ports, for tests. */
export interface RedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** `{ host, port }` of each master, as the cluster clients take their seeds. */
  readonly seeds: readonly { host: string; port: number }[];
  /** The node that owns `slot` now, asked of `via` (the first node by default). */
  ownerOf(slot: number, via?: ClusterNode): Promise<ClusterNode>;
  /** Moves `slots` slots, keys and all, from one master to another with redis-cli (a live reshard). */
  reshard(from: ClusterNode, to: ClusterNode, slots: number): Promise<void>;
  /** Stops every node and removes their directories. */
  stop(): Promise<void>;
}

/** Sends one command to the node on `port` and closes the connection. */
async function ask(port: number, args: string[]): Promise<unknown> {
  const client = await RespClient.connect(`redis://127.0.0.1:${port}`);
  try {
    return await client.sendCommand(args);
  } finally {
    client.close();
  }
}

/** Resolves once `check` does, polling every 20 ms; rejects after `ms`. */
async function until(what: string, ms: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (performance.now() > deadline) throw new Error(`redis cluster: ${what} not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts one cluster-enabled redis-server; resolves once it accepts connections. */
function startNode(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
      '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
      // A master down is noticed within a second, and the other masters go on serving their slots.
      '--cluster-node-timeout', '1000', '--cluster-require-full-coverage', 'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const check = () => {
      if (/Ready to accept connections/.test(output)) return resolve(child);
      if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`redis-server exited: ${output}`));
      setTimeout(check, 10);
    };
    check();
  });
}

/**
 * Starts a cluster of `masters` masters (no replicas), created with `redis-cli --cluster
 * create`, and resolves once every node sees every slot served. About a second or two.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const ports: number[] = [];
  while (ports.length < masters) {
    const port = await freePort();
    // The cluster bus listens on port + 10000; both must be free.
    if (port < 55_000 && !ports.includes(port)) ports.push(port);
  }
  const dir = mkdtempSync(join(tmpdir(), 'fairbucket-cluster-'));
  const children = await Promise.all(ports.map((port) => startNode(port, dir)));
  await run('redis-cli', ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes']);
  const allServed = async () => {
    for (const port of ports) {
      const info = String(await ask(port, ['CLUSTER', 'INFO']));
      if (!info.includes('cluster_state:ok') || !info.includes(`cluster_known_nodes:${masters}`) || !info.includes('cluster_slots_ok:16384')) return false;
    }
    return true;
  };
  await until('every slot served', 20_000, allServed);
  const nodes: ClusterNode[] = await Promise.all(
    ports.map(async (port, index) => {
      const id = String(await ask(port, ['CLUSTER', 'MYID']));
      const stop = async () => {
        const child = children[index]!;
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      };
      const restart = async () => {
        await stop();
        children[index] = await startNode(port, dir);
        await until('the restarted node back in the cluster', 20_000, allServed);
      };
      return { port, url: `redis://127.0.0.1:${port}`, id, stop, restart };
    }),
  );
  return {
    nodes,
    seeds: ports.map((port) => ({ host: '127.0.0.1', port })),
    async ownerOf(slot, via = nodes[0]!) {
      const ranges = (await ask(via.port, ['CLUSTER', 'SLOTS'])) as [number, number, [string, number, string]][];
      const range = ranges.find(([first, last]) => first <= slot && slot <= last)!;
      return nodes.find((node) => node.port === Number(range[2][1]))!;
    },
    async reshard(from, to, slots) {
      await run('redis-cli', [
        '--cluster', 'reshard', `127.0.0.1:${from.port}`,
        '--cluster-from', from.id, '--cluster-to', to.id, '--cluster-slots', String(slots), '--cluster-yes',
      ]);
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
