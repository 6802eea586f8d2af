import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteTracker } from './tracker.js';

test('stale until the cache shows our write; own events recognised; foreign events during a write reported', () => {
  const t = new WriteTracker();
  const cache = new Map<string, string>();
  const lookup = (n: string) => (cache.has(n) ? { metadata: { resourceVersion: cache.get(n) } } : undefined);
  t.begin('ns/svc', 'a');
  assert.equal(t.isOwnWrite('ns/svc', 'a', '10'), true, 'event of the in-flight write');
  assert.equal(t.record('ns/svc', 'a', '10'), false);
  assert.equal(t.isStale('ns/svc', lookup), true);
  cache.set('a', '10');
  assert.equal(t.isStale('ns/svc', lookup), false);
  t.begin('ns/svc', 'b');
  t.isOwnWrite('ns/svc', 'b', '11');
  t.isOwnWrite('ns/svc', 'b', '12'); // someone else changed it meanwhile
  assert.equal(t.record('ns/svc', 'b', '11'), true);
  t.record('ns/svc', 'c', null);
  cache.set('b', '12');
  cache.set('c', '13');
  assert.equal(t.isStale('ns/svc', lookup), true, 'deleted slice still cached');
  cache.delete('c');
  assert.equal(t.isStale('ns/svc', lookup), false);
  assert.equal(t.isOwnWrite('ns/svc', 'x', '1'), false);
});

test('an object we wrote and someone else deleted is not stale (the cache will never show our version again)', () => {
  const t = new WriteTracker();
  const lookup = () => undefined;
  t.begin('ns/svc', 'a');
  t.record('ns/svc', 'a', '10');
  // Deleted before the cache ever showed version 10 to a sync: without forgetting, every sync would be "stale".
  assert.equal(t.isOwnWrite('ns/svc', 'a', null), false, 'a foreign delete needs a sync');
  assert.equal(t.isStale('ns/svc', lookup), false);
});
