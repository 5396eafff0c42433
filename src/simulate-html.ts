import type { Recommendation } from './simulate-recommend.js';
import type { SimulationReport } from './simulate-report.js';
import { type Line, escapeHtml, short, svgChart } from './simulate-svg.js';
import { amount, count, duration, percent, policyFlags } from './simulate-text.js';

/** Most points drawn per line: more than a chart's width has pixels is only weight. */
const MAX_POINTS = 720;
const COLORS = { arrivals: '#8d99ae', granted: '#2a9d8f', refused: '#e63946' };
const TRACE_COLORS = ['#e63946', '#f4a261', '#6a4c93', '#1d3557', '#2a9d8f'];

/** Sums `values` in groups of `group` consecutive steps, as points at each group's first step. */
function grouped(values: readonly number[], group: number): [number, number][] {
  const points: [number, number][] = [];
  for (let start = 0; start < values.length; start += group) {
    let sum = 0;
    for (let at = start; at < Math.min(values.length, start + group); at++) sum += values[at]!;
    points.push([start, sum]);
  }
  return points;
}

/** Returns a label for an offset of `ms` after the first request: its UTC time of day when `startMs` is a real date, else the offset. */
function timeLabel(startMs: number, ms: number): string {
  const date = new Date(startMs + ms);
  if (!(startMs > 1e11)) return duration(ms);
  return date.toISOString().slice(11, 16);
}

/** Tick spacings of a time axis, in milliseconds: from a second to a day. */
const TIME_STEPS_MS = [1, 5, 15, 60, 300, 900, 3600, 7200, 10_800, 21_600, 43_200, 86_400].map((seconds) => seconds * 1000);

/** Returns the steps of a time series of `steps` steps of `stepMs` at which to label time: at most 8, on round times of day. */
function timeTicks(startMs: number, steps: number, stepMs: number): number[] {
  const spanMs = Math.max(1, steps - 1) * stepMs;
  const everyMs = TIME_STEPS_MS.find((ms) => spanMs / ms <= 8) ?? Math.ceil(spanMs / 8 / 86_400_000) * 86_400_000;
  const origin = startMs > 1e11 ? startMs : 0;
  const ticks: number[] = [];
  for (let atMs = Math.ceil(origin / everyMs) * everyMs - origin; atMs <= spanMs; atMs += everyMs) ticks.push(atMs / stepMs);
  return ticks;
}

/** A table row whose value cell carries the report field it shows, so a reader (or a test) can tell one from the other. */
function row(label: string, field: string, value: string, note = ''): string {
  return `<tr><th>${escapeHtml(label)}</th><td data-field="${field}">${escapeHtml(value)}</td><td>${escapeHtml(note)}</td></tr>`;
}

