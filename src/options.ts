// Transitional: the option types moved to limit-options.ts and their checks to
// check-options.ts; this re-export keeps the entry points that still import from here
// building until they move too.
export * from './check-options.js';
export * from './limit-options.js';
export { aboveCapacity } from './validate.js';
