import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { daemonPodNode, planDaemonSet, podTemplateForNode, REVISION_LABEL, shouldRunOn } from './plan.js';

const NOW = new Date('2026-01-01T00:10:00Z');
const node = (name: string, extra: Partial<Node> = {}): Node => ({ metadata: { name, labels: { 'kubernetes.io/hostname': name, ...extra.metadata?.labels } }, spec: extra.spec ?? {} });
const ds = (us?: NonNullable<DaemonSet['spec']>['updateStrategy'], nodeSelector?: Record<string, string>): DaemonSet => ({
  metadata: { name: 'agent', namespace: 'd', uid: 'du', generation: 2 },
  spec: { selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c' }], ...(nodeSelector ? { nodeSelector } : {}) } }, updateStrategy: us ?? { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } },
});
const pod = (name: string, nodeName: string, hash: string, ready = true): Pod => ({
  metadata: { name, namespace: 'd', labels: { [REVISION_LABEL]: hash }, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { nodeName, containers: [] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
});

test('one Pod per node, pinned by node affinity (matchFields metadata.name) with the daemon tolerations', () => {
  const p = planDaemonSet(ds(), [node('n0'), node('n1')], [], 'h1', NOW);
  assert.deepEqual(p.create, ['n0', 'n1']);
  assert.equal(p.status.desiredNumberScheduled, 2);
  const t = podTemplateForNode(ds().spec!.template, 'n1');
  assert.deepEqual(t.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }]);
  assert.ok(t.spec!.tolerations!.some((x) => x.key === 'node.kubernetes.io/unschedulable' && x.effect === 'NoSchedule'));
  assert.equal(daemonPodNode({ spec: t.spec } as Pod), 'n1');
});

test('nodeSelector and untolerated taints keep a node out; a misscheduled Pod is deleted', () => {
  const tainted = node('n1', { spec: { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] } });
  assert.equal(shouldRunOn(ds(), tainted), false);
  assert.equal(shouldRunOn(ds(undefined, { disk: 'ssd' }), node('n0')), false);
  assert.equal(shouldRunOn(ds(), node('n2', { spec: { unschedulable: true } })), true, 'cordoned nodes still run daemons');
  const p = planDaemonSet(ds(), [node('n0'), tainted], [pod('x', 'n1', 'h1')], 'h1', NOW);
  assert.deepEqual(p.delete.map((x) => x.metadata!.name), ['x']);
  assert.equal(p.status.numberMisscheduled, 1);
});

test('rolling update with maxUnavailable 1: one old Pod at a time', () => {
  const pods = [pod('a', 'n0', 'old'), pod('b', 'n1', 'old'), pod('c', 'n2', 'old')];
  const p = planDaemonSet(ds(), [node('n0'), node('n1'), node('n2')], pods, 'new', NOW);
  assert.equal(p.delete.length, 1);
  assert.equal(p.status.updatedNumberScheduled, undefined);
  // One node already without a Pod (being replaced): no further deletion until it is available.
  const q = planDaemonSet(ds(), [node('n0'), node('n1'), node('n2')], pods.slice(1), 'new', NOW);
  assert.deepEqual(q.create, ['n0']);
  assert.equal(q.delete.length, 0);
});

test('rolling update with maxSurge: a new Pod beside the old one; the old goes once the new is available', () => {
  const surge = ds({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
  let p = planDaemonSet(surge, [node('n0'), node('n1')], [pod('a', 'n0', 'old'), pod('b', 'n1', 'old')], 'new', NOW);
  assert.deepEqual(p.create, ['n0']);
  assert.equal(p.delete.length, 0);
  p = planDaemonSet(surge, [node('n0'), node('n1')], [pod('a', 'n0', 'old'), pod('a2', 'n0', 'new'), pod('b', 'n1', 'old')], 'new', NOW);
  assert.deepEqual(p.delete.map((x) => x.metadata!.name), ['a']);
  assert.equal(p.status.updatedNumberScheduled, 1);
});
