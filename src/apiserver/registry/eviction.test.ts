import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { evictionChange } from './eviction.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const pod = (name: string, ready = true, phase = 'Running'): Pod => ({
  metadata: { name, namespace: 'd', labels: { app: 'web' } },
  status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const pdb = (spec: PodDisruptionBudget['spec']): PodDisruptionBudget => ({ metadata: { name: 'web', namespace: 'd', generation: 1 }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec } });
const planPdb = (b: PodDisruptionBudget, pods: Pod[]): PodDisruptionBudget['status'] => ({ observedGeneration: 1, disruptionsAllowed: pods.length - (b.spec!.minAvailable as number), currentHealthy: pods.length, desiredHealthy: b.spec!.minAvailable as number, expectedPods: pods.length });

test('eviction: allowed decrements disruptionsAllowed; at 0 it is refused with 429 and Kubernetes\' message', () => {
  const pods = [pod('a'), pod('b')];
  const b = { ...pdb({ minAvailable: 1 }), status: planPdb(pdb({ minAvailable: 1 }), pods) };
  const d = evictionChange(pods[0]!, [b], NOW);
  assert.equal(d.kind, 'decrement');
  assert.equal(d.kind === 'decrement' && d.pdb.status!.disruptionsAllowed, 0);
  const full = { ...b, status: { ...b.status, disruptionsAllowed: 0 } };
  const r = evictionChange(pods[0]!, [full], NOW);
  assert.equal(r.kind, 'refuse');
  if (r.kind !== 'refuse') return;
  assert.equal(r.error.code, 429);
  assert.equal(r.error.message, "Cannot evict pod as it would violate the pod's disruption budget.");
  assert.equal(r.error.details!.causes![0]!.message, 'The disruption budget web needs 1 healthy pods and has 2 currently');
  // A Pending Pod or one no budget selects goes without a check.
  assert.equal(evictionChange(pod('p', false, 'Pending'), [full], NOW).kind, 'delete');
});
