import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PodRec, ServiceRec, SliceRec, TopologySnapshot } from '../model.js';
import { TopologyStore } from './store.js';
import { buildPath } from './pathmodel.js';

const svc = (ns: string, name: string, selector?: Record<string, string>): ServiceRec => ({
  namespace: ns, name, type: 'ClusterIP', headless: false, clusterIP: '10.96.0.50', ...(selector ? { selector } : {}),
  ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }], sessionAffinity: 'None',
});
const pod = (ns: string, name: string, labels: Record<string, string>, ready = true, ip?: string): PodRec => ({
  namespace: ns, name, phase: 'Running', ready, ...(ready ? {} : { why: 'readiness probe failed: HTTP 404' }), labels, ...(ip ? { ip } : {}), node: 'n1',
  ports: [{ container: 'app', name: 'http', port: 8080, protocol: 'TCP' }],
});
const slice = (ns: string, name: string, service: string, eps: [string, string, boolean][]): SliceRec => ({
  namespace: ns, name, service, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: eps.map(([ip, p, ready]) => ({ ip, pod: p, ready, serving: ready, terminating: false, node: 'n1' })),
});

function seeded(): TopologyStore {
  const s = new TopologyStore();
  const snapshot: TopologySnapshot = {
    nodes: [{ name: 'n1', ready: true }], namespaces: [{ name: 'shop', phase: 'Active' }, { name: 'a', phase: 'Active' }],
    services: [svc('shop', 'web', { app: 'web' }), svc('shop', 'typo', { app: 'wbe' }), svc('a', 'x', { app: 'x' })],
    endpointslices: [slice('shop', 'web-abc', 'web', [['10.244.0.3', 'web-1', true], ['10.244.0.4', 'web-2', false]])],
    pods: [pod('shop', 'web-1', { app: 'web', tier: 'fe' }, true, '10.244.0.3'), pod('shop', 'web-2', { app: 'web' }, false, '10.244.0.4'), pod('shop', 'web-3', { app: 'web' }, false),
      pod('shop', 'lone', { app: 'other' }), pod('a', 'web-1', { app: 'web' })],
  };
  s.apply({ type: 'snapshot', at: 0, snapshot, cluster: { name: 'c', user: 'u', features: { trace: true, flows: true, explain: false, diagnose: false } } });
  return s;
}

test('Pods beside a Service: selector matches (same namespace only) and endpoint Pods, with their endpoint', () => {
  const s = seeded();
  const b = s.podsBeside('shop/web');
  assert.deepEqual(b.map((x) => [x.name, x.selected, x.endpoint?.ready]), [['web-1', true, true], ['web-2', true, false], ['web-3', true, undefined]]);
  assert.deepEqual(s.podsBeside('shop/typo'), []);
  assert.deepEqual(s.loosePods('shop').map((p) => p.name), ['lone']);
  assert.deepEqual(s.selectorMatches('shop', {}), [], 'an empty selector matches nothing');
});

test('rows: namespaces by name, their Services, and a row for Pods no Service reaches; a filter keeps matching Services', () => {
  const s = seeded();
  assert.deepEqual(s.rows().map((r) => (r.type === 'svc' ? r.key : `${r.type}:${r.ns}`)), ['ns:a', 'a/x', 'loose:a', 'ns:shop', 'shop/typo', 'shop/web', 'loose:shop']);
  assert.deepEqual(s.rows('web').map((r) => (r.type === 'svc' ? r.key : `${r.type}:${r.ns}`)), ['ns:shop', 'shop/web']);
  assert.equal(s.rows(), s.rows(), 'cached while no Service comes or goes');
});

