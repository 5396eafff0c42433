/** The shortest wait before sending again a request refused without a readable Retry-After. */
export const MIN_BACKOFF_MS = 1_000;

/**
 * Returns how long to wait before sending again a request refused (429/503) without a
 * readable `Retry-After`: exponential backoff with full jitter, drawn uniformly between
 * 1 s and a ceiling that doubles at each refusal (2 s after the first, 4 s after the
 * second, ...) and never exceeds `capMs`. At least 1 s, so a refusal is never retried
 * at once; `capMs` itself when it is below 1 s.
 * @param refusals - refusals of this request so far, 1 for the first.
 * @param capMs - the longest wait, in ms.
 * @param random - a number in [0, 1), like `Math.random()`.
 */
export function backoffMs(refusals: number, capMs: number, random: () => number): number {
  const ceilingMs = Math.min(capMs, MIN_BACKOFF_MS * 2 ** refusals);
  if (ceilingMs <= MIN_BACKOFF_MS) return ceilingMs;
  return Math.round(MIN_BACKOFF_MS + random() * (ceilingMs - MIN_BACKOFF_MS));
}
