// The HTTP benchmark: Express, Fastify and Hono (@hono/node-server) hello-world servers
// with no limiter, with the framework's best-known peer (express-rate-limit,
// @fastify/rate-limit, hono-rate-limiter) and with fairbucket, on the allowed path and the
// refused path. Each server is its own process, the load generator (autocannon) another;
// the contenders of one framework and path take turns over several rounds, and each
// figure is the median of the rounds. Server CPU is process.cpuUsage() inside the server.
// Writes its section of bench/RESULTS.md (between the http markers), leaving the rest.
// Usage: npm run bench:http   (builds first)   |   node bench/http-run.mjs --quick --rounds=N --only=fastify[:allowed]
// (--quick, --rounds and --only print without writing RESULTS.md)
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const quick = process.argv.includes('--quick');
const ROUNDS = Number(process.argv.find((arg) => arg.startsWith('--rounds='))?.slice('--rounds='.length) ?? (quick ? 1 : 10));
const DURATION_S = 1;
const WARMUP_S = quick ? 1 : 2;
const CONNECTIONS = 10;
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(':') ?? [];
const FRAMEWORKS = ['express', 'fastify', 'hono'].filter((name) => !only[0] || name === only[0]);
const PATHS = ['allowed', 'refused'].filter((name) => !only[1] || name === only[1]);
const CONTENDERS = ['none', 'peer', 'fairbucket'];
const PEERS = { express: 'express-rate-limit', fastify: '@fastify/rate-limit', hono: 'hono-rate-limiter' };
const serverScript = fileURLToPath(new URL('./http-server.mjs', import.meta.url));
const loadScript = fileURLToPath(new URL('./http-load.mjs', import.meta.url));
const resultsFile = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

// The server on one core and the load generator on the other, where taskset exists, so
// that every contender meets the same arrangement (the cores are shared with others).
const pinned = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** Starts node on `script` (pinned to `core` when it can be) and resolves with it and its first message. */
function start(script, args, core) {
  const command = pinned ? ['taskset', ['-c', String(core), process.execPath, script, ...args]] : [process.execPath, [script, ...args]];
  const child = spawn(command[0], command[1], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => resolve({ child, message }));
    child.once('exit', (code) => reject(new Error(`${script} ${args.join(' ')} exited with ${code}`)));
  });
}

function ask(child, message) {
  return new Promise((resolve) => {
    child.once('message', resolve);
    child.send(message);
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const { child: loader } = await start(loadScript, [], 1);
const rows = [];
const startedMs = Date.now();
for (const framework of FRAMEWORKS) {
  for (const path of PATHS) {
    const servers = {};
    for (const contender of CONTENDERS) {
      const { child, message } = await start(serverScript, [framework, contender, path], 0);
      servers[contender] = { child, url: `http://127.0.0.1:${message.port}/`, runs: [] };
      await ask(loader, { url: servers[contender].url, durationS: WARMUP_S, connections: CONNECTIONS });
    }
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so that no contender always runs first after a pause.
      const order = round % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
      for (const contender of order) {
        const server = servers[contender];
        await ask(server.child, 'start');
        const load = await ask(loader, { url: server.url, durationS: DURATION_S, connections: CONNECTIONS });
        const { cpu } = await ask(server.child, 'stop');
        const expected = contender === 'none' || path === 'allowed' ? '2xx' : '4xx';
        if (load.statuses[expected] !== load.requests) throw new Error(`${framework} ${contender} ${path}: expected only ${expected}, got ${JSON.stringify(load.statuses)}`);
        server.runs.push({ requestsPerSecond: load.requests / load.durationS, p99Ms: load.p99Ms, cpuUsPerRequest: cpu / load.requests });
      }
    }
    // "Added" is the median of each round's difference from no limiter measured beside
    // it, so that a slow spell of this shared machine weighs on both sides of a pair.
    const none = servers.none.runs.map((run) => run.cpuUsPerRequest);
    for (const contender of CONTENDERS) {
      const { runs, child } = servers[contender];
      const cpuUsPerRequest = median(runs.map((run) => run.cpuUsPerRequest));
      const addedUs = median(runs.map((run, round) => run.cpuUsPerRequest - none[round]));
      rows.push({
        framework,
        path,
        contender: contender === 'peer' ? PEERS[framework] : contender === 'none' ? 'no limiter' : 'fairbucket',
        kind: contender,
        requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
        p99Ms: median(runs.map((run) => run.p99Ms)),
        cpuUsPerRequest,
        addedUs,
      });
      child.kill();
    }
    console.error(`${framework} ${path} done (${Math.round((Date.now() - startedMs) / 1000)} s)`);
  }
}
loader.kill();

const lines = [];
const say = (line = '') => lines.push(line);
const number = (value, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
say(`## HTTP servers against the peers (\`npm run bench:http\`)`);
say();
say(
  `${new Date().toISOString().slice(0, 10)} · Node ${process.version} · ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores, shared) · median of ${ROUNDS} alternating round(s) of ${DURATION_S} s after ${WARMUP_S} s of warm-up, ${CONNECTIONS} connections, autocannon in its own process${pinned ? ', server and load generator pinned to one core each' : ''}`,
);
say();
say('Hello-world route; "refused" answers every request with 429 (a quota of 1 a minute). Server CPU is user + system time of the server process per request; "added" is the median over rounds of the difference from the same framework with no limiter, measured beside it in the same round.');
say();
say('| framework | path | contender | requests/s | vs no limiter | p99 ms | server CPU µs/request | added µs/request |');
say('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) {
  const base = rows.find((other) => other.framework === row.framework && other.path === row.path && other.kind === 'none');
  say(
    `| ${row.framework} | ${row.path} | ${row.contender} | ${number(row.requestsPerSecond)} | ${(row.requestsPerSecond / base.requestsPerSecond).toFixed(2)}× | ${row.p99Ms} | ${number(row.cpuUsPerRequest, 1)} | ${row.kind === 'none' ? '—' : number(row.addedUs, 1)} |`,
  );
}
say();
say('Target: CPU µs per request added over no limiter at most the peer\'s, on every framework and path.');
say();
say('| framework | path | fairbucket added µs | peer added µs | met |');
say('| --- | --- | ---: | ---: | --- |');
for (const framework of FRAMEWORKS) {
  for (const path of PATHS) {
    const find = (kind) => rows.find((row) => row.framework === framework && row.path === path && row.kind === kind);
    const ours = find('fairbucket').addedUs;
    const peer = find('peer').addedUs;
    say(`| ${framework} | ${path} | ${number(ours, 1)} | ${number(peer, 1)} (${PEERS[framework]}) | ${ours <= peer ? 'yes' : '**no**'} |`);
  }
}
const section = lines.join('\n');
console.log(section);

// The section runs from its heading to the next heading of the same level, or the end;
// the other sections (npm run bench, the Redis scenario) are left as they are.
const HEADING = '## HTTP servers against the peers';
let results = '';
try {
  results = readFileSync(resultsFile, 'utf8');
} catch {}
const at = results.indexOf(`\n${HEADING}`);
const next = at < 0 ? -1 : results.indexOf('\n## ', at + 1);
const updated = at < 0 ? `${results.trimEnd()}\n\n${section}\n` : `${results.slice(0, at + 1)}${section}\n${next < 0 ? '' : results.slice(next)}`;
if (!quick && only.length === 0 && !process.argv.some((arg) => arg.startsWith('--rounds='))) writeFileSync(resultsFile, updated);
