/** Returns the edit distance between `a` and `b` (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Returns the known name closest to `name`: a name it starts or ends, else the fewest edits (the first on a tie). */
function closest(name: string, known: readonly string[]): string {
  const lower = name.toLowerCase();
  let best = known[0]!;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    const score = other.startsWith(lower) || lower.startsWith(other) ? 0 : distance(lower, other);
    if (score < bestDistance) {
      best = candidate;
      bestDistance = score;
    }
  }
  return best;
}

/**
 * Throws a TypeError naming the first own enumerable property of `options` that is not in
 * `known`, with the closest known name: ``Unknown option `maxWait` (did you mean `maxWaitMs`?)``.
 * A typo would otherwise be ignored silently (a `maxWait` that never bounds a wait).
 */
export function checkKnownOptions(options: object, known: readonly string[]): void {
  for (const name in options) {
    if (!Object.hasOwn(options, name) || known.includes(name)) continue;
    throw new TypeError(`Unknown option \`${name}\` (did you mean \`${closest(name, known)}\`?)`);
  }
}
