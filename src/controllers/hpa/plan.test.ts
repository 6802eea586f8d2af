import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HorizontalPodAutoscaler } from 'kubernetes-types/autoscaling/v2.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { cpuReplicas, planHpa, type HpaInput } from './plan.js';

const NOW = new Date('2026-01-01T00:10:00Z');
const hpa = (min = 1, max = 10, behavior?: NonNullable<HorizontalPodAutoscaler['spec']>['behavior']): HorizontalPodAutoscaler => ({
  metadata: { name: 'web', namespace: 'd', generation: 1 },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: min, maxReplicas: max, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }], ...(behavior ? { behavior } : {}) },
});
const pod = (name: string, ready = true): Pod => ({
  metadata: { name }, spec: { containers: [{ name: 'c', resources: { requests: { cpu: '100m' } } }] },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
const input = (usage: Record<string, number>, pods = Object.keys(usage).map((n) => pod(n)), current = pods.length, recommendations: HpaInput['recommendations'] = []): HpaInput =>
  ({ currentReplicas: current, pods, cpuUsage: new Map(Object.entries(usage)), recommendations, scaleEvents: [] });

test('tolerance 0.1: within 10% of the target nothing changes; above, ceil(ratio × ready Pods)', () => {
  assert.deepEqual(cpuReplicas(input({ a: 0.054, b: 0.05 }), 50), { replicas: 2, utilization: 52, usageMilli: 52 });
  assert.equal((cpuReplicas(input({ a: 0.09, b: 0.09 }), 50) as { replicas: number }).replicas, 4);
});

test('scale up is immediate and limited by min/max; the event says why', () => {
  const p = planHpa(hpa(1, 3), input({ a: 0.2, b: 0.2 }), NOW);
  assert.equal(p.scaleTo, 3);
  assert.equal(p.status.conditions!.find((c) => c.type === 'ScalingLimited')!.reason, 'TooManyReplicas');
  assert.equal(p.event!.message, 'New size: 3; reason: cpu resource utilization (percentage of request) above target');
  assert.equal(p.status.currentMetrics![0]!.resource!.current!.averageUtilization, 200);
});

test('scale down waits for the 300 s stabilization window (highest recommendation wins)', () => {
  const recent = [{ at: NOW.getTime() - 60_000, replicas: 4 }];
  assert.equal(planHpa(hpa(), input({ a: 0.01, b: 0.01, c: 0.01, d: 0.01 }, undefined, 4, recent), NOW).scaleTo, undefined);
  const old = [{ at: NOW.getTime() - 301_000, replicas: 4 }];
  assert.equal(planHpa(hpa(), input({ a: 0.01, b: 0.01, c: 0.01, d: 0.01 }, undefined, 4, old), NOW).scaleTo, 1);
});

test('a container without a cpu request: ScalingActive False with the controller\'s message', () => {
  const noReq: Pod = { metadata: { name: 'x' }, spec: { containers: [{ name: 'c' }] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
  const p = planHpa(hpa(), input({ x: 0.5 }, [noReq]), NOW);
  assert.equal(p.scaleTo, undefined);
  assert.match(p.status.conditions!.find((c) => c.type === 'ScalingActive')!.message!, /missing request for cpu in container c of Pod x/);
});

test('missing metrics count as 0% when scaling up (no overshoot)', () => {
  const r = cpuReplicas(input({ a: 0.2 }, [pod('a'), pod('b')], 2), 50) as { replicas: number };
  // a at 200%, b unknown → (0.2 + 0) / 0.2 = 100% of request → ratio 2 over 2 Pods → 4.
  assert.equal(r.replicas, 4);
});
