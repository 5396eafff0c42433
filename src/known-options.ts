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

/**
 * Returns the known name closest to `name`: one it starts or that starts it, else the
 * fewest edits (the first on a tie), if few enough for a typo; else undefined.
 */
function closest(name: string, known: readonly string[]): string | undefined {
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
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/**
 * Throws a TypeError naming the first own enumerable property of `options` that is not in
 * `known`, with the closest known name when one is close enough to be a typo
 * (``Unknown option `maxWait` (did you mean `maxWaitMs`?)``), else the known names.
 * A typo would otherwise be ignored silently (a `maxWait` that never bounds a wait).
 */
export function checkKnownOptions(options: object, known: readonly string[]): void {
  for (const name in options) {
    if (!Object.hasOwn(options, name) || known.includes(name)) continue;
    const suggestion = closest(name, known);
    const hint = suggestion === undefined ? `known options: ${known.map((option) => `\`${option}\``).join(', ')}` : `did you mean \`${suggestion}\`?`;
    throw new TypeError(`Unknown option \`${name}\` (${hint})`);
  }
}
