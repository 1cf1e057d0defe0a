// The soak's verdict on memory: is the server's RSS still rising once warmed up?
// Two tests, both required (bench/README.md says why these thresholds):
//   - the least-squares slope of RSS over the measured windows is below SLOPE_MIB_PER_MINUTE;
//   - the mean of the last third of the windows is at most the first third's + THIRDS_PERCENT.

export const SLOPE_MIB_PER_MINUTE = 1;
export const THIRDS_PERCENT = 5;
/** Fewer measured windows than this (2 minutes at 10 s): too short to call either way. */
export const MIN_WINDOWS = 12;

const round = (n, digits = 2) => (n === null || !Number.isFinite(n) ? null : Math.round(n * 10 ** digits) / 10 ** digits);
const mean = (values) => values.reduce((s, v) => s + v, 0) / values.length;

/** Least-squares slope of y over x. */
export function slope(points) {
  const mx = mean(points.map((p) => p.x));
  const my = mean(points.map((p) => p.y));
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
}

/**
 * Trend of one series (`pick(window)` in MiB) over the measured windows, x = minutes since
 * the run's start: slope in MiB/min, first and last third means, and the verdict.
 */
export function trend(windows, pick) {
  const points = windows.map((w) => ({ x: w.atSeconds / 60, y: pick(w) })).filter((p) => typeof p.y === 'number');
  if (points.length < 3) return { windows: points.length, verdict: 'inconclusive', reason: 'fewer than 3 samples' };
  const third = Math.floor(points.length / 3);
  const first = mean(points.slice(0, third).map((p) => p.y));
  const last = mean(points.slice(-third).map((p) => p.y));
  const perMinute = slope(points);
  const thirdsChangePercent = ((last - first) / first) * 100;
  const rising = perMinute >= SLOPE_MIB_PER_MINUTE || thirdsChangePercent > THIRDS_PERCENT;
  let verdict = rising ? 'upward trend' : 'no upward trend';
  if (points.length < MIN_WINDOWS) verdict = 'inconclusive';
  return {
    windows: points.length,
    slopeMiBPerMinute: round(perMinute, 3),
    firstThirdMeanMiB: round(first, 1),
    lastThirdMeanMiB: round(last, 1),
    thirdsChangePercent: round(thirdsChangePercent, 2),
    minMiB: round(Math.min(...points.map((p) => p.y)), 1),
    maxMiB: round(Math.max(...points.map((p) => p.y)), 1),
    verdict,
    ...(points.length < MIN_WINDOWS ? { reason: `fewer than ${MIN_WINDOWS} measured windows: too short to tell` } : {}),
  };
}

export const THRESHOLDS = {
  slopeMiBPerMinute: `< ${SLOPE_MIB_PER_MINUTE}`,
  lastThirdVsFirstThird: `≤ +${THIRDS_PERCENT} %`,
  minimumWindows: MIN_WINDOWS,
};
