import { describe, expect, it } from 'vitest';
import { renderHtml } from '../src/simulate-html.js';
import { escapeHtml, short, svgChart } from '../src/simulate-svg.js';
import { amount, count, duration, formatReport, percent } from '../src/simulate-text.js';
import { recommend, simulate } from '../src/simulate.js';

describe('the text helpers', () => {
  it.each([
    ['percent', 0, '0%'],
    ['percent', 1, '100%'],
    ['percent', 0.125, '12.5%'],
    ['percent', 0.0512, '5.12%'],
    ['percent', 0.000989, '0.0989%'],
    ['percent', 1e-7, '0.00001%'],
    ['duration', 0.25, '0.3 ms'],
    ['duration', 850, '850 ms'],
    ['duration', 12_340, '12.3 s'],
    ['duration', 600_000, '10 min'],
    ['duration', 86_400_000 - 60_000, '23 h 59 min'],
  ] as const)('%s(%d) is %s', (name, value, text) => {
    expect({ percent, duration }[name](value)).toBe(text);
  });

  it('formats counts, amounts and tick labels', () => {
    expect([count(1234567.4), amount(0.1 + 0.2), amount(20)]).toEqual(['1,234,567', '0.3', '20']);
    expect([short(2_500_000), short(45_000), short(0.05), short(1234)]).toEqual(['2.5M', '45k', '0.05', '1230']);
    expect(escapeHtml('<a href="x">&</a>')).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;');
  });
});

describe('formatReport', () => {
  it('reports an empty replay as zeros', async () => {
    expect(formatReport(await simulate([], { capacity: 1, refillPerSecond: 1 }))).toContain('  granted   0 (0%)');
  });

  it('says when waits are unbounded', async () => {
    const report = await simulate([{ timeMs: 0, key: 'a' }], { capacity: 1, refillPerSecond: 1 }, { mode: 'wait' });
    expect(formatReport(report).split('\n')[0]).toBe('fairbucket simulate: capacity 1, refill 1 per second, wait mode (max wait unbounded)');
  });
});

describe('svgChart', () => {
  it('draws lines, steps and dots on linear or logarithmic axes', () => {
    const svg = svgChart({
      title: 'T',
      xTitle: 'x',
      yTitle: 'y',
      xLabel: String,
      logX: true,
      logY: true,
      lines: [
        { name: 'line', color: '#000', points: [[1, 1], [10, 100]] },
        { name: 'steps', color: '#111', steps: true, points: [[1, 10], [10, 1]] },
        { name: 'dots', color: '#222', dots: true, points: [[1, 1]] },
      ],
    });
    expect(svg).toContain('<polyline fill="none" stroke="#000" stroke-width="1.5" points="70.0,250.0 840.0,30.0"/>');
    expect(svg).toContain('points="70.0,140.0 840.0,140.0 840.0,250.0"');
    expect(svg).toContain('<circle cx="70.0" cy="250.0" r="4" fill="#222"/>');
  });

  it('draws an empty chart, or one of a single point', () => {
    expect(svgChart({ title: 'T', xTitle: 'x', yTitle: 'y', xLabel: String, lines: [] })).toContain('aria-label="T"');
    expect(svgChart({ title: 'T', xTitle: 'x', yTitle: 'y', xLabel: String, lines: [{ name: 'one', color: '#000', points: [[5, 0]] }] })).toContain('points="70.0,250.0"');
  });
});

describe('renderHtml', () => {
  it('labels time from the first request when times are not dates, and says when no key was refused', async () => {
    const report = await simulate([{ timeMs: 0, key: 'a' }, { timeMs: 90_000, key: 'b' }], { capacity: 1, refillPerSecond: 1 });
    const html = renderHtml({ source: 'x <y>', report });
    expect(html).toContain('<title>fairbucket: x &lt;y&gt;</title>');
    expect(html).toContain('>45 s<');
    expect(html).toContain('<p>No key was refused.</p>');
    expect(html).not.toContain('<table class="keys">');
  });

  it('labels a replay of many days every few days', async () => {
    const day = 86_400_000;
    const report = await simulate([0, 20 * day].map((afterMs) => ({ timeMs: Date.UTC(2026, 0, 1) + afterMs, key: 'a' })), { capacity: 1, refillPerSecond: 1 }, { seriesStepMs: 60_000 });
    const labels = renderHtml({ source: 's', report }).match(/class="tick">\d\d:\d\d</g);
    expect(labels).toHaveLength(7); // at 0, 3, 6 … 18 days
  });

  it('plots rates of 0 on a linear axis', async () => {
    const recommendation = await recommend([{ timeMs: 0, key: 'a' }], { capacities: [1, 2], rates: [0, 1] });
    expect(renderHtml({ source: 's', recommendation })).toContain('>0<');
  });
});
