import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingCounts, PendingMap } from './pending.js';

test('PendingMap: changes stay aside until commit, then land in the base map', () => {
  const base = new Map([['a', 1], ['b', 2]]);
  const p = new PendingMap(base);
  p.set('c', 3);
  p.delete('a');
  p.set('b', 20);
  assert.deepEqual([...base], [['a', 1], ['b', 2]], 'base untouched before commit');
  assert.equal(p.get('a'), undefined);
  assert.equal(p.get('b'), 20);
  assert.deepEqual([...p.keys()].sort(), ['b', 'c']);
  assert.equal(p.commit(), base);
  assert.deepEqual([...base].sort(), [['b', 20], ['c', 3]]);
});

test('PendingCounts: counts that reach zero disappear on commit', () => {
  const base = new Map([['ip1', 1], ['ip2', 2]]);
  const c = new PendingCounts(base);
  c.add('ip1', -1);
  c.add('ip2', -1);
  c.add('ip3', +1);
  assert.equal(c.has('ip1'), false);
  assert.equal(base.get('ip1'), 1, 'base untouched before commit');
  c.commit();
  assert.deepEqual([...base].sort(), [['ip2', 1], ['ip3', 1]]);
});
