import { test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../api/resources.js';
import { ApiError } from '../../api/errors.js';
import type { KubeObject } from '../../api/object.js';
import { strategicMergePatch } from './strategicmerge.js';

const deployment = (): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'front' }, finalizers: ['a.io/x', 'b.io/y'] },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
          { name: 'sidecar', image: 'busybox', args: ['sleep', '3600'] },
        ],
      },
    },
  },
} as KubeObject);

const service = (): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'default' },
  spec: {
    clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
      { name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 },
    ],
  },
} as KubeObject);

const cases: { name: string; info: typeof R[keyof typeof R]; original: () => KubeObject; patch: unknown; check: (out: any, orig: any) => void }[] = [
  {
    name: 'kubectl re-apply with a changed image keeps the other container and the env',
    info: R.deployments, original: deployment,
    patch: { metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } }, spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'nginx' }, { name: 'sidecar' }], containers: [{ image: 'nginx:1.26', name: 'nginx' }] } } } },
    check: (out) => {
      const cs = out.spec.template.spec.containers;
      assert.deepEqual(cs.map((c: any) => [c.name, c.image]), [['nginx', 'nginx:1.26'], ['sidecar', 'busybox']]);
      assert.deepEqual(cs[0].env, [{ name: 'A', value: '1' }, { name: 'B', value: '2' }]);
      assert.deepEqual(cs[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
      assert.deepEqual(cs[1].args, ['sleep', '3600']);
      assert.equal(out.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], '{}');
      assert.equal(out.metadata.labels.tier, 'front');
    },
  },
  {
    name: 'a Service port is removed with {"$patch":"delete","port":80}',
    info: R.services, original: service,
    patch: { spec: { '$setElementOrder/ports': [{ port: 443 }], ports: [{ $patch: 'delete', port: 80 }] } },
    check: (out) => assert.deepEqual(out.spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 8443 }]),
  },
  {
    name: 'a Service port is added and changed by port merge key, clusterIP untouched',
    info: R.services, original: service,
    patch: { spec: { ports: [{ port: 443, targetPort: 9443 }, { name: 'metrics', port: 9090 }] } },
    check: (out) => {
      assert.equal(out.spec.clusterIP, '10.96.0.20');
      assert.deepEqual(out.spec.ports.map((p: any) => [p.port, p.targetPort]), [[80, 8080], [443, 9443], [9090, undefined]]);
      assert.equal(out.spec.ports[1].name, 'https');
    },
  },
  {
    name: '$setElementOrder/containers reorders and adds',
    info: R.deployments, original: deployment,
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'extra' }, { name: 'nginx' }], containers: [{ name: 'extra', image: 'curl' }] } } } },
    check: (out) => assert.deepEqual(out.spec.template.spec.containers.map((c: any) => c.name), ['sidecar', 'extra', 'nginx']),
  },
  {
    name: 'env entries merge by name; $patch delete removes one',
    info: R.deployments, original: deployment,
    patch: { spec: { template: { spec: { containers: [{ name: 'nginx', '$setElementOrder/env': [{ name: 'B' }, { name: 'C' }], env: [{ $patch: 'delete', name: 'A' }, { name: 'C', value: '3' }] }] } } } },
    check: (out) => assert.deepEqual(out.spec.template.spec.containers[0].env, [{ name: 'B', value: '2' }, { name: 'C', value: '3' }]),
  },
  {
    name: 'container ports merge by containerPort',
    info: R.deployments, original: deployment,
    patch: { spec: { template: { spec: { containers: [{ name: 'nginx', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }] }] } } } },
    check: (out) => assert.deepEqual(out.spec.template.spec.containers[0].ports, [{ containerPort: 80, protocol: 'TCP', name: 'http' }, { containerPort: 443 }]),
  },
  {
    name: 'lists without a strategy are replaced wholesale (args)',
    info: R.deployments, original: deployment,
    patch: { spec: { template: { spec: { containers: [{ name: 'sidecar', args: ['sleep', '1'] }] } } } },
    check: (out) => assert.deepEqual(out.spec.template.spec.containers[1].args, ['sleep', '1']),
  },
  {
    name: 'null deletes a key (label removed by apply)',
    info: R.deployments, original: deployment,
    patch: { metadata: { labels: { tier: null } } },
    check: (out) => assert.deepEqual(out.metadata.labels, { app: 'web' }),
  },
  {
    name: '$retainKeys drops rollingUpdate when the strategy becomes Recreate',
    info: R.deployments, original: deployment,
    patch: { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } },
    check: (out) => assert.deepEqual(out.spec.strategy, { type: 'Recreate' }),
  },
  {
    name: 'finalizers are a merged primitive list; $deleteFromPrimitiveList removes',
    info: R.deployments, original: deployment,
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a.io/x'], finalizers: ['c.io/z'] } },
    // Like mergeSortedSlice: patch items not in the live list come before the server-only ones.
    check: (out) => assert.deepEqual(out.metadata.finalizers, ['c.io/z', 'b.io/y']),
  },
  {
    name: '$patch: replace on a map replaces it',
    info: R.deployments, original: deployment,
    patch: { spec: { selector: { $patch: 'replace', matchLabels: { app: 'other' } } } },
    check: (out) => assert.deepEqual(out.spec.selector, { matchLabels: { app: 'other' } }),
  },
  {
    name: '$patch: replace inside a merge list replaces the list',
    info: R.deployments, original: deployment,
    patch: { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } } },
    check: (out) => assert.deepEqual(out.spec.template.spec.containers, [{ name: 'only', image: 'x' }]),
  },
  {
    name: 'unknown kinds fall back to JSON merge patch (lists replaced, null deletes)',
    info: { ...R.configmaps, kind: 'Widget', group: 'example.com' }, original: () => ({ kind: 'Widget', metadata: { name: 'w' }, spec: { items: [{ name: 'a', v: 1 }], keep: true, drop: 1 } } as KubeObject),
    patch: { spec: { items: [{ name: 'b' }], drop: null } },
    check: (out) => assert.deepEqual(out.spec, { items: [{ name: 'b' }], keep: true }),
  },
  {
    name: 'the inputs are not mutated',
    info: R.deployments, original: deployment,
    patch: { spec: { replicas: 5 } },
    check: (out, orig) => { assert.equal(out.spec.replicas, 5); assert.equal(orig.spec.replicas, 2); },
  },
];

