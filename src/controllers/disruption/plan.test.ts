import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { planPdb } from './plan.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const pod = (name: string, ready = true, phase = 'Running'): Pod => ({
  metadata: { name, namespace: 'd', labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'rs1', controller: true }] },
  status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const pdb = (spec: PodDisruptionBudget['spec']): PodDisruptionBudget => ({ metadata: { name: 'web', namespace: 'd', generation: 1 }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } });
const scale = (): { uid: string; replicas: number } => ({ uid: 'rs1', replicas: 3 });

test('minAvailable 2 of 3 ready Pods allows one disruption; maxUnavailable 50% of scale 3 needs 1 healthy', () => {
  const pods = [pod('a'), pod('b'), pod('c')];
  assert.deepEqual(
    (({ disruptionsAllowed, currentHealthy, desiredHealthy, expectedPods }) => ({ disruptionsAllowed, currentHealthy, desiredHealthy, expectedPods }))(planPdb(pdb({ minAvailable: 2 }), pods, scale, NOW)),
    { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 });
  const s = planPdb(pdb({ maxUnavailable: '50%' }), pods, scale, NOW);
  assert.equal(s.desiredHealthy, 1);
  assert.equal(s.disruptionsAllowed, 2);
  assert.equal(planPdb(pdb({ minAvailable: 3 }), pods, scale, NOW).conditions![0]!.reason, 'InsufficientPods');
});

