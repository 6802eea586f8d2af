import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planImageGC, type GCImage } from './gc.js';

const MIN = 60_000;
const policy = { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 2 * MIN };
const now = 100 * MIN;
const img = (digest: string, lastUsedMin: number, bytes: number, o: Partial<GCImage> = {}): GCImage =>
  ({ digest, lastUsed: lastUsedMin * MIN, created: 0, inUse: false, bytes, ...o });

test('image GC: nothing below the high threshold', () => {
  const p = planImageGC([img('a', 1, 50)], { capacity: 1000, available: 160 }, policy, now); // 84 % used
  assert.deepEqual(p, { remove: [], freed: 0, usagePercent: 84, wanted: 0 });
});

test('image GC: above the high threshold, least recently used unused images go until the low threshold', () => {
  // 90 % used: the kubelet wants 1000 * 20 % - 100 = 100 bytes freed.
  const images = [
    img('newest', 90, 60),
    img('in-use', 1, 500, { inUse: true }),
    img('young', 0, 500, { created: now - MIN }), // pulled a minute ago: younger than imageMinimumGCAge
    img('oldest', 10, 60),
    img('middle', 50, 60),
  ];
  const p = planImageGC(images, { capacity: 1000, available: 100 }, policy, now);
  assert.deepEqual(p.remove, ['oldest', 'middle']);
  assert.equal(p.freed, 120);
  assert.equal(p.wanted, 100);
  assert.equal(p.usagePercent, 90);
});

test('image GC: thresholds are validated as the kubelet validates them', () => {
  assert.throws(() => planImageGC([], { capacity: 1, available: 1 }, { ...policy, lowThresholdPercent: 90 }, now), /must not be above the high threshold/);
  assert.throws(() => planImageGC([], { capacity: 1, available: 1 }, { ...policy, highThresholdPercent: 101 }, now), /between 0 and 100/);
});
