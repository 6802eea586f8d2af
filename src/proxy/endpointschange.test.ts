import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EndpointsChangeTracker, type ServiceEndpoints } from './endpointschange.js';
import { slice } from './testing/shapes.js';
import { usableEndpoints } from './types.js';

test('slices of one Service merge; conditions default as the API says', () => {
  const t = new EndpointsChangeTracker();
  const m = new Map<string, ServiceEndpoints>();
  t.update(undefined, slice('ns', 'web', 'web-1', [{ port: 80 }], [{ ip: '10.244.0.3' }]));
  t.update(undefined, slice('ns', 'web', 'web-2', [{ port: 80 }], [{ ip: '10.244.0.2' }, { ip: '10.244.0.3' }]));
  const r = t.apply(m);
  assert.deepEqual([...r.changed], ['ns/web']);
  assert.deepEqual(m.get('ns/web')!.get('/TCP')!.map((e) => e.ip), ['10.244.0.2', '10.244.0.3']);
});

test('deleting the last slice removes the Service; unchanged updates report nothing', () => {
  const t = new EndpointsChangeTracker();
  const m = new Map<string, ServiceEndpoints>();
  const s = slice('ns', 'web', 'web-1', [{ port: 80 }], [{ ip: '10.244.0.3' }]);
  t.update(undefined, s);
  t.apply(m);
  t.update(s, structuredClone(s));
  assert.equal(t.apply(m).changed.size, 0);
  t.update(s, undefined);
  assert.deepEqual([...t.apply(m).changed], ['ns/web']);
  assert.equal(m.has('ns/web'), false);
});

test('earliest trigger time per Service is reported once', () => {
  const t = new EndpointsChangeTracker();
  const m = new Map<string, ServiceEndpoints>();
  t.update(undefined, slice('ns', 'w', 'w-1', [{ port: 80 }], [{ ip: '10.244.0.3' }], { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-01-01T00:00:05Z' }));
  t.update(undefined, slice('ns', 'w', 'w-2', [{ port: 80 }], [{ ip: '10.244.0.4' }], { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-01-01T00:00:02Z' }));
  const r = t.apply(m);
  assert.equal(r.triggerTimes.get('ns/w'), Date.parse('2026-01-01T00:00:02Z'));
  assert.equal(t.apply(m).triggerTimes.size, 0);
});

test('usable endpoints: ready ones, else serving+terminating ones', () => {
  const e = (ip: string, ready: boolean, serving: boolean, terminating: boolean) => ({ ip, port: 80, ready, serving, terminating });
  assert.deepEqual(usableEndpoints([e('a', true, true, false), e('b', false, true, true)]).map((x) => x.ip), ['a']);
  assert.deepEqual(usableEndpoints([e('a', false, false, false), e('b', false, true, true)]).map((x) => x.ip), ['b']);
  assert.deepEqual(usableEndpoints([e('a', false, false, true)]), []);
});
