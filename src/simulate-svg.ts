/*
 * Small inline SVG charts for the HTML report: axes, lines, bars and points, as strings.
 * No script and no external resource, so a report reads anywhere, offline.
 */

/** Escapes text for HTML and SVG. */
export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** One line or set of points of a chart. */
export interface Line {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [x: number, y: number])[];
  /** Draw points instead of a line. */
  readonly dots?: boolean | undefined;
  /** Draw the line as steps (the value holds until the next point). */
  readonly steps?: boolean | undefined;
}

/** A chart: its lines, axis titles and tick labels. */
export interface Chart {
  readonly title: string;
  readonly lines: readonly Line[];
  readonly xTitle: string;
  readonly yTitle: string;
  readonly xLabel: (x: number) => string;
  readonly yLabel?: ((y: number) => string) | undefined;
  /** Logarithmic axes (every value > 0). */
  readonly logX?: boolean | undefined;
  readonly logY?: boolean | undefined;
  /** Largest y shown. @default the largest value, rounded up to a round number */
  readonly yMax?: number | undefined;
  /** The x values at the chart's left and right edges. @default the smallest and largest */
  readonly xDomain?: readonly [number, number] | undefined;
  /** Where to label the x axis. @default 7 even steps */
  readonly xTicks?: readonly number[] | undefined;
}

/** Returns the round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) at or above `value`. */
export function roundUp(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map((factor) => factor * power).find((round) => round >= value * (1 - 1e-12))!;
}

const WIDTH = 860;
const HEIGHT = 300;
const LEFT = 70;
const RIGHT = 20;
const TOP = 30;
const BOTTOM = 50;

/** Returns `n` round tick values from `low` to `high` (linear). */
function ticks(low: number, high: number, n: number): number[] {
  return Array.from({ length: n + 1 }, (_, index) => low + ((high - low) * index) / n);
}

/** Returns a mapping of values in `[low, high]` (low < high) onto pixels `[from, to]`, logarithmic if asked. */
function scale(low: number, high: number, from: number, to: number, log: boolean): (value: number) => number {
  const [a, b] = log ? [Math.log10(low), Math.log10(high)] : [low, high];
  return (value) => from + (((log ? Math.log10(value) : value) - a) / (b - a)) * (to - from);
}

/** Formats a number for a tick: `1.5k`, `2M`, `0.05`. */
export function short(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}

/** Renders `chart` as an inline SVG element. */
export function svgChart(chart: Chart): string {
  const all = chart.lines.flatMap((line) => line.points);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const [xLow, xHigh] = chart.xDomain ?? (xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1]);
  const yLow = chart.logY ? Math.min(...ys) : 0;
  const yHigh = chart.yMax ?? (chart.logY ? Math.max(...ys) : roundUp(Math.max(1, ...ys)));
  const x = scale(xLow, xHigh === xLow ? xLow + 1 : xHigh, LEFT, WIDTH - RIGHT, chart.logX ?? false);
  const y = scale(yLow, yHigh === yLow ? yLow + 1 : yHigh, HEIGHT - BOTTOM, TOP, chart.logY ?? false);
  const xTicks = chart.xTicks ?? (chart.logX ? [...new Set(xs)].sort((a, b) => a - b) : ticks(xLow, xHigh, 6));
  const yTicks = chart.logY ? [...new Set(ys)].sort((a, b) => a - b) : ticks(yLow, yHigh, 4);
  const yLabel = chart.yLabel ?? short;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(chart.title)}">`,
    `<rect x="${LEFT}" y="${TOP}" width="${WIDTH - LEFT - RIGHT}" height="${HEIGHT - TOP - BOTTOM}" fill="#fafafa" stroke="#ddd"/>`,
  ];
  for (const tick of yTicks) {
    parts.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" class="tick">${escapeHtml(yLabel(tick))}</text>`);
  }
  for (const tick of xTicks) parts.push(`<text x="${x(tick).toFixed(1)}" y="${HEIGHT - BOTTOM + 16}" text-anchor="middle" class="tick">${escapeHtml(chart.xLabel(tick))}</text>`);
  parts.push(`<text x="${(LEFT + WIDTH - RIGHT) / 2}" y="${HEIGHT - 10}" text-anchor="middle" class="axis">${escapeHtml(chart.xTitle)}</text>`);
  parts.push(`<text transform="translate(14 ${(TOP + HEIGHT - BOTTOM) / 2}) rotate(-90)" text-anchor="middle" class="axis">${escapeHtml(chart.yTitle)}</text>`);
  chart.lines.forEach((line, index) => {
    const legendX = LEFT + 10 + index * 190;
    parts.push(`<rect x="${legendX}" y="8" width="12" height="12" fill="${line.color}"/><text x="${legendX + 16}" y="18" class="legend">${escapeHtml(line.name)}</text>`);
    if (line.dots) {
      for (const [px, py] of line.points) parts.push(`<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="4" fill="${line.color}"/>`);
      return;
    }
    const path: string[] = [];
    line.points.forEach(([px, py], at) => {
      if (line.steps && at > 0) path.push(`${x(px).toFixed(1)},${y(line.points[at - 1]![1]).toFixed(1)}`);
      path.push(`${x(px).toFixed(1)},${y(py).toFixed(1)}`);
    });
    parts.push(`<polyline fill="none" stroke="${line.color}" stroke-width="1.5" points="${path.join(' ')}"/>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
