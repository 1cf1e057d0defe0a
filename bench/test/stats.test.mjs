import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, medianInterval, risingAcrossRounds } from '../lib/stats.mjs';

test('median: the middle value, or the mean of the middle two, of the finite numbers given', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([5, null, undefined, Number.NaN, 1]), 3);
  assert.equal(median([]), null);
});

test('medianInterval: order statistics whose binomial coverage reaches the confidence asked', () => {
  const ranks = (n) => Array.from({ length: n }, (_, i) => n - i); // unsorted on purpose
  // n = 9: P(Binomial(9, ½) ≤ 1) = 10/512, so the 2nd and 8th values cover 1 − 20/512.
  assert.deepEqual(medianInterval(ranks(9)), { low: 2, high: 8, coverage: 0.961 });
  // n = 15: P(X ≤ 3) = 576/32768, so the 4th and 12th.
  assert.deepEqual(medianInterval(ranks(15)), { low: 4, high: 12, coverage: 0.965 });
  // Asking for less confidence narrows it: at 80 %, n = 9 gives the 3rd and 7th (1 − 92/512).
  assert.deepEqual(medianInterval(ranks(9), 0.8), { low: 3, high: 7, coverage: 0.82 });
});

test('medianInterval: none for too few rounds', () => {
  // Five rounds cover at most 1 − 2/32 = 93.75 %.
  assert.equal(medianInterval([1, 2, 3, 4, 5]), null);
  assert.equal(medianInterval([]), null);
  assert.deepEqual(medianInterval([1, 2, 3, 4, 5, 6]), { low: 1, high: 6, coverage: 0.969 });
});

test('risingAcrossRounds: every round at least as fast as the one before, the last more than 15 % above the first', () => {
  assert.equal(risingAcrossRounds([472.3, 583.3, 667.5]), true); // Keycloak's issuance, 2026-12-07 20:08
  assert.equal(risingAcrossRounds([1953.7, 1768.4, 1985.3]), false); // a dip: drift, not warming
  assert.equal(risingAcrossRounds([1491, 1591, 1601]), false); // rising, but by 7 %
  assert.equal(risingAcrossRounds([100, 100, 116]), true);
  assert.equal(risingAcrossRounds([100, null, 120]), true); // missing rounds are left out
  assert.equal(risingAcrossRounds([600, 400]), false);
  assert.equal(risingAcrossRounds([600]), null);
});
