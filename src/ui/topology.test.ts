import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podNotReadyReason, podRecord, serviceRecord, sliceRecord } from './topology.js';

test('a Service record: ClusterIP, ports with numeric-string targetPorts as numbers, selector; headless has no ClusterIP', () => {
  assert.deepEqual(serviceRecord({ metadata: { namespace: 'shop', name: 'web' }, spec: { clusterIP: '10.96.0.20', selector: { app: 'web' }, ports: [{ port: 80, targetPort: '8080' as never }, { name: 'm', port: 9, protocol: 'UDP', targetPort: 'metrics' }] } }), {
    namespace: 'shop', name: 'web', type: 'ClusterIP', headless: false, clusterIP: '10.96.0.20', selector: { app: 'web' },
    ports: [{ name: '', protocol: 'TCP', port: 80, targetPort: 8080 }, { name: 'm', protocol: 'UDP', port: 9, targetPort: 'metrics' }], sessionAffinity: 'None',
  });
  const h = serviceRecord({ metadata: { namespace: 'a', name: 'h' }, spec: { clusterIP: 'None', selector: {} } });
  assert.equal(h.clusterIP, undefined);
  assert.equal(h.headless, true);
  assert.equal(h.selector, undefined, 'an empty selector is no selector');
});

test('slice endpoints: one per address; nil ready means ready; serving defaults to ready; the Pod behind it', () => {
  const r = sliceRecord({
    addressType: 'IPv4', metadata: { namespace: 'shop', name: 'web-x', labels: { 'kubernetes.io/service-name': 'web' } },
    endpoints: [
      { addresses: ['10.244.0.3'], targetRef: { kind: 'Pod', name: 'web-1' }, nodeName: 'n1' },
      { addresses: ['10.244.0.4'], conditions: { ready: false, terminating: true } },
    ],
  });
  assert.equal(r.service, 'web');
  assert.deepEqual(r.endpoints, [
    { ip: '10.244.0.3', ready: true, serving: true, terminating: false, pod: 'web-1', node: 'n1' },
    { ip: '10.244.0.4', ready: false, serving: false, terminating: true },
  ]);
});

test('why a Pod is not ready, in its status words', () => {
  const base: Pod = { metadata: { namespace: 'a', name: 'p' }, spec: { nodeName: 'n', containers: [{ name: 'app', ports: [{ containerPort: 80, name: 'http' }] }] } };
  assert.equal(podNotReadyReason({ ...base, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }), undefined);
  assert.equal(podNotReadyReason({ ...base, status: { phase: 'Pending', containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff', message: 'no such image' } } }] } }),
    'container app: ImagePullBackOff (no such image)');
  assert.equal(podNotReadyReason({ ...base, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' }] } }),
    'ContainersNotReady: containers with unready status: [app]');
  assert.equal(podNotReadyReason({ ...base, spec: { containers: [] } }), 'not scheduled yet');
  assert.equal(podNotReadyReason({ ...base, metadata: { ...base.metadata, deletionTimestamp: 'x' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }), 'terminating (being deleted)');
  const rec = podRecord({ ...base, metadata: { ...base.metadata, labels: { app: 'a' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u', controller: true }] }, status: { podIP: '10.244.0.9', phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
  assert.deepEqual(rec, { namespace: 'a', name: 'p', ip: '10.244.0.9', node: 'n', phase: 'Running', ready: true, labels: { app: 'a' }, ports: [{ container: 'app', name: 'http', port: 80, protocol: 'TCP' }], owner: 'ReplicaSet/rs' });
});
