// Summaries of repeated measurements, for the benches that run rounds or windows.

/** The median of the finite numbers among `values` (the mean of the middle two for an even count); null for none. */
export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * Whether a server was still getting faster while it was measured: no round slower than the
 * one before, and the last more than `factor` times the first. A JIT that has not settled
 * looks like this; a machine that drifts rarely rises round after round. Null for fewer than
 * two rounds.
 */
export function risingAcrossRounds(perRound, factor = 1.15) {
  const v = perRound.filter((x) => typeof x === 'number' && Number.isFinite(x));
  if (v.length < 2) return null;
  return v.every((x, i) => i === 0 || x >= v[i - 1]) && v.at(-1) > v[0] * factor;
}

/**
 * A confidence interval for the median that assumes nothing about the distribution: with n
 * independent rounds, each falls below the true median with probability ½, so the k-th
 * smallest and k-th largest bound it with probability 1 − 2·P(Binomial(n, ½) < k). Returns
 * the narrowest such bounds (the largest k) whose coverage is at least `confidence`, and that
 * coverage; null when n is too small for any (n < 6 at 95 %).
 */
export function medianInterval(values, confidence = 0.95) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  const n = v.length;
  // cumulative = P(Binomial(n, ½) < k), summed term by term; coefficient = C(n, k − 1).
  let coefficient = 1;
  let cumulative = 0;
  let best = null;
  for (let k = 1; 2 * k <= n; k++) {
    cumulative += coefficient / 2 ** n; // P(X = k − 1)
    coefficient = (coefficient * (n - k + 1)) / k;
    const coverage = 1 - 2 * cumulative;
    if (coverage < confidence) break;
    best = { low: v[k - 1], high: v[n - k], coverage: Math.round(coverage * 1000) / 1000 };
  }
  return best;
}
