/*
 * Choosing limits from real traffic: replay requests (an access log, say) through a real
 * KeyedLimiter on a virtual clock, see what a policy would refuse, and search for the
 * smallest policies that refuse (almost) no one honest. No Node module is imported here;
 * the command line (`fairbucket simulate|recommend`) reads logs on top of it.
 */
export { VirtualClock } from './simulate-clock.js';
export type { SimulateOptions, SimulationEvent, SimulationPolicy } from './simulate-options.js';
export {
  DEFAULT_CAPACITIES,
  DEFAULT_RATES,
  type PolicySummary,
  type Recommendation,
  type RecommendOptions,
  recommend,
} from './simulate-recommend.js';
export type { KeyCounts, SimulationReport, SimulationSeries, SimulationTotals, SimulationWaits, TokenTrace } from './simulate-report.js';
export { simulate } from './simulate-run.js';
export { Simulation } from './simulation.js';
