import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointAddress, Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../endpointslice/reconcile.js';
import { MIRRORING_CONTROLLER_NAME, normalizeIP, reconcileMirroring, type MirrorChanges } from './reconcile.js';

let n = 0;
const nameFor = (prefix: string) => `${prefix}${++n}`;

function svc(selector?: Record<string, string> | null): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'ns', uid: 'svc-uid' }, spec: { ports: [{ port: 5432 }], ...(selector !== undefined ? { selector: selector as Record<string, string> } : {}) } };
}

function eps(subsets: Endpoints['subsets'], meta: { labels?: Record<string, string>; annotations?: Record<string, string>; deleting?: boolean } = {}): Endpoints {
  return {
    apiVersion: 'v1', kind: 'Endpoints',
    metadata: { name: 'db', namespace: 'ns', uid: 'ep-uid', labels: meta.labels, annotations: meta.annotations, ...(meta.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    subsets,
  };
}

const addr = (ip: string, extra: Partial<EndpointAddress> = {}): EndpointAddress => ({ ip, ...extra });

function mirrored(name: string, type: 'IPv4' | 'IPv6', ports: { name?: string; port: number }[], ips: string[], labels: Record<string, string> = {}): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name, namespace: 'ns', labels: { [LABEL_SERVICE_NAME]: 'db', [LABEL_MANAGED_BY]: MIRRORING_CONTROLLER_NAME, ...labels }, annotations: {},
      ownerReferences: [{ apiVersion: 'v1', kind: 'Endpoints', name: 'db', uid: 'ep-uid', controller: true, blockOwnerDeletion: true }],
    },
    addressType: type, ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: 'TCP' })),
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  };
}

/** A compact view of the changes: `create IPv4 [5432] 10.0.0.1,10.0.0.2`, `update db-a ...`, `delete db-b`. */
function summary(c: MirrorChanges): string[] {
  const show = (s: EndpointSlice) => `${s.addressType} [${(s.ports ?? []).map((p) => `${p.name ? `${p.name}:` : ''}${p.port}`).join(',')}] ${(s.endpoints ?? []).map((e) => `${e.addresses[0]}${e.conditions?.ready === false ? '(not ready)' : ''}`).join(',')}`;
  return [
    ...c.create.map((s) => `create ${show(s)}`),
    ...c.update.map((s) => `update ${s.metadata?.name} ${show(s)}`),
    ...c.delete.map((s) => `delete ${s.metadata?.name}`),
    ...c.events.map((e) => `event ${e.reason}: ${e.message}`),
    ...(c.notMirrored ? [`not mirrored: ${c.notMirrored}`] : []),
  ];
}

