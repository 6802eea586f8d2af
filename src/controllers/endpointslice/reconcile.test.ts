import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { computeTriggerTime, reconcileEndpointSlices, ANNOTATION_TRIGGER_TIME, CONTROLLER_NAME, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from './reconcile.js';

let n = 0;
const names = () => `s-${++n}`;

function svc(over: Partial<Service['spec']> = {}, name = 'web'): Service {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: 'default', uid: 'svc-uid', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], clusterIP: '10.96.0.5', ...over },
  };
}

function pod(name: string, ip: string | undefined, o: { ready?: boolean; labels?: Record<string, string>; phase?: string; node?: string | null; deleting?: boolean; ports?: { name: string; containerPort: number }[]; hostname?: string; subdomain?: string; readyAt?: string } = {}): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: 'default', uid: `uid-${name}`, labels: o.labels ?? { app: 'web' }, creationTimestamp: '2026-01-01T00:00:01Z',
      ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:09Z' } : {}),
    },
    spec: {
      nodeName: o.node === null ? undefined : o.node ?? 'node-1', hostname: o.hostname, subdomain: o.subdomain,
      containers: [{ name: 'c', image: 'nginx', ports: o.ports }],
    },
    status: {
      phase: o.phase ?? 'Running', podIP: ip,
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: o.readyAt ?? '2026-01-01T00:00:05Z' }],
    },
  };
}

const addrs = (s: EndpointSlice) => (s.endpoints ?? []).map((e) => e.addresses[0]).sort();

test('creates one slice with labels, owner, ports, conditions and trigger time', () => {
  const r = reconcileEndpointSlices(svc(), [pod('a', '10.244.0.2'), pod('b', '10.244.0.3', { ready: false })], [], { nameFor: names });
  assert.equal(r.create.length, 1);
  assert.equal(r.update.length + r.delete.length, 0);
  const s = r.create[0];
  assert.equal(s.metadata?.generateName, 'web-');
  assert.equal(s.metadata?.labels?.[LABEL_SERVICE_NAME], 'web');
  assert.equal(s.metadata?.labels?.[LABEL_MANAGED_BY], CONTROLLER_NAME);
  assert.deepEqual(s.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }]);
  assert.equal(s.metadata?.annotations?.[ANNOTATION_TRIGGER_TIME], '2026-01-01T00:00:05.000Z');
  assert.equal(s.addressType, 'IPv4');
  assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(s.endpoints, [
    { addresses: ['10.244.0.2'], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } },
    { addresses: ['10.244.0.3'], conditions: { ready: false, serving: false, terminating: false }, nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } },
  ]);
});

const table: { name: string; service?: Service; pods: Pod[]; want: string[][] }[] = [
  { name: 'skips unscheduled, IP-less, terminal and non-matching pods', pods: [
    pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { node: null }), pod('c', undefined), pod('d', '10.0.0.4', { phase: 'Succeeded' }),
    pod('e', '10.0.0.5', { phase: 'Failed' }), pod('f', '10.0.0.6', { labels: { app: 'other' } })], want: [['10.0.0.1']] },
  { name: 'splits at maxEndpointsPerSlice', pods: Array.from({ length: 5 }, (_, i) => pod(`p${i}`, `10.0.0.${i + 1}`)),
    want: [['10.0.0.1', '10.0.0.2'], ['10.0.0.3', '10.0.0.4'], ['10.0.0.5']] },
  { name: 'no pods: one placeholder slice', pods: [], want: [[]] },
];
for (const c of table) {
  test(`table: ${c.name}`, () => {
    const r = reconcileEndpointSlices(c.service ?? svc(), c.pods, [], { nameFor: names, maxEndpointsPerSlice: 2 });
    assert.deepEqual(r.create.map(addrs), c.want);
  });
}

