import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { planStatefulSet, LABEL_POD_NAME, updateRevision, LABEL_REVISION } from './plan.js';

const now = new Date('2026-01-01T00:00:00Z');
const sts = (replicas: number, image = 'nginx', policy?: 'Parallel'): StatefulSet => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default', uid: 's1', generation: 1 },
  spec: { replicas, serviceName: 'nginx', podManagementPolicy: policy, selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } } },
});
const ready = (p: Pod, ok = true): Pod => ({ ...p, metadata: { ...p.metadata, uid: `u-${p.metadata?.name}` }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: ok ? 'True' : 'False' }] } });

test('creates web-0 first with identity, then web-1 only once web-0 is Ready', () => {
  const s = sts(3);
  const p1 = planStatefulSet(s, [], now);
  assert.deepEqual(p1.create.map((p) => p.metadata?.name), ['web-0']);
  const pod = p1.create[0];
  assert.equal(pod.spec?.hostname, 'web-0');
  assert.equal(pod.spec?.subdomain, 'nginx');
  assert.equal(pod.metadata?.labels?.[LABEL_POD_NAME], 'web-0');
  assert.equal(pod.metadata?.labels?.app, 'web');
  assert.equal(pod.metadata?.ownerReferences?.[0].controller, true);
  assert.deepEqual(planStatefulSet(s, [ready(pod, false)], now).create, []);
  assert.deepEqual(planStatefulSet(s, [ready(pod)], now).create.map((p) => p.metadata?.name), ['web-1']);
});

test('Parallel creates all at once; scale down removes the highest ordinal first, one at a time', () => {
  assert.deepEqual(planStatefulSet(sts(3, 'nginx', 'Parallel'), [], now).create.map((p) => p.metadata?.name), ['web-0', 'web-1', 'web-2']);
  const s3 = sts(3);
  const pods = [0, 1, 2].map((i) => ready(planStatefulSet(s3, [], now).create[0] && { ...planStatefulSet(s3, [], now).create[0], metadata: { ...planStatefulSet(s3, [], now).create[0].metadata, name: `web-${i}` } }));
  const p = planStatefulSet(sts(1), pods, now);
  assert.deepEqual(p.delete.map((x) => x.metadata?.name), ['web-2']);
  assert.equal(p.status.replicas, 3);
  assert.equal(p.status.readyReplicas, 3);
});

test('template change rolls from the highest ordinal', () => {
  const s = sts(2);
  const pods = [0, 1].map((i) => { const p = planStatefulSet(s, [], now).create[0]; return ready({ ...p, metadata: { ...p.metadata, name: `web-${i}` } }); });
  const s2 = sts(2, 'nginx:2');
  const p = planStatefulSet(s2, pods, now);
  assert.deepEqual(p.delete.map((x) => x.metadata?.name), ['web-1']);
  assert.equal(p.status.updateRevision, updateRevision(s2));
  assert.notEqual(pods[0].metadata?.labels?.[LABEL_REVISION], updateRevision(s2));
});
