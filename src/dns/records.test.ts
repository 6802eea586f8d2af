// The compact record index against its reference: every record recordsForService lists is what
// lookup() answers for its owner name (no more, no less), owner names and their ancestors exist,
// and deleting a Service removes every trace of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { RecordIndex, packSlice, recordsForService, type Rec } from './records.js';
import { slice, svc } from './testing.js';

const ZONE = 'cluster.local';
const ipv6Slice = (ns: string, service: string, name: string, addresses: string[]): EndpointSlice =>
  ({ ...slice(ns, service, name, addresses.map((a) => ({ addresses: [a] })), [{ name: 'http', port: 8080, protocol: 'TCP' }]), addressType: 'IPv6' });

const fixture: { svc: Service; slices: EndpointSlice[] }[] = [
  { svc: svc('a', 'web', { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10', 'fd00::a'], ports: [{ name: 'http', port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 9 }] }), slices: [] },
  { svc: svc('a', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }), slices: [
    slice('a', 'db', 'db-1', [
      { addresses: ['10.244.0.2'], hostname: 'DB-0', conditions: { ready: true } },
      { addresses: ['10.244.0.3'], hostname: 'db-1' },
      { addresses: ['10.244.0.4'], conditions: { ready: false } },
    ], [{ name: 'pg', port: 15432, protocol: 'TCP' }, { name: 'unnamed-in-service', port: 1 }]),
    // The same Pod listed in a second slice (during a slice move) is published once.
    slice('a', 'db', 'db-2', [{ addresses: ['10.244.0.3'], hostname: 'db-1' }, { addresses: ['10.244.0.5'] }], [{ name: 'pg', port: 25432, protocol: 'TCP' }]),
  ] },
  { svc: svc('b', 'nr', { clusterIP: 'None', publishNotReadyAddresses: true }), slices: [slice('b', 'nr', 'nr-1', [{ addresses: ['10.244.1.9'], conditions: { ready: false } }])] },
  { svc: svc('b', 'v6', { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] }), slices: [ipv6Slice('b', 'v6', 'v6-1', ['fd00::1:2', 'fd00::1:3'])] },
  { svc: svc('b', 'ext', { type: 'ExternalName', externalName: 'Example.COM.' }), slices: [] },
  { svc: svc('b', 'empty', { clusterIP: 'None' }), slices: [] },
  // Two Services publishing the same Pod: two PTR records for its address.
  { svc: svc('c', 'also', { clusterIP: 'None' }), slices: [slice('c', 'also', 'also-1', [{ addresses: ['10.244.0.2'], hostname: 'x' }])] },
];

function build(): RecordIndex {
  const ix = new RecordIndex(ZONE);
  for (const f of fixture) ix.setService(`${f.svc.metadata!.namespace}/${f.svc.metadata!.name}`, f.svc, f.slices.map(packSlice));
  return ix;
}
const line = (r: Rec) => `${r.name} ${r.type} ${typeof r.data === 'string' ? r.data : `${r.data.priority} ${r.data.weight} ${r.data.port} ${r.data.target}`}`;
const reference = () => fixture.flatMap((f) => recordsForService(f.svc, f.slices, ZONE));

test('lookup answers exactly the reference records of every owner name', () => {
  const ix = build();
  const byOwner = new Map<string, string[]>();
  for (const r of [...reference(), { name: `dns-version.${ZONE}`, type: 'TXT', data: '1.1.0' } as Rec]) {
    byOwner.set(r.name, [...(byOwner.get(r.name) ?? []), line(r)]);
  }
  assert.ok(byOwner.size > 20);
  for (const [owner, want] of byOwner) {
    assert.deepEqual((ix.lookup(owner) ?? []).map(line).sort(), want.sort(), owner);
    for (let n = owner; n.endsWith(ZONE) || n.endsWith('.arpa'); n = n.slice(n.indexOf('.') + 1)) {
      if (n.endsWith('.arpa') && n !== owner) break; // reverse names: only owners exist
      assert.ok(ix.exists(n), `${n} (ancestor of ${owner}) exists`);
      if (n === ZONE) break;
    }
  }
});

test('the reference records are what the specification says', () => {
  const got = reference().map(line).sort();
  for (const want of [
    'web.a.svc.cluster.local A 10.96.0.10', 'web.a.svc.cluster.local AAAA fd00::a',
    '10.0.96.10.in-addr.arpa PTR web.a.svc.cluster.local',
    'a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa PTR web.a.svc.cluster.local',
    '_http._tcp.web.a.svc.cluster.local SRV 0 100 80 web.a.svc.cluster.local', '_dns._udp.web.a.svc.cluster.local SRV 0 100 53 web.a.svc.cluster.local',
    'db-0.db.a.svc.cluster.local A 10.244.0.2', '_pg._tcp.db.a.svc.cluster.local SRV 0 100 15432 db-0.db.a.svc.cluster.local',
    '_pg._tcp.db.a.svc.cluster.local SRV 0 100 25432 10-244-0-5.db.a.svc.cluster.local',
    '3.0.244.10.in-addr.arpa PTR db-1.db.a.svc.cluster.local', 'nr.b.svc.cluster.local A 10.244.1.9',
    'fd00--1-2.v6.b.svc.cluster.local AAAA fd00::1:2', 'ext.b.svc.cluster.local CNAME example.com',
    '2.0.244.10.in-addr.arpa PTR x.also.c.svc.cluster.local',
  ]) assert.ok(got.includes(want), want);
  for (const absent of ['10-244-0-4.db.a.svc.cluster.local A 10.244.0.4', '_unnamed-in-service._tcp.db.a.svc.cluster.local']) {
    assert.ok(!got.some((l) => l.startsWith(absent)), absent);
  }
  assert.equal(got.filter((l) => l === 'db.a.svc.cluster.local A 10.244.0.3').length, 1);
});

test('names that do not exist, and deleting every Service', () => {
  const ix = build();
  for (const n of ['nope.a.svc.cluster.local', 'web.nope.svc.cluster.local', 'db-9.db.a.svc.cluster.local', '_x._tcp.web.a.svc.cluster.local',
    '_udp.db.a.svc.cluster.local', 'a.b.c.web.a.svc.cluster.local', 'zz.svc.cluster.local', '9.9.9.10.in-addr.arpa']) {
    assert.equal(ix.lookup(n), undefined, n);
    assert.equal(ix.exists(n), false, n);
  }
  assert.ok(ix.exists('_tcp.db.a.svc.cluster.local'));
  assert.ok(ix.exists('empty.b.svc.cluster.local'));
  for (const f of fixture) ix.deleteService(`${f.svc.metadata!.namespace}/${f.svc.metadata!.name}`);
  for (const r of reference()) assert.equal(ix.lookup(r.name), undefined, r.name);
  assert.equal(ix.exists('a.svc.cluster.local'), false);
  assert.equal(ix.exists('svc.cluster.local'), false);
});