test('terminating pod: ready=false, serving=<ready>, terminating=true; publishNotReadyAddresses makes ready', () => {
  const r = reconcileEndpointSlices(svc(), [pod('a', '10.0.0.1', { deleting: true })], [], { nameFor: names });
  assert.deepEqual(r.create[0].endpoints?.[0].conditions, { ready: false, serving: true, terminating: true });
  const r2 = reconcileEndpointSlices(svc({ publishNotReadyAddresses: true }), [pod('a', '10.0.0.1', { ready: false })], [], { nameFor: names });
  assert.deepEqual(r2.create[0].endpoints?.[0].conditions, { ready: true, serving: false, terminating: false });
});

test('named targetPort resolves per pod; pods resolving differently go to different slices', () => {
  const s = svc({ ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }, { name: 'm', port: 9000, targetPort: 9000, protocol: 'TCP' }] });
  const r = reconcileEndpointSlices(s, [
    pod('a', '10.0.0.1', { ports: [{ name: 'web', containerPort: 8080 }] }),
    pod('b', '10.0.0.2', { ports: [{ name: 'web', containerPort: 8081 }] }),
    pod('c', '10.0.0.3'),
  ], [], { nameFor: names });
  const byAddr = Object.fromEntries(r.create.map((x) => [addrs(x).join(','), x.ports]));
  assert.deepEqual(byAddr, {
    '10.0.0.1': [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'm', port: 9000, protocol: 'TCP' }],
    '10.0.0.2': [{ name: 'http', port: 8081, protocol: 'TCP' }, { name: 'm', port: 9000, protocol: 'TCP' }],
    '10.0.0.3': [{ name: 'm', port: 9000, protocol: 'TCP' }],
  });
});

test('hostname set only when subdomain is the service name', () => {
  const r = reconcileEndpointSlices(svc({ clusterIP: 'None' }), [
    pod('web-0', '10.0.0.1', { hostname: 'web-0', subdomain: 'web' }), pod('x', '10.0.0.2', { hostname: 'x', subdomain: 'other' })], [], { nameFor: names });
  assert.deepEqual(r.create[0].endpoints?.map((e) => e.hostname), ['web-0', undefined]);
  assert.equal(r.create[0].metadata?.labels?.['service.kubernetes.io/headless'], '');
});

test('service without selector is left alone', () => {
  const r = reconcileEndpointSlices(svc({ selector: undefined }), [pod('a', '10.0.0.1')], [{ metadata: { name: 'x', namespace: 'default', labels: { [LABEL_SERVICE_NAME]: 'web' } }, addressType: 'IPv4', endpoints: [] }]);
  assert.deepEqual(r, { create: [], update: [], delete: [] });
});

test('steady state: no writes; one pod change: one update of the slice that holds it', () => {
  const pods = Array.from({ length: 4 }, (_, i) => pod(`p${i}`, `10.0.0.${i + 1}`));
  const first = reconcileEndpointSlices(svc(), pods, [], { nameFor: names, maxEndpointsPerSlice: 2 });
  const existing = first.create.map((s, i) => ({ ...s, metadata: { ...s.metadata, name: `e${i}`, resourceVersion: '5' } }));
  assert.deepEqual(reconcileEndpointSlices(svc(), pods, existing, { maxEndpointsPerSlice: 2 }), { create: [], update: [], delete: [] });
  pods[3] = pod('p3', '10.0.0.4', { ready: false, readyAt: '2026-01-01T00:01:00Z' });
  const r = reconcileEndpointSlices(svc(), pods, existing, { maxEndpointsPerSlice: 2 });
  assert.equal(r.create.length + r.delete.length, 0);
  assert.equal(r.update.length, 1);
  assert.equal(r.update[0].metadata?.name, 'e1');
  assert.equal(r.update[0].metadata?.resourceVersion, '5');
  assert.equal(r.update[0].endpoints?.[1].conditions?.ready, false);
  assert.equal(r.update[0].metadata?.annotations?.[ANNOTATION_TRIGGER_TIME], '2026-01-01T00:01:00.000Z');
  assert.equal(existing[1].endpoints?.[1].conditions?.ready, true, 'input not mutated');
});

