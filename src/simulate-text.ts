import type { PolicySummary, Recommendation } from './simulate-recommend.js';
import type { SimulationReport } from './simulate-report.js';

/** Formats a count with thousands separators: `1,234,567`. */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Formats a share as a percentage, with more digits the smaller it is: `12.5%`, `0.012%`, `0%`. */
export function percent(share: number): string {
  if (share === 0) return '0%';
  const value = share * 100;
  const digits = value >= 10 ? 1 : value >= 1 ? 2 : Math.min(6, 1 - Math.floor(Math.log10(value)) + 1);
  return `${Number(value.toFixed(digits))}%`;
}

/** Formats a duration in milliseconds: `850 ms`, `12.5 s`, `3 h 20 min`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Number(ms.toFixed(1))} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))} s`;
  const minutes = Math.round(ms / 60_000);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Formats a number of tokens or a rate without needless digits: `2`, `0.05`. */
export function amount(value: number): string {
  return String(Number(value.toPrecision(6)));
}

/** Describes a policy as the command line's flags name it. */
export function policyFlags(policy: { readonly capacity: number; readonly refillPerSecond: number }): string {
  return `--capacity ${amount(policy.capacity)} --rate ${amount(policy.refillPerSecond)}`;
}

/**
 * Returns the text summary of a simulation, as `fairbucket simulate` prints it.
 * @example
 * ```ts
 * console.log(formatReport(await simulate(events, policy)));
 * ```
 */
export function formatReport(report: SimulationReport): string {
  const { totals, policy } = report;
  const lines = [
    `fairbucket simulate: capacity ${amount(policy.capacity)}, refill ${amount(policy.refillPerSecond)} per second, ${report.mode} mode${report.mode === 'wait' ? ` (max wait ${report.maxWaitMs === Infinity ? 'unbounded' : duration(report.maxWaitMs)})` : ''}`,
    `  requests  ${count(totals.events)} over ${duration(report.durationMs)}`,
    `  granted   ${count(totals.granted)} (${percent(totals.events ? totals.granted / totals.events : 0)})`,
    `  refused   ${count(totals.refused)} (${percent(totals.refusedShare)})`,
    `  keys      ${count(totals.keys)}, refused at least once: ${count(totals.refusedKeys)} (${percent(totals.refusedKeysShare)})`,
    `  refused share of each key's requests, by percentile of keys: ${report.refusedShareByKeyPercentile.map(({ percentile, refusedShare }) => `p${percentile} ${percent(refusedShare)}`).join(', ')}`,
  ];
  if (report.waits) lines.push(`  waits     ${count(report.waits.waited)} waited; p50 ${duration(report.waits.p50Ms)}, p99 ${duration(report.waits.p99Ms)}, max ${duration(report.waits.maxMs)}`);
  lines.push(`  memory    ${count(report.memory.peakSize)} buckets at most, ${count(report.memory.finalSize)} at the end`);
  if (totals.reordered) lines.push(`  ${count(totals.reordered)} requests earlier than the one before them were replayed at its time`);
  if (report.topKeys.length) {
    lines.push('  most refused keys:');
    const width = Math.max(...report.topKeys.map(({ key }) => key.length));
    for (const { key, events, refused, refusedShare } of report.topKeys) lines.push(`    ${key.padEnd(width)}  ${count(refused)} of ${count(events)} refused (${percent(refusedShare)})`);
  }
  return lines.join('\n');
}

/** Describes what a policy tried by `recommend` refuses. */
function refusals(summary: PolicySummary): string {
  return `refuses ${count(summary.refusedKeys)} of ${count(summary.keys)} keys (${percent(summary.refusedKeysShare)}) and ${count(summary.refused)} of ${count(summary.events)} requests (${percent(summary.refusedShare)})`;
}

/**
 * Returns the text summary of a recommendation, as `fairbucket recommend` prints it.
 * @example
 * ```ts
 * console.log(formatRecommendation(await recommend(events)));
 * ```
 */
export function formatRecommendation(recommendation: Recommendation): string {
  const { target, frontier, recommended } = recommendation;
  const goal = `at most ${percent(target.maxRefusedKeysShare)} of keys refused${target.maxRefusedShare < 1 ? `, at most ${percent(target.maxRefusedShare)} of requests` : ''}`;
  const lines = [`fairbucket recommend: ${goal}, ${recommendation.grid.length} policies tried`];
  if (!recommended) {
    lines.push('  no policy tried meets the target: try larger --capacities or --rates, or a looser target');
    return lines.join('\n');
  }
  lines.push(`  recommended: ${policyFlags(recommended)}  (${refusals(recommended)})`);
  lines.push('  frontier (each the smallest rate for its capacity):');
  lines.push('    capacity  rate/s  keys refused  requests refused');
  for (const summary of frontier) {
    lines.push(
      `    ${amount(summary.capacity).padStart(8)}  ${amount(summary.refillPerSecond).padStart(6)}  ${percent(summary.refusedKeysShare).padStart(12)}  ${percent(summary.refusedShare).padStart(16)}`,
    );
  }
  return lines.join('\n');
}
