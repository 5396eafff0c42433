/** Returns the largest total cost admitted in any window [grant i, grant j], minus the bound for that window. */
export function worstExcess(grants: { atMs: number; cost: number }[], capacity: number, refillPerSecond: number): number {
  // admitted(i..j) - rate*(t_j - t_i) = D(j) - D(i-1) with D(k) = sum(cost up to k) - rate*t_k; keep the running min.
  let worst = -Infinity;
  let sum = 0;
  let minBefore = Infinity;
  for (const { atMs, cost } of grants) {
    minBefore = Math.min(minBefore, sum - (refillPerSecond * atMs) / 1000);
    sum += cost;
    worst = Math.max(worst, sum - (refillPerSecond * atMs) / 1000 - minBefore - capacity);
  }
  return worst;
}