test('all pods gone: slices deleted except one kept as placeholder; existing placeholder kept', () => {
  const first = reconcileEndpointSlices(svc(), [pod('a', '10.0.0.1')], [], { nameFor: names });
  const existing = first.create.map((s) => ({ ...s, metadata: { ...s.metadata, name: 'e0' } }));
  const r = reconcileEndpointSlices(svc(), [], existing, { nameFor: names });
  assert.deepEqual(r.delete.map((s) => s.metadata?.name), ['e0']);
  assert.deepEqual(r.create.map((s) => [s.endpoints, s.ports]), [[[], []]]);
  const ph = r.create.map((s) => ({ ...s, metadata: { ...s.metadata, name: 'ph' } }));
  assert.deepEqual(reconcileEndpointSlices(svc(), [], ph), { create: [], update: [], delete: [] });
  const back = reconcileEndpointSlices(svc(), [pod('a', '10.0.0.1')], ph, { nameFor: names });
  assert.equal(back.create.length, 1);
  assert.deepEqual(back.delete.map((s) => s.metadata?.name), ['ph']);
});

test('slices owned by an older service of the same name are deleted', () => {
  const stale: EndpointSlice = { metadata: { name: 'old', namespace: 'default', labels: { [LABEL_SERVICE_NAME]: 'web', [LABEL_MANAGED_BY]: CONTROLLER_NAME }, ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'gone' }] }, addressType: 'IPv4', endpoints: [] };
  const r = reconcileEndpointSlices(svc(), [pod('a', '10.0.0.1')], [stale], { nameFor: names });
  assert.deepEqual(r.delete.map((s) => s.metadata?.name), ['old']);
  assert.equal(r.create.length, 1);
});

test('trigger time: the newest valid time in any RFC 3339 form', () => {
  const at = (...readyAt: string[]) => computeTriggerTime(svc(), readyAt.map((t, i) => pod(`p${i}`, `10.0.0.${i + 1}`, { readyAt: t })));
  // Server-form times compare as text; fractions and offsets are parsed; the newest wins either way.
  assert.equal(at('2026-01-01T00:00:05Z', '2026-01-01T00:00:07Z', '2026-01-01T00:00:06Z'), '2026-01-01T00:00:07.000Z');
  assert.equal(at('2026-01-01T00:00:07Z', '2026-01-01T00:00:07.250Z'), '2026-01-01T00:00:07.250Z');
  assert.equal(at('2026-01-01T00:00:07Z', '2026-01-01T01:00:06+01:00'), '2026-01-01T00:00:07.000Z');
  assert.equal(at('2026-01-01T00:00:07Z', '2026-01-01T02:00:06+01:00'), '2026-01-01T01:00:06.000Z');
  // An invalid time of the server's shape never wins; garbage is ignored.
  assert.equal(at('2026-01-01T00:00:07Z', '2026-01-01T99:00:00Z', 'yesterday'), '2026-01-01T00:00:07.000Z');
  // Only the Service's creation time (pods' creation is 00:00:01, conditions none).
  assert.equal(computeTriggerTime(svc(), []), '2026-01-01T00:00:00.000Z');
});

test('zones: endpoints carry their node\'s zone; trafficDistribution PreferClose hints each for its own zone', () => {
  const zoneOf = (node: string) => ({ n0: 'zone-a', n1: 'zone-b' } as Record<string, string>)[node];
  const pods = [pod('a', '10.244.0.5', { node: 'n0' }), pod('b', '10.244.1.5', { node: 'n1' })];
  const plain = reconcileEndpointSlices(svc(), pods, [], { nameFor: names, zoneOf }).create[0]!;
  assert.deepEqual(plain.endpoints!.map((e) => [e.zone, e.hints]), [['zone-a', undefined], ['zone-b', undefined]]);
  const close = reconcileEndpointSlices(svc({ trafficDistribution: 'PreferClose' }), pods, [], { nameFor: names, zoneOf }).create[0]!;
  assert.deepEqual(close.endpoints!.map((e) => e.hints?.forZones?.map((z) => z.name)), [['zone-a'], ['zone-b']]);
  // Turning PreferClose on later rewrites the slice (hints are part of the content).
  assert.equal(reconcileEndpointSlices(svc({ trafficDistribution: 'PreferClose' }), pods, [plain], { nameFor: names, zoneOf }).update.length, 1);
});
