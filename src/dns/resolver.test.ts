import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordIndex, packSlice } from './records.js';
import { resolve } from './resolver.js';
import { slice, svc, zoneLine } from './testing.js';

function fixture(): RecordIndex {
  const ix = new RecordIndex('cluster.local');
  ix.setService('testns/svc1', svc('testns', 'svc1', {
    clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5'],
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }],
  }), []);
  ix.setService('testns/hdls', svc('testns', 'hdls', {
    clusterIP: 'None', ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  }), [packSlice(slice('testns', 'hdls', 'hdls-abc', [
    { addresses: ['10.244.0.5'], conditions: { ready: true }, hostname: 'web-0' },
    { addresses: ['10.244.0.6'], conditions: { ready: true } },
    { addresses: ['10.244.0.7'], conditions: { ready: false } },
  ], [{ name: 'http', port: 8080, protocol: 'TCP' }]))]);
  ix.setService('testns/empty', svc('testns', 'empty', { clusterIP: 'None' }), []);
  ix.setService('testns/ext', svc('testns', 'ext', { type: 'ExternalName', externalName: 'example.com' }), []);
  ix.setService('testns/nr', svc('testns', 'nr', { clusterIP: 'None', publishNotReadyAddresses: true }),
    [packSlice(slice('testns', 'nr', 'nr-1', [{ addresses: ['10.244.1.9'], conditions: { ready: false } }]))]);
  return ix;
}

const cases: { q: string; type: string; rcode?: string; want: string[]; authority?: boolean }[] = [
  { q: 'svc1.testns.svc.cluster.local', type: 'A', want: ['svc1.testns.svc.cluster.local. 30 IN A 10.96.0.5'] },
  { q: 'SVC1.TestNS.svc.cluster.local', type: 'A', want: ['SVC1.TestNS.svc.cluster.local. 30 IN A 10.96.0.5'] },
  { q: 'svc1.testns.svc.cluster.local', type: 'AAAA', want: [], authority: true },
  { q: '_http._tcp.svc1.testns.svc.cluster.local', type: 'SRV', want: ['_http._tcp.svc1.testns.svc.cluster.local. 30 IN SRV 0 100 80 svc1.testns.svc.cluster.local.'] },
  { q: '_dns._udp.svc1.testns.svc.cluster.local', type: 'SRV', want: ['_dns._udp.svc1.testns.svc.cluster.local. 30 IN SRV 0 100 53 svc1.testns.svc.cluster.local.'] },
  { q: '5.0.96.10.in-addr.arpa', type: 'PTR', want: ['5.0.96.10.in-addr.arpa. 30 IN PTR svc1.testns.svc.cluster.local.'] },
  { q: 'hdls.testns.svc.cluster.local', type: 'A', want: ['hdls.testns.svc.cluster.local. 30 IN A 10.244.0.5', 'hdls.testns.svc.cluster.local. 30 IN A 10.244.0.6'] },
  { q: 'web-0.hdls.testns.svc.cluster.local', type: 'A', want: ['web-0.hdls.testns.svc.cluster.local. 30 IN A 10.244.0.5'] },
  { q: '10-244-0-6.hdls.testns.svc.cluster.local', type: 'A', want: ['10-244-0-6.hdls.testns.svc.cluster.local. 30 IN A 10.244.0.6'] },
  { q: '_http._tcp.hdls.testns.svc.cluster.local', type: 'SRV', want: [
    '_http._tcp.hdls.testns.svc.cluster.local. 30 IN SRV 0 100 8080 web-0.hdls.testns.svc.cluster.local.',
    '_http._tcp.hdls.testns.svc.cluster.local. 30 IN SRV 0 100 8080 10-244-0-6.hdls.testns.svc.cluster.local.',
  ] },
  { q: '5.0.244.10.in-addr.arpa', type: 'PTR', want: ['5.0.244.10.in-addr.arpa. 30 IN PTR web-0.hdls.testns.svc.cluster.local.'] },
  { q: '10-244-0-7.hdls.testns.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', want: [], authority: true },
  { q: 'nr.testns.svc.cluster.local', type: 'A', want: ['nr.testns.svc.cluster.local. 30 IN A 10.244.1.9'] },
  { q: 'empty.testns.svc.cluster.local', type: 'A', want: [], authority: true },
  { q: 'ext.testns.svc.cluster.local', type: 'A', want: ['ext.testns.svc.cluster.local. 30 IN CNAME example.com.'] },
  { q: 'nope.testns.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', want: [], authority: true },
  { q: 'svc1.other.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', want: [], authority: true },
  { q: 'testns.svc.cluster.local', type: 'A', want: [], authority: true },
  { q: 'svc1.svc.cluster.local', type: 'A', rcode: 'NXDOMAIN', want: [], authority: true },
  { q: 'dns-version.cluster.local', type: 'TXT', want: ['dns-version.cluster.local. 30 IN TXT "1.1.0"'] },
  { q: '10-244-1-3.default.pod.cluster.local', type: 'A', want: ['10-244-1-3.default.pod.cluster.local. 30 IN A 10.244.1.3'] },
];

for (const c of cases) {
  test(`${c.q} ${c.type} → ${c.rcode ?? 'NOERROR'} ${c.want.length} answers`, () => {
    const out = resolve(fixture(), true, c.q, c.type, { ttl: 30 });
    assert.equal(out.kind, 'answer');
    if (out.kind !== 'answer') return;
    assert.equal(out.rcode, c.rcode ?? 'NOERROR');
    assert.deepEqual(out.answers.map(zoneLine).sort(), [...c.want].sort());
    assert.deepEqual(out.authority.map(zoneLine), c.authority
      ? ['cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 30'] : []);
  });
}

test('names outside the zone are not ours; before sync the zone answers SERVFAIL, never NXDOMAIN', () => {
  const ix = fixture();
  assert.equal(resolve(ix, true, 'example.com', 'A', { ttl: 30 }).kind, 'outside');
  assert.equal(resolve(ix, true, '9.9.9.9.in-addr.arpa', 'PTR', { ttl: 30 }).kind, 'outside');
  assert.equal(resolve(ix, false, 'nope.testns.svc.cluster.local', 'A', { ttl: 30 }).kind, 'servfail');
});

test('a Service change replaces exactly its records', () => {
  const ix = fixture();
  ix.setService('testns/svc1', svc('testns', 'svc1', { clusterIP: '10.96.0.6', ports: [{ port: 80 }] }), []);
  const a = resolve(ix, true, 'svc1.testns.svc.cluster.local', 'A', { ttl: 30 });
  assert.deepEqual(a.kind === 'answer' && a.answers.map(zoneLine), ['svc1.testns.svc.cluster.local. 30 IN A 10.96.0.6']);
  const srv = resolve(ix, true, '_http._tcp.svc1.testns.svc.cluster.local', 'SRV', { ttl: 30 });
  assert.equal(srv.kind === 'answer' && srv.rcode, 'NXDOMAIN');
  ix.deleteService('testns/svc1');
  const gone = resolve(ix, true, 'svc1.testns.svc.cluster.local', 'A', { ttl: 30 });
  assert.equal(gone.kind === 'answer' && gone.rcode, 'NXDOMAIN');
  assert.equal(resolve(ix, true, '6.0.96.10.in-addr.arpa', 'PTR', { ttl: 30 }).kind, 'outside');
});
