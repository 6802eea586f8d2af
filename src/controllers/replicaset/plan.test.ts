import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { planReplicaSet } from './plan.js';

const now = new Date('2026-01-01T00:01:00Z');
const rs: ReplicaSet = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r', namespace: 'd', uid: 'rs1', generation: 3 },
  spec: { replicas: 2, minReadySeconds: 30, selector: { matchLabels: { app: 'x' } }, template: { metadata: { labels: { app: 'x', extra: 'y' } } } } };
const mine = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'rs1', controller: true }];
const pod = (name: string, o: { owner?: boolean; labels?: Record<string, string>; ready?: string; node?: boolean; created?: string; phase?: string; deleting?: boolean } = {}): Pod => ({
  metadata: { name, namespace: 'd', labels: o.labels ?? { app: 'x', extra: 'y' }, ownerReferences: o.owner === false ? undefined : mine,
    creationTimestamp: o.created ?? '2026-01-01T00:00:00Z', deletionTimestamp: o.deleting ? '2026-01-01T00:00:59Z' : undefined },
  spec: { nodeName: o.node === false ? undefined : 'n', containers: [] },
  status: { phase: o.phase ?? 'Running', conditions: o.ready ? [{ type: 'Ready', status: 'True', lastTransitionTime: o.ready }] : [] },
});

test('creates the missing pods and reports status (available honours minReadySeconds)', () => {
  const p = planReplicaSet(rs, [pod('a', { ready: '2026-01-01T00:00:00Z' }), pod('gone', { deleting: true })], now);
  assert.equal(p.create, 1);
  assert.deepEqual(p.status, { replicas: 1, fullyLabeledReplicas: 1, readyReplicas: 1, availableReplicas: 1, observedGeneration: 3 });
  const q = planReplicaSet(rs, [pod('a', { ready: '2026-01-01T00:00:50Z' }), pod('b', { labels: { app: 'x' } })], now);
  assert.deepEqual(q.status, { replicas: 2, fullyLabeledReplicas: 1, readyReplicas: 1, availableReplicas: 0, observedGeneration: 3 });
});

test('adopts matching orphans, releases owned pods that stopped matching, ignores pods of other controllers', () => {
  const other = { ...pod('o'), metadata: { ...pod('o').metadata, ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicaSet', name: 'z', uid: 'z', controller: true }] } };
  const p = planReplicaSet(rs, [pod('orphan', { owner: false }), pod('moved', { labels: { app: 'other' } }), other, pod('a')], now);
  assert.deepEqual(p.adopt.map((x) => x.metadata?.name), ['orphan']);
  assert.deepEqual(p.release.map((x) => x.metadata?.name), ['moved']);
  assert.equal(p.create, 0);
});

test('scale down prefers unscheduled, then pending, then not ready, then newest', () => {
  const pods = [
    pod('old-ready', { ready: '2026-01-01T00:00:00Z', created: '2026-01-01T00:00:00Z' }),
    pod('new-ready', { ready: '2026-01-01T00:00:00Z', created: '2026-01-01T00:00:30Z' }),
    pod('not-ready'), pod('pending', { phase: 'Pending' }), pod('unscheduled', { node: false, phase: 'Pending' }),
  ];
  const p = planReplicaSet({ ...rs, spec: { ...rs.spec!, replicas: 1 } }, pods, now);
  assert.deepEqual(p.delete.map((x) => x.metadata?.name), ['unscheduled', 'pending', 'not-ready', 'new-ready']);
  assert.equal(planReplicaSet({ ...rs, spec: { ...rs.spec!, replicas: 1 } }, pods, now, { canAct: false }).delete.length, 0);
});
