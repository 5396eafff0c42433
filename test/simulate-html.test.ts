import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli-main.js';
import type { Recommendation, SimulationReport } from '../src/simulate.js';
import { mulberry32 } from './support/random.js';

const work = mkdtempSync(join(tmpdir(), 'fairbucket-html-'));
let browser: BrowserContext;

/** Two hours of JSON-lines traffic: 40 steady clients, one bursting, one hammering from rotating IPv6 addresses. */
function sampleLog(): string {
  const random = mulberry32(5);
  const lines: { timeMs: number; line: string }[] = [];
  const startMs = Date.UTC(2026, 0, 5, 9);
  const add = (timeMs: number, address: string) => lines.push({ timeMs, line: JSON.stringify({ time: new Date(timeMs).toISOString(), remote_addr: address }) });
  for (let client = 0; client < 40; client++) for (let atMs = startMs + random() * 60_000; atMs < startMs + 7_200_000; atMs += 5_000 + random() * 60_000) add(atMs, `198.51.100.${client}`);
  for (let burst = 0; burst < 12; burst++) for (let call = 0; call < 40; call++) add(startMs + burst * 600_000 + call * 20, '203.0.113.9');
  for (let atMs = startMs + 3_600_000; atMs < startMs + 4_500_000; atMs += 100 + random() * 200) add(atMs, `2001:db8:bad:ff00:${Math.floor(random() * 65_535).toString(16)}::1`);
  return lines
    .sort((a, b) => a.timeMs - b.timeMs)
    .map(({ line }) => line)
    .join('\n');
}

/** Runs the command in this process on `input`; returns its stdout. */
async function command(args: readonly string[], input: string): Promise<string> {
  const stdin = new PassThrough();
  stdin.end(input);
  let stdout = '';
  let stderr = '';
  const code = await main(args, { stdin, stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } });
  expect([code, stderr]).toEqual([0, '']);
  return stdout;
}

/** Opens `file` in headless Chromium; returns the report's fields, the console errors, the requests made and a screenshot. */
async function open(file: string) {
  const page = await browser.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => void (message.type() === 'error' && errors.push(message.text())));
  page.on('pageerror', (error) => void errors.push(error.message));
  page.on('request', (request) => void requests.push(request.url()));
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    const fields = Object.fromEntries(
      await page.$$eval('[data-field]', (cells) => cells.map((cell) => [cell.getAttribute('data-field')!, cell.textContent!.trim()] as [string, string])),
    );
    const charts = await page.$$eval('svg', (svgs) => svgs.map((svg) => ({ label: svg.getAttribute('aria-label'), width: svg.getBoundingClientRect().width, marks: svg.querySelectorAll('polyline, circle, rect').length })));
    const screenshot = await page.screenshot({ fullPage: true });
    return { fields, charts, errors, requests, screenshot };
  } finally {
    await page.close();
  }
}

/** Reads a number as the report shows it: `1,234`, `250 ms`, `12.5%` (as a share). */
function shown(text: string | undefined): number {
  const value = Number(text!.replaceAll(',', '').replace(/ ms$/, '').replace(/%$/, ''));
  return text!.endsWith('%') ? value / 100 : value;
}

beforeAll(async () => {
  writeFileSync(join(work, 'access.jsonl'), sampleLog());
  browser = await chromium.launchPersistentContext(mkdtempSync(join(work, 'profile-')), {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the HTML report, in headless Chromium', () => {
  it('shows the numbers of the JSON report, draws its charts, fetches nothing and logs no error', async () => {
    const input = readFileSync(join(work, 'access.jsonl'), 'utf8');
    const file = join(work, 'simulate.html');
    const args = ['simulate', '--capacity', '10', '--rate', '0.5', '--mode', 'wait', '--max-wait-ms', '2000'];
    const report = JSON.parse(await command([...args, '--json', '--report', file], input)) as SimulationReport;
    const { fields, charts, errors, requests, screenshot } = await open(file);
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(screenshot.subarray(1, 4).toString()).toBe('PNG');
    writeFileSync(join(work, 'simulate.png'), screenshot);

    expect(report.totals.refused).toBeGreaterThan(0);
    for (const field of ['events', 'granted', 'refused', 'keys', 'refusedKeys'] as const) expect(shown(fields[`totals.${field}`])).toBe(report.totals[field]);
    expect(shown(fields['memory.peakSize'])).toBe(report.memory.peakSize);
    expect(shown(fields['waits.waited'])).toBe(report.waits!.waited);
    for (const field of ['p50Ms', 'p99Ms', 'maxMs'] as const) expect(shown(fields[`waits.${field}`])).toBe(Math.round(report.waits![field]));
    for (const { percentile, refusedShare } of report.refusedShareByKeyPercentile) {
      expect(shown(fields[`refusedShareByKeyPercentile.${percentile}`])).toBeCloseTo(refusedShare, 3);
    }
    expect(charts.map(({ label }) => label)).toEqual(['Requests over time', 'Keys by share of their requests refused', 'Tokens of the most refused keys']);
    for (const chart of charts) expect([chart.width, chart.marks > 3]).toEqual([860, true]);
  });

  it('shows the frontier of a recommendation with the recommended policy of the JSON', async () => {
    const file = join(work, 'recommend.html');
    const input = readFileSync(join(work, 'access.jsonl'), 'utf8');
    const { recommendation } = JSON.parse(await command(['recommend', '--refused-keys', '3%', '--json', '--report', file], input)) as { recommendation: Recommendation };
    const { fields, charts, errors, requests } = await open(file);
    expect(errors).toEqual([]);
    expect(requests).toHaveLength(1);
    const { recommended, frontier } = recommendation;
    expect(recommended).toBeDefined();
    expect(fields.recommended).toBe(`--capacity ${recommended!.capacity} --rate ${recommended!.refillPerSecond}`);
    frontier.forEach((summary, index) => {
      expect([shown(fields[`frontier.${index}.capacity`]), shown(fields[`frontier.${index}.refillPerSecond`])]).toEqual([summary.capacity, summary.refillPerSecond]);
    });
    expect(fields[`frontier.${frontier.length}.capacity`]).toBeUndefined();
    // Standard input is read once: the frontier only, no second pass for the charts of the recommended policy.
    expect(charts.map(({ label }) => label)).toEqual(['Policies tried']);
  });
});
