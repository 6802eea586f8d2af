import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ageSince, humanDuration } from './duration.js';

test('humanDuration matches apimachinery duration.HumanDuration', () => {
  const s = 1000, m = 60 * s, h = 60 * m, d = 24 * h;
  const cases: [number, string][] = [
    [-3 * s, '<invalid>'], [-1 * s, '0s'], [0, '0s'], [5 * s, '5s'], [119 * s, '119s'], [120 * s, '2m'], [182 * s, '3m2s'],
    [10 * m, '10m'], [179 * m, '179m'], [3 * h, '3h'], [2 * h + 5 * m, '125m'], [3 * h + 5 * m, '3h5m'], [8 * h, '8h'], [47 * h, '47h'],
    [2 * d + 3 * h, '2d3h'], [3 * d, '3d'], [8 * d, '8d'], [400 * d, '400d'], [730 * d, '2y'], [745 * d, '2y15d'], [3000 * d, '8y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}ms`);
});

test('ageSince: <unknown> without a timestamp', () => {
  assert.equal(ageSince(undefined, 0), '<unknown>');
  assert.equal(ageSince('2026-01-01T00:00:00Z', Date.parse('2026-01-01T00:03:02Z')), '3m2s');
});