const table: { name: string; endpoints?: Endpoints; service?: Service; existing?: EndpointSlice[]; max?: number; want: string[] }[] = [
  { name: 'a selectorless Service with hand-written Endpoints gets one slice', endpoints: eps([{ addresses: [addr('10.0.0.1'), addr('10.0.0.2')], ports: [{ port: 5432 }] }]), service: svc(),
    want: ['create IPv4 [5432] 10.0.0.1,10.0.0.2'] },
  { name: 'notReadyAddresses are mirrored with ready=false', endpoints: eps([{ addresses: [addr('10.0.0.1')], notReadyAddresses: [addr('10.0.0.9')], ports: [{ port: 5432 }] }]), service: svc(),
    want: ['create IPv4 [5432] 10.0.0.1,10.0.0.9(not ready)'] },
  { name: 'one slice per port list and per address type', service: svc(), endpoints: eps([
    { addresses: [addr('10.0.0.1'), addr('fd00::0001')], ports: [{ name: 'pg', port: 5432 }] },
    { addresses: [addr('10.0.0.2')], ports: [{ name: 'pg', port: 5433 }] }]),
    want: ['create IPv4 [pg:5432] 10.0.0.1', 'create IPv6 [pg:5432] fd00::1', 'create IPv4 [pg:5433] 10.0.0.2'] },
  { name: 'a Service with a selector is not mirrored; its mirrored slices go', endpoints: eps([{ addresses: [addr('10.0.0.1')], ports: [{ port: 5432 }] }]), service: svc({ app: 'db' }),
    existing: [mirrored('db-a', 'IPv4', [{ port: 5432 }], ['10.0.0.1'])], want: ['delete db-a', 'not mirrored: ServiceHasSelector'] },
  { name: 'an empty selector {} is a selector too (Kubernetes tests Selector != nil)', endpoints: eps([{ addresses: [addr('10.0.0.1')], ports: [{ port: 5432 }] }]), service: svc({}),
    want: ['not mirrored: ServiceHasSelector'] },
  { name: 'Endpoints without a Service are not mirrored', endpoints: eps([{ addresses: [addr('10.0.0.1')], ports: [{ port: 5432 }] }]),
    existing: [mirrored('db-a', 'IPv4', [{ port: 5432 }], ['10.0.0.1'])], want: ['delete db-a', 'not mirrored: NoService'] },
  { name: 'deleted Endpoints take their mirrored slices with them', service: svc(),
    existing: [mirrored('db-a', 'IPv4', [{ port: 5432 }], ['10.0.0.1'])], want: ['delete db-a', 'not mirrored: NoEndpoints'] },
  { name: "the endpoints controller's own Endpoints (skip-mirror) are left alone", service: svc(),
    endpoints: eps([{ addresses: [addr('10.0.0.1')], ports: [{ port: 5432 }] }], { labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }),
    want: ['not mirrored: SkipMirrorLabel'] },
  { name: 'a leader-election lock is not mirrored', service: svc(),
    endpoints: eps([{ addresses: [addr('10.0.0.1')], ports: [{ port: 5432 }] }], { annotations: { 'control-plane.alpha.kubernetes.io/leader': '{}' } }),
    want: ['not mirrored: LeaderElection'] },
  { name: 'an up-to-date slice is not written again', service: svc(), endpoints: eps([{ addresses: [addr('10.0.0.2'), addr('10.0.0.1')], ports: [{ port: 5432 }] }]),
    existing: [mirrored('db-a', 'IPv4', [{ port: 5432 }], ['10.0.0.1', '10.0.0.2'])], want: [] },
  { name: 'a changed address updates the slice in place', service: svc(), endpoints: eps([{ addresses: [addr('10.0.0.3')], ports: [{ port: 5432 }] }]),
    existing: [mirrored('db-a', 'IPv4', [{ port: 5432 }], ['10.0.0.1'])], want: ['update db-a IPv4 [5432] 10.0.0.3'] },
  { name: 'a changed port reuses the old slice instead of create + delete', service: svc(), endpoints: eps([{ addresses: [addr('10.0.0.1')], ports: [{ port: 6432 }] }]),
    existing: [mirrored('db-a', 'IPv4', [{ port: 5432 }], ['10.0.0.1'])], want: ['update db-a IPv4 [6432] 10.0.0.1'] },
  { name: 'a slice is never recycled across address types (addressType is immutable)', service: svc(), endpoints: eps([{ addresses: [addr('fd00::1')], ports: [{ port: 5432 }] }]),
    existing: [mirrored('db-a', 'IPv4', [{ port: 5432 }], ['10.0.0.1'])], want: ['create IPv6 [5432] fd00::1', 'delete db-a'] },
  { name: 'of two slices for one port list the first is kept, the other deleted', service: svc(), endpoints: eps([{ addresses: [addr('10.0.0.1')], ports: [{ port: 5432 }] }]),
    existing: [mirrored('db-b', 'IPv4', [{ port: 5432 }], ['10.0.0.1']), mirrored('db-a', 'IPv4', [{ port: 5432 }], ['10.0.0.1'])], want: ['delete db-b'] },
  { name: 'Endpoints with no subsets leave no slice', service: svc(), endpoints: eps([]),
    existing: [mirrored('db-a', 'IPv4', [{ port: 5432 }], ['10.0.0.1'])], want: ['delete db-a'] },
  { name: 'invalid IPs are skipped with an InvalidIPAddress event', service: svc(), endpoints: eps([{ addresses: [addr('10.0.0.1'), addr('not-an-ip'), addr('10.0.0.256')], ports: [{ port: 5432 }] }]),
    want: ['create IPv4 [5432] 10.0.0.1', 'event InvalidIPAddress: Skipped 2 invalid IP addresses when mirroring to EndpointSlices'] },
  { name: 'more addresses than maxEndpointsPerSubset: the rest are skipped with an event', service: svc(), max: 2,
    endpoints: eps([{ addresses: [addr('10.0.0.1'), addr('10.0.0.2'), addr('10.0.0.3')], notReadyAddresses: [addr('10.0.0.4')], ports: [{ port: 5432 }] }]),
    want: ['create IPv4 [5432] 10.0.0.1,10.0.0.2', 'event TooManyAddressesToMirror: A max of 2 addresses can be mirrored to EndpointSlices per Endpoints subset. 2 addresses were skipped'] },
  { name: 'no slice is created for Endpoints being deleted', service: svc(), endpoints: eps([{ addresses: [addr('10.0.0.1')], ports: [{ port: 5432 }] }], { deleting: true }), want: [] },
  { name: "a changed label of the Endpoints reaches the slice", service: svc(), endpoints: eps([{ addresses: [addr('10.0.0.1')], ports: [{ port: 5432 }] }], { labels: { tier: 'db' } }),
    existing: [mirrored('db-a', 'IPv4', [{ port: 5432 }], ['10.0.0.1'])], want: ['update db-a IPv4 [5432] 10.0.0.1'] },
];

