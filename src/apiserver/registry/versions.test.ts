import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../api/resources.js';
import type { KubeObject } from '../../api/object.js';
import { fromStorageVersion, toStorageVersion } from './versions.js';

test('autoscaling/v1 HPA converts to v2 and back (other metrics and behavior kept in annotations)', () => {
  const v1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 } } as KubeObject;
  const v2 = toStorageVersion(R.horizontalpodautoscalersV1, v1) as KubeObject & { spec: { metrics: unknown[] } };
  assert.equal(v2.apiVersion, 'autoscaling/v2');
  assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  const withBehavior = { ...v2, spec: { ...v2.spec, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } } } as KubeObject;
  const back = fromStorageVersion(R.horizontalpodautoscalersV1, withBehavior) as KubeObject & { spec: { targetCPUUtilizationPercentage: number } };
  assert.equal(back.spec.targetCPUUtilizationPercentage, 50);
  assert.equal(back.metadata!.annotations!['autoscaling.alpha.kubernetes.io/behavior'], '{"scaleDown":{"stabilizationWindowSeconds":60}}');
  const again = toStorageVersion(R.horizontalpodautoscalersV1, back) as KubeObject & { spec: { behavior: unknown } };
  assert.deepEqual(again.spec.behavior, { scaleDown: { stabilizationWindowSeconds: 60 } });
  assert.equal(again.metadata!.annotations, undefined);
});
