import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffLabels, editDistance, isTypo, nearestLabelSets, nearestNames, type LabelledPod } from './nearest.js';

test('edit distance counts an adjacent swap as one typo', () => {
  assert.equal(editDistance('nginx', 'ngnix'), 1);
  assert.equal(editDistance('nginx', 'nginx'), 0);
  assert.equal(editDistance('web', 'website'), 4);
  assert.equal(editDistance('', 'abc'), 3);
  assert.ok(isTypo('nginx', 'ngnix'));
  assert.ok(isTypo('nginx-service', 'nginx-servce'));
  assert.ok(!isTypo('db', 'web'), 'two-letter names are not typos of three-letter ones');
  assert.ok(!isTypo('a', 'a'));
});

test('nearest names: same name elsewhere first, then typos, then containment', () => {
  const cands = [
    { namespace: 'default', name: 'nginx-svc' },
    { namespace: 'shop', name: 'nginx-service' },
    { namespace: 'default', name: 'nginx-servce' },
    { namespace: 'default', name: 'postgres' },
    { namespace: 'default', name: 'nginx-service-v2' },
  ];
  assert.deepEqual(nearestNames('nginx-service', 'default', cands), [
    { namespace: 'shop', name: 'nginx-service' },
    { namespace: 'default', name: 'nginx-servce' },
    { namespace: 'default', name: 'nginx-service-v2' },
  ]);
  assert.deepEqual(nearestNames('zzz', 'default', cands), []);
});

test('label diffs name a value typo, a key typo and a missing label', () => {
  assert.deepEqual(diffLabels({ app: 'ngnix' }, { app: 'nginx' }), [{ kind: 'value', key: 'app', want: 'ngnix', have: 'nginx', typo: true }]);
  assert.deepEqual(diffLabels({ ap: 'nginx' }, { app: 'nginx' }), [{ kind: 'key', key: 'ap', want: 'nginx', haveKey: 'app', have: 'nginx' }]);
  assert.deepEqual(diffLabels({ app: 'nginx', tier: 'fe' }, { app: 'nginx' }), [
    { kind: 'match', key: 'app', value: 'nginx' }, { kind: 'missing', key: 'tier', want: 'fe' }]);
});

test('nearest label sets group Pods and rank the typo first; unrelated Pods are left out', () => {
  const pods: LabelledPod[] = [
    { name: 'web-1', labels: { app: 'nginx', 'pod-template-hash': 'x' }, owner: 'ReplicaSet/web-x' },
    { name: 'web-2', labels: { app: 'nginx', 'pod-template-hash': 'x' }, owner: 'ReplicaSet/web-x' },
    { name: 'db-1', labels: { app: 'postgres' } },
    { name: 'cache', labels: { role: 'cache' } },
  ];
  const near = nearestLabelSets({ app: 'ngnix' }, pods);
  assert.equal(near.length, 1);
  assert.deepEqual(near[0]!.pods, ['web-1', 'web-2']);
  assert.equal(near[0]!.owner, 'ReplicaSet/web-x');
  assert.deepEqual(near[0]!.diffs, [{ kind: 'value', key: 'app', want: 'ngnix', have: 'nginx', typo: true }]);
  const missing = nearestLabelSets({ app: 'nginx', tier: 'frontend' }, pods);
  assert.deepEqual(missing.map((g) => g.pods[0]), ['web-1'], 'shares app=nginx, lacks tier');
  assert.equal(missing[0]!.mismatches, 1);
});