/** Renders the refusal-by-key distribution as bars: how many keys had each share of their requests refused. */
function distributionBars(report: SimulationReport): string {
  const classes = report.keysByRefusedShare;
  const most = Math.max(1, ...classes.map(({ keys }) => keys));
  const names = classes.map(({ upToShare }, index) => (index === 0 ? 'none' : `${percent(classes[index - 1]!.upToShare)}–${percent(upToShare)}`));
  const bars = classes.map(({ keys }, index) => {
    const height = (Math.log10(keys + 1) / Math.log10(most + 1)) * 180;
    const x = 80 + index * 150;
    return (
      `<rect x="${x}" y="${(210 - height).toFixed(1)}" width="110" height="${height.toFixed(1)}" fill="${index === 0 ? COLORS.granted : COLORS.refused}"/>` +
      `<text x="${x + 55}" y="${(204 - height).toFixed(1)}" text-anchor="middle" class="legend">${count(keys)}</text>` +
      `<text x="${x + 55}" y="228" text-anchor="middle" class="tick">${escapeHtml(names[index]!)}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 860 250" width="860" height="250" role="img" aria-label="Keys by share of their requests refused">${bars.join('')}<text x="430" y="246" text-anchor="middle" class="axis">share of a key's requests refused (bar height: keys, log scale)</text></svg>`;
}

/** Renders the sections of one simulation report. */
function simulationSections(report: SimulationReport): string {
  const { totals, series } = report;
  const group = Math.max(1, Math.ceil(series.arrivals.length / MAX_POINTS));
  const per = duration(group * series.stepMs);
  const xLabel = (step: number): string => timeLabel(report.startMs, step * series.stepMs);
  const xTicks = timeTicks(report.startMs, series.arrivals.length, series.stepMs);
  const xDomain = [0, Math.max(1, series.arrivals.length - 1)] as const;
  const lines: Line[] = (['arrivals', 'granted', 'refused'] as const).map((name) => ({ name, color: COLORS[name], points: grouped(series[name], group) }));
  const traces: Line[] = report.traces.slice(0, TRACE_COLORS.length).map((trace, index) => {
    const every = Math.max(1, Math.ceil(trace.points.length / MAX_POINTS));
    return { name: trace.key, color: TRACE_COLORS[index]!, steps: true, points: trace.points.filter((_, at) => at % every === 0) };
  });
  const waits = report.waits
    ? row('Waited', 'waits.waited', count(report.waits.waited)) +
      row('Wait p50', 'waits.p50Ms', `${count(report.waits.p50Ms)} ms`) +
      row('Wait p99', 'waits.p99Ms', `${count(report.waits.p99Ms)} ms`) +
      row('Longest wait', 'waits.maxMs', `${count(report.waits.maxMs)} ms`)
    : '';
  const percentiles = report.refusedShareByKeyPercentile
    .map(({ percentile, refusedShare }) => `<tr><th>p${percentile}</th><td data-field="refusedShareByKeyPercentile.${percentile}">${percent(refusedShare)}</td></tr>`)
    .join('');
  const topKeys = report.topKeys
    .map(({ key, events, refused, refusedShare }) => `<tr><td class="key">${escapeHtml(key)}</td><td>${count(events)}</td><td>${count(refused)}</td><td>${percent(refusedShare)}</td></tr>`)
    .join('');
  return `
<h2>Policy <code>${escapeHtml(policyFlags(report.policy))}</code>, ${report.mode} mode</h2>
<table class="summary">
${row('Requests', 'totals.events', count(totals.events), `over ${duration(report.durationMs)}`)}
${row('Granted', 'totals.granted', count(totals.granted))}
${row('Refused', 'totals.refused', count(totals.refused), percent(totals.refusedShare))}
${row('Keys', 'totals.keys', count(totals.keys))}
${row('Keys refused at least once', 'totals.refusedKeys', count(totals.refusedKeys), percent(totals.refusedKeysShare))}
${waits}
${row('Buckets held at most', 'memory.peakSize', count(report.memory.peakSize), `${count(report.memory.finalSize)} at the end`)}
</table>
<h3>Requests over time</h3>
${svgChart({ title: 'Requests over time', lines, xTitle: 'time (UTC)', yTitle: `requests per ${per}`, xLabel, xTicks, xDomain })}
<h3>Refusals by key</h3>
${distributionBars(report)}
<table class="percentiles"><tr><th colspan="2">Share of its requests refused, by percentile of keys</th></tr>${percentiles}</table>
<h3>Tokens of the most refused keys</h3>
${traces.length ? svgChart({ title: 'Tokens of the most refused keys', lines: traces, xTitle: 'time (UTC)', yTitle: 'tokens (fewest in each step)', xLabel, xTicks, xDomain, yMax: report.policy.capacity }) : '<p>No key was refused.</p>'}
${topKeys ? `<table class="keys"><tr><th>key</th><th>requests</th><th>refused</th><th>share</th></tr>${topKeys}</table>` : ''}`;
}

/** Renders the frontier of a recommendation: every policy tried, those meeting the target, the frontier and the one recommended. */
function recommendationSections(recommendation: Recommendation): string {
  const { grid, frontier, recommended, target } = recommendation;
  const logY = grid.every(({ refillPerSecond }) => refillPerSecond > 0);
  const point = (summary: { capacity: number; refillPerSecond: number }): [number, number] => [summary.capacity, summary.refillPerSecond];
  const lines: Line[] = [
    { name: 'refuses too many keys', color: '#ccc', dots: true, points: grid.filter((summary) => !summary.meetsTarget).map(point) },
    { name: 'meets the target', color: COLORS.granted, dots: true, points: grid.filter((summary) => summary.meetsTarget).map(point) },
    { name: 'frontier', color: '#1d3557', points: frontier.map(point) },
  ];
  if (recommended) lines.push({ name: 'recommended', color: COLORS.refused, dots: true, points: [point(recommended)] });
  const rows = frontier
    .map(
      (summary, index) =>
        `<tr${summary === recommended ? ' class="recommended"' : ''}><td data-field="frontier.${index}.capacity">${amount(summary.capacity)}</td><td data-field="frontier.${index}.refillPerSecond">${amount(summary.refillPerSecond)}</td><td>${count(summary.refusedKeys)} (${percent(summary.refusedKeysShare)})</td><td>${count(summary.refused)} (${percent(summary.refusedShare)})</td></tr>`,
    )
    .join('');
  return `
<h2>Recommendation: at most ${percent(target.maxRefusedKeysShare)} of keys refused</h2>
<p class="recommended">${recommended ? `Recommended: <code data-field="recommended">${escapeHtml(policyFlags(recommended))}</code>` : 'No policy tried meets the target.'}</p>
${svgChart({ title: 'Policies tried', lines, xTitle: 'capacity (tokens)', yTitle: 'refill (tokens per second)', xLabel: short, logX: true, logY })}
<table class="frontier"><tr><th>capacity</th><th>rate/s</th><th>keys refused</th><th>requests refused</th></tr>${rows}</table>`;
}

/**
 * Returns a self-contained HTML page (inline SVG and CSS, no script, nothing fetched) of
 * a simulation report, a recommendation, or both.
 * @example
 * ```ts
 * writeFileSync('report.html', renderHtml({ source: 'access.log', report }));
 * ```
 */
export function renderHtml(parts: { readonly source: string; readonly report?: SimulationReport | undefined; readonly recommendation?: Recommendation | undefined }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>fairbucket: ${escapeHtml(parts.source)}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 24px auto; max-width: 900px; padding: 0 12px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; } h3 { font-size: 15px; margin: 22px 0 4px; }
table { border-collapse: collapse; margin: 8px 0; } th, td { padding: 3px 12px 3px 0; text-align: left; } td { font-variant-numeric: tabular-nums; }
.summary th { font-weight: normal; color: #555; } .summary td:nth-child(2) { text-align: right; font-weight: 600; }
.keys td, .frontier td { border-top: 1px solid #eee; } .key { font-family: ui-monospace, monospace; }
tr.recommended td { background: #fdecea; font-weight: 600; } p.recommended { font-size: 16px; }
svg { max-width: 100%; height: auto; } svg .tick { font-size: 11px; fill: #666; } svg .axis { font-size: 12px; fill: #333; } svg .legend { font-size: 12px; fill: #222; }
</style></head><body>
<h1>fairbucket: <code>${escapeHtml(parts.source)}</code></h1>
${parts.recommendation ? recommendationSections(parts.recommendation) : ''}
${parts.report ? simulationSections(parts.report) : ''}
</body></html>
`;
}
