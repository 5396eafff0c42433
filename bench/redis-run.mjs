// Scenario 8 alone: `npm run build && node bench/redis-run.mjs [--quick]`. Prints its
// section and puts it in place of the Redis section of bench/RESULTS.md.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { localRedis } from './redis-server.mjs';
import { redisScenario } from './redis-scenario.mjs';

const runs = process.argv.includes('--quick') ? 1 : 3;
const child = fileURLToPath(new URL('./redis-child.mjs', import.meta.url));
const heading = '## 8. Redis: decisions per second against one local Redis';
const lines = [heading, ''];
const say = (line = '') => {
  console.log(line);
  lines.push(line);
};
const table = (headers, rows) => {
  say(`| ${headers.join(' | ')} |`);
  say(`| ${headers.map((_, index) => (index === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const row of rows) say(`| ${row.join(' | ')} |`);
  say();
};
const measure = (contender, params) => JSON.parse(execFileSync(process.execPath, [child, contender, JSON.stringify(params)], { encoding: 'utf8', timeout: 300_000 }).trim().split('\n').pop());

const redis = await localRedis();
if (!redis) throw new Error('No Redis here: install redis-server or set REDIS_URL.');
try {
  redisScenario({ url: redis.url, runs, say, table, measure });
} finally {
  await redis.stop();
}
const resultsFile = new URL('./RESULTS.md', import.meta.url);
const results = readFileSync(resultsFile, 'utf8');
const start = results.indexOf(heading);
const end = start === -1 ? -1 : results.indexOf('\n## ', start + heading.length);
const section = `${lines.join('\n').trimEnd()}\n`;
writeFileSync(resultsFile, start === -1 ? `${results.trimEnd()}\n\n${section}` : `${results.slice(0, start)}${section}${end === -1 ? '' : results.slice(end + 1)}`);
