import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { reconcileEndpoints, formatEndpoints, LABEL_SKIP_MIRROR } from './reconcile.js';

const svc = (over: Partial<Service['spec']> = {}): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default', uid: 's1', labels: { tier: 'fe' } },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...over },
});
const pod = (name: string, ip: string, ready = true, extra: Partial<Pod['metadata']> = {}, ports = [{ name: 'http', containerPort: 8080 }]): Pod => ({
  metadata: { name, namespace: 'default', uid: `u-${name}`, labels: { app: 'web' }, ...extra },
  spec: { nodeName: 'n1', containers: [{ name: 'c', ports }] },
  status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

test('ready → addresses, not ready → notReadyAddresses, ports resolved; printed as kubectl does', () => {
  const r = reconcileEndpoints(svc(), [pod('b', '10.0.0.10'), pod('a', '10.0.0.9'), pod('c', '10.0.0.11', false)], undefined);
  assert.equal(r.action, 'create');
  if (r.action !== 'create') return;
  assert.equal(r.endpoints.metadata?.labels?.[LABEL_SKIP_MIRROR], 'true');
  assert.equal(r.endpoints.metadata?.labels?.tier, 'fe');
  assert.deepEqual(r.endpoints.subsets?.map((s) => [s.addresses?.map((a) => a.ip), s.notReadyAddresses?.map((a) => a.ip), s.ports]), [
    [['10.0.0.9', '10.0.0.10'], ['10.0.0.11'], [{ name: 'http', port: 8080, protocol: 'TCP' }]],
  ]);
  assert.equal(formatEndpoints(r.endpoints), '10.0.0.9:8080,10.0.0.10:8080');
});

test('no matching pods → empty subsets, printed <none>; unchanged → none; pod without named port skipped', () => {
  const r = reconcileEndpoints(svc(), [pod('x', '10.0.0.2', true, {}, [])], undefined);
  assert.equal(r.action, 'create');
  if (r.action !== 'create') return;
  assert.deepEqual(r.endpoints.subsets, []);
  assert.equal(formatEndpoints(r.endpoints), '<none>');
  assert.deepEqual(reconcileEndpoints(svc(), [], { ...r.endpoints, metadata: { ...r.endpoints.metadata, resourceVersion: '3' } }), { action: 'none' });
});

test('terminating pods excluded unless publishNotReadyAddresses; deleted service deletes controller Endpoints only', () => {
  const t = pod('a', '10.0.0.1', true, { deletionTimestamp: '2026-01-01T00:00:00Z' });
  const r = reconcileEndpoints(svc(), [t], undefined);
  assert.ok(r.action === 'create' && r.endpoints.subsets?.length === 0);
  const r2 = reconcileEndpoints(svc({ publishNotReadyAddresses: true }), [t], undefined);
  assert.ok(r2.action === 'create' && r2.endpoints.subsets?.[0].addresses?.[0].ip === '10.0.0.1');
  const mine: Endpoints = { metadata: { name: 'web', namespace: 'default', labels: { [LABEL_SKIP_MIRROR]: 'true' } } };
  assert.equal(reconcileEndpoints(undefined, [], mine).action, 'delete');
  assert.equal(reconcileEndpoints(undefined, [], { metadata: { name: 'web' } }).action, 'none');
  assert.equal(reconcileEndpoints(svc({ selector: undefined }), [t], undefined).action, 'none');
});

test('more than three endpoints are summarised', () => {
  const r = reconcileEndpoints(svc(), [1, 2, 3, 4, 5].map((i) => pod(`p${i}`, `10.0.0.${i}`)), undefined);
  assert.ok(r.action === 'create');
  if (r.action === 'create') assert.equal(formatEndpoints(r.endpoints), '10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 2 more...');
});
