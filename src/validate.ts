/** Builds the one message form for bad input: Expected `name` to be …, got `value` (type). */
function describe(value: unknown): string {
  return `\`${typeof value === 'string' ? JSON.stringify(value) : String(value)}\` (${typeof value})`;
}

/**
 * Returns an error naming the parameter and the value it got: a RangeError when `range`
 * is true for a number (a value out of range), else a TypeError (a value of the wrong type).
 */
export function invalid(name: string, expected: string, value: unknown, range = false): TypeError {
  const ErrorType = range && typeof value === 'number' ? RangeError : TypeError;
  return new ErrorType(`Expected \`${name}\` to be ${expected}, got ${describe(value)}`);
}

/**
 * Returns `value` when it is a finite number in `[min, max]`; otherwise throws a TypeError
 * (not a number) or a RangeError (NaN, infinite or out of range).
 */
export function finiteNumber(name: string, value: unknown, min: number, max = Infinity, above = false): number {
  if (typeof value === 'number' && (above ? value > min : value >= min) && value <= max && value !== Infinity) {
    return value;
  }
  throw invalid(name, `a finite number ${above ? '>' : '>='} ${min}${max < Infinity ? ` and <= ${max}` : ''}`, value, true);
}

/** Returns `value` as a string key, or throws a TypeError. */
export function stringKey(value: unknown): string {
  if (typeof value === 'string') return value;
  throw invalid('key', 'a string', value);
}

/** Returns the RangeError for a `cost` above the capacity, which no wait can cover; `which` names the capacity exceeded. */
export function aboveCapacity(cost: unknown, capacity: number, which = 'capacity'): RangeError {
  return invalid('cost', `at most the capacity (${capacity}): the cost exceeds the ${which}`, cost, true);
}