for (const c of cases) {
  test(`strategic merge: ${c.name}`, () => {
    const orig = c.original();
    const before = JSON.stringify(orig);
    const patchBefore = JSON.stringify(c.patch);
    const out = strategicMergePatch(c.info, orig, c.patch);
    assert.equal(JSON.stringify(orig), before, 'original mutated');
    assert.equal(JSON.stringify(c.patch), patchBefore, 'patch mutated');
    c.check(out, orig);
  });
}

test('strategic merge: a merge-list element without its merge key is an error naming the key', () => {
  assert.throws(() => strategicMergePatch(R.deployments, deployment(), { spec: { template: { spec: { containers: [{ image: 'x' }] } } } }),
    (e: unknown) => e instanceof ApiError && /does not contain declared merge key: name/.test(e.message));
});

test('strategic merge: malformed $retainKeys is a 400', () => {
  assert.throws(() => strategicMergePatch(R.deployments, deployment(), { spec: { strategy: { $retainKeys: 'type' } } }),
    (e: unknown) => e instanceof ApiError && e.code === 400 && e.message === 'invalid patch format of retainKeys');
});

test('strategic merge: a non-object patch body is a 400', () => {
  assert.throws(() => strategicMergePatch(R.services, service(), [1, 2]), (e: unknown) => e instanceof ApiError && e.code === 400);
});

test('strategic merge: volumes honour $retainKeys (configMap → emptyDir), matched by name', () => {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'cfg', configMap: { name: 'cm' } }, { name: 'data', emptyDir: {} }] } } as KubeObject;
  const out: any = strategicMergePatch(R.pods, pod, { spec: { '$setElementOrder/volumes': [{ name: 'cfg' }, { name: 'data' }], volumes: [{ $retainKeys: ['emptyDir', 'name'], emptyDir: { medium: 'Memory' }, name: 'cfg' }] } });
  assert.deepEqual(out.spec.volumes, [{ name: 'cfg', emptyDir: { medium: 'Memory' } }, { name: 'data', emptyDir: {} }]);
});

test('strategic merge: status conditions merge by type; tolerations (no strategy) are replaced', () => {
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
    spec: { containers: [{ name: 'c', image: 'x' }], tolerations: [{ key: 'a', operator: 'Exists' }] },
    status: { conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }] },
  } as KubeObject;
  const out: any = strategicMergePatch(R.pods, pod, { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] }, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  assert.deepEqual(out.status.conditions, [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }]);
  assert.deepEqual(out.spec.tolerations, [{ key: 'b', operator: 'Exists' }]);
});

test('strategic merge: $setElementOrder on a primitive merge list (finalizers)', () => {
  const out: any = strategicMergePatch(R.deployments, deployment(), { metadata: { '$setElementOrder/finalizers': ['b.io/y', 'a.io/x', 'c.io/z'], finalizers: ['c.io/z'] } });
  assert.deepEqual(out.metadata.finalizers, ['b.io/y', 'a.io/x', 'c.io/z']);
});

test('strategic merge: ownerReferences merge by uid', () => {
  const d = deployment() as any;
  d.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'X', name: 'a', uid: 'u1' }];
  const out: any = strategicMergePatch(R.deployments, d, { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'b', uid: 'u2' }] } });
  // As in Kubernetes (mergeSortedSlice), a patch item unknown to the live list goes first.
  assert.deepEqual(out.metadata.ownerReferences.map((r: any) => r.uid), ['u2', 'u1']);
});
