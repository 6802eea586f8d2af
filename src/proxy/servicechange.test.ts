import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServiceChangeTracker, servicePortsOf } from './servicechange.js';
import { svc } from './testing/shapes.js';
import type { ServicePort } from './types.js';

test('headless, ExternalName and IP-less Services get no ports', () => {
  assert.deepEqual(servicePortsOf(svc('a', 'h', 'None', [{ port: 80 }])), []);
  assert.deepEqual(servicePortsOf(svc('a', 'e', '', [{ port: 80 }])), []);
  assert.deepEqual(servicePortsOf({ metadata: { namespace: 'a', name: 'x' }, spec: { type: 'ExternalName', externalName: 'x.example' } }), []);
});

test('ClientIP affinity defaults to 10800 s; protocol to TCP', () => {
  const [p] = servicePortsOf(svc('a', 's', '10.96.0.9', [{ port: 80 }], { sessionAffinity: 'ClientIP' }));
  assert.equal(p!.affinityTimeoutSeconds, 10800);
  assert.equal(p!.protocol, 'TCP');
});

test('tracker records add/update/delete and cancels no-op round trips', () => {
  const t = new ServiceChangeTracker();
  const m = new Map<string, ServicePort[]>();
  const a = svc('ns', 'a', '10.96.0.1', [{ port: 80 }]);
  t.update(undefined, a);
  t.update(a, undefined); // added then deleted before a sync: nothing to do
  assert.equal(t.hasPending, false);
  t.update(undefined, a);
  assert.deepEqual([...t.apply(m)], ['ns/a']);
  assert.equal(m.get('ns/a')![0]!.port, 80);
  const a2 = svc('ns', 'a', '10.96.0.1', [{ port: 81 }]);
  t.update(a, a2);
  t.update(a2, a); // back where it started
  assert.equal(t.apply(m).size, 0);
  t.update(a, undefined);
  assert.deepEqual([...t.apply(m)], ['ns/a']);
  assert.equal(m.has('ns/a'), false);
});