test('deltas: scaling adds endpoints and Pods; a deleted Service leaves the rows; labels re-indexed on update', () => {
  const s = seeded();
  const v = s.version;
  s.apply({ type: 'delta', at: 0, deletes: [], upserts: [
    { kind: 'pods', rec: pod('shop', 'web-4', { app: 'web' }, true, '10.244.0.5') },
    { kind: 'endpointslices', rec: slice('shop', 'web-abc', 'web', [['10.244.0.3', 'web-1', true], ['10.244.0.4', 'web-2', true], ['10.244.0.5', 'web-4', true]]) },
  ] });
  assert.ok(s.version > v);
  assert.equal(s.endpointsOf('shop/web').filter((e) => e.ep.ready).length, 3);
  s.apply({ type: 'delta', at: 0, deletes: [{ kind: 'services', key: 'shop/typo' }], upserts: [{ kind: 'pods', rec: pod('shop', 'lone', { app: 'web' }) }] });
  assert.ok(!s.rows().some((r) => r.type === 'svc' && r.key === 'shop/typo'));
  assert.ok(s.podsBeside('shop/web').some((b) => b.name === 'lone'), 'relabelled Pod now selected');
  assert.deepEqual(s.loosePods('shop'), []);
});

test('the path: client → DNS → ClusterIP → rule per node → endpoints (not ready greyed with why) → Pods (selector labels marked) → containerPort', () => {
  const s = seeded();
  const g = buildPath({
    store: s, svcKey: 'shop/web', portIndex: 0,
    trace: { service: 'created', clusterIP: '10.96.0.50', readyEndpoints: 1, rules: { n1: 1 }, dns: ['10.96.0.50'] },
    ruleEvidence: { n1: ['add element ip clusterip service-ips { 10.96.0.50 . tcp . 80 : goto service-X }'] },
    flowCounts: new Map([['10.244.0.3:8080', 4]]),
  });
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  assert.equal(byId.get('dns')!.state, 'ok');
  assert.match(byId.get('vip')!.lines[0]!, /^10\.96\.0\.50:80\/TCP$/);
  assert.equal(byId.get('rule:n1')!.state, 'ok');
  assert.match(byId.get('rule:n1')!.detail!, /service-ips/);
  assert.equal(byId.get('ep:10.244.0.3')!.count, 4);
  assert.equal(byId.get('ep:10.244.0.3')!.lines[0], '10.244.0.3:8080', 'named targetPort resolved per Pod');
  assert.equal(byId.get('ep:10.244.0.4')!.state, 'off');
  assert.equal(byId.get('ep:10.244.0.4')!.why, 'readiness probe failed: HTTP 404');
  assert.deepEqual(byId.get('pod:web-1')!.labels, [{ k: 'app', v: 'web', match: true }, { k: 'tier', v: 'fe', match: false }]);
  assert.match(byId.get('cport:web-1')!.lines[0]!, /app:8080\/TCP \(http\)/);
  assert.equal(byId.get('pod:web-3')!.state, 'off', 'selected Pod without an endpoint is drawn greyed');
  assert.ok(g.edges.some((e) => e.from === 'rule:n1' && e.to === 'ep:10.244.0.4' && e.off));
  // Counts do not change the shape (no new layout for a counter tick); a new endpoint does.
  const again = buildPath({ store: s, svcKey: 'shop/web', portIndex: 0, flowCounts: new Map([['10.244.0.3:8080', 9]]),
    trace: { service: 'created', clusterIP: '10.96.0.50', readyEndpoints: 1, rules: { n1: 1 }, dns: ['10.96.0.50'] }, ruleEvidence: { n1: ['x'] } });
  assert.equal(again.shape, g.shape);
});

test('the path of a Service whose selector matches nothing: one greyed "0 endpoints" box saying so; the rule rejects', () => {
  const s = seeded();
  const g = buildPath({ store: s, svcKey: 'shop/typo', portIndex: 0, trace: { service: 'created', rules: { n1: -1 } } });
  const none = g.nodes.find((n) => n.id === 'none')!;
  assert.equal(none.state, 'off');
  assert.match(none.why!, /selector app=wbe matches no ready Pod/);
  const rule = g.nodes.find((n) => n.id === 'rule:n1')!;
  assert.equal(rule.state, 'off');
  assert.match(rule.lines[0]!, /reject/);
});
