// Takes a PNG picture of an HTML report in headless Chromium (Debian's /usr/bin/chromium,
// or CHROMIUM=path), as the README shows it: the top `--height` pixels of the page.
// Usage: node examples/report-screenshot.mjs REPORT.html OUT.png [--height 1400]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values, positionals } = parseArgs({ options: { height: { type: 'string', default: '1400' } }, allowPositionals: true });
const [html, png] = positionals;
if (!html || !png) throw new Error('Usage: node examples/report-screenshot.mjs REPORT.html OUT.png [--height 1400]');
const profile = mkdtempSync(join(tmpdir(), 'fairbucket-shot-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 940, height: Number(values.height) },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  await page.goto(pathToFileURL(resolve(html)).href);
  await page.screenshot({ path: png, type: 'png' });
  console.log(`report-screenshot: wrote ${png}`);
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