for (const row of table) {
  test(`mirroring: ${row.name}`, () => {
    const got = reconcileMirroring(row.endpoints, row.service, row.existing ?? [], { nameFor, maxEndpointsPerSubset: row.max });
    assert.deepEqual(summary(got), row.want);
  });
}

test('a mirrored slice: labels (service-name, managed-by, copied), annotations without trigger time / last-applied, owner = the Endpoints, endpoint fields', () => {
  const ep = eps([{
    addresses: [addr('10.0.0.1', { hostname: 'db-0', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'db-0', uid: 'p1' } })],
    ports: [{ name: 'pg', port: 5432, protocol: 'TCP', appProtocol: 'postgresql' }],
  }], {
    labels: { tier: 'db', [LABEL_MANAGED_BY]: 'someone-else' },
    annotations: { note: 'x', 'endpoints.kubernetes.io/last-change-trigger-time': 't', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
  });
  const [s] = reconcileMirroring(ep, svc(), [], { nameFor }).create;
  assert.ok(s);
  assert.equal(s.metadata?.generateName, 'db-');
  assert.deepEqual(s.metadata?.labels, { tier: 'db', [LABEL_SERVICE_NAME]: 'db', [LABEL_MANAGED_BY]: MIRRORING_CONTROLLER_NAME });
  assert.deepEqual(s.metadata?.annotations, { note: 'x' });
  assert.deepEqual(s.metadata?.ownerReferences, [{ apiVersion: 'v1', kind: 'Endpoints', name: 'db', uid: 'ep-uid', controller: true, blockOwnerDeletion: true }]);
  assert.deepEqual(s.ports, [{ name: 'pg', port: 5432, protocol: 'TCP', appProtocol: 'postgresql' }]);
  assert.deepEqual(s.endpoints, [{ addresses: ['10.0.0.1'], conditions: { ready: true }, hostname: 'db-0', nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'db-0', uid: 'p1' } }]);
});

test('inputs are not mutated (they are frozen informer objects)', () => {
  const ep = Object.freeze(eps([{ addresses: [addr('10.0.0.3')], ports: [{ port: 5432 }] }]));
  const existing = [mirrored('db-a', 'IPv4', [{ port: 5432 }], ['10.0.0.1'])];
  const before = JSON.stringify(existing);
  reconcileMirroring(ep, svc(), existing, { nameFor });
  assert.equal(JSON.stringify(existing), before);
});

test('IPs as Go parses and prints them', () => {
  assert.deepEqual(normalizeIP('010.000.000.001'), { ip: '10.0.0.1', type: 'IPv4' });
  assert.deepEqual(normalizeIP('FD00:0:0:0::0001'), { ip: 'fd00::1', type: 'IPv6' });
  assert.deepEqual(normalizeIP('::ffff:10.0.0.1'), { ip: '10.0.0.1', type: 'IPv4' });
  assert.equal(normalizeIP('10.0.0'), undefined);
  assert.equal(normalizeIP(''), undefined);
});
